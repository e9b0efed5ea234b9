/*
 * pq_lib.h — libpq, opened when a run first connects to PostgreSQL (base/dynlib.h says why),
 * and the functions of it postgres.c calls, as sl_pq.<name without "PQ">.
 *
 * Types and constants come from libpq's own header (libpq-fe.h, installed with libpq-dev);
 * each pointer has the type of the function it stands for (__typeof__), so a call through it
 * is checked as a direct call would be. The library is libpq.so.5 (Debian: libpq5), or the
 * file SLUICE_LIBPQ names.
 */
#ifndef SLUICE_PQ_LIB_H
#define SLUICE_PQ_LIB_H

#include <libpq-fe.h>

#include "base/error.h"

struct sl_pq_api {
    __typeof__(PQcancel) *cancel;
    __typeof__(PQclear) *clear;
    __typeof__(PQcmdStatus) *cmdStatus;
    __typeof__(PQcmdTuples) *cmdTuples;
    __typeof__(PQconnectdbParams) *connectdbParams;
    __typeof__(PQconninfoFree) *conninfoFree;
    __typeof__(PQconninfoParse) *conninfoParse;
    __typeof__(PQdb) *db;
    __typeof__(PQerrorMessage) *errorMessage;
    __typeof__(PQexec) *exec;
    __typeof__(PQexecParams) *execParams;
    __typeof__(PQfinish) *finish;
    __typeof__(PQfname) *fname;
    __typeof__(PQfreeCancel) *freeCancel;
    __typeof__(PQfreemem) *freemem;
    __typeof__(PQftype) *ftype;
    __typeof__(PQgetCancel) *getCancel;
    __typeof__(PQgetResult) *getResult;
    __typeof__(PQgetisnull) *getisnull;
    __typeof__(PQgetvalue) *getvalue;
    __typeof__(PQhost) *host;
    __typeof__(PQnfields) *nfields;
    __typeof__(PQntuples) *ntuples;
    __typeof__(PQport) *port;
    __typeof__(PQputCopyData) *putCopyData;
    __typeof__(PQputCopyEnd) *putCopyEnd;
    __typeof__(PQreset) *reset;
    __typeof__(PQresultErrorField) *resultErrorField;
    __typeof__(PQresultErrorMessage) *resultErrorMessage;
    __typeof__(PQresultStatus) *resultStatus;
    __typeof__(PQsendQuery) *sendQuery;
    __typeof__(PQserverVersion) *serverVersion;
    __typeof__(PQsetNoticeProcessor) *setNoticeProcessor;
    __typeof__(PQsetSingleRowMode) *setSingleRowMode;
    __typeof__(PQstatus) *status;
    __typeof__(PQtransactionStatus) *transactionStatus;
    __typeof__(PQuser) *user;
};

/* Filled by sl_pq_load; read only after it returned 1. */
extern struct sl_pq_api sl_pq;

/* Open libpq once per process. Returns 1, or 0 after failing ctx with DEST: "postgres
 * destination: libpq.so.5 is not installed (...): install ..." */
int sl_pq_load(struct sl_ctx *ctx);

#endif
