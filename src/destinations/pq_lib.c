/*
 * pq_lib.c — dlopen() libpq and resolve the functions of pq_lib.h.
 */
#include "destinations/pq_lib.h"

#include "base/dynlib.h"

struct sl_pq_api sl_pq;

static struct sl_dynlib lib = SL_DYNLIB_INIT;

int sl_pq_load(struct sl_ctx *ctx)
{
    static const char *const names[] = { "libpq.so.5", "libpq.so" };
#define S(f) { "PQ" #f, &sl_pq.f }
    const struct sl_dynsym syms[] = {
    S(cancel),
    S(clear),
    S(cmdStatus),
    S(cmdTuples),
    S(connectdbParams),
    S(conninfoFree),
    S(conninfoParse),
    S(db),
    S(errorMessage),
    S(exec),
    S(execParams),
    S(finish),
    S(fname),
    S(freeCancel),
    S(freemem),
    S(ftype),
    S(getCancel),
    S(getResult),
    S(getisnull),
    S(getvalue),
    S(host),
    S(nfields),
    S(ntuples),
    S(port),
    S(putCopyData),
    S(putCopyEnd),
    S(reset),
    S(resultErrorField),
    S(resultErrorMessage),
    S(resultStatus),
    S(sendQuery),
    S(serverVersion),
    S(setNoticeProcessor),
    S(setSingleRowMode),
    S(status),
    S(transactionStatus),
    S(user)
    };
#undef S
    if (sl_dynlib_load(&lib, "SLUICE_LIBPQ", names, sizeof(names) / sizeof(names[0]), syms,
                       sizeof(syms) / sizeof(syms[0])))
        return 1;
    sl_fail(ctx, SLUICE_ERR_DEST,
            "postgres destination: %s: install PostgreSQL's client library (Debian: apt install "
            "libpq5), or set SLUICE_LIBPQ to the path of a libpq.so",
            lib.why);
    sl_fail_origin(ctx, "postgres", "");
    return 0;
}
