/*
 * sql_merge.c — the merge strategies as shared SQL (sql_merge.h).
 *
 * Every statement is built from the dialect of struct sl_sql_merge_ops and run by the
 * back-end; nothing here talks to an engine. A statement that reaches the destination table
 * through its keys is run with scan_d set (SQLite's test builds check its plan, PostgreSQL
 * plans it by the key indexes).
 */
#include "destinations/sql_merge.h"

#include <stdio.h>
#include <string.h>

#define ITEM SL_SQL_ITEM_COL

/* One merge under way. */
struct sl_sql_merge {
    const struct sl_sql_merge_ops *ops;
    void *ud;
    struct sl_effects *fx;
    struct sl_ctx *ctx;
    const struct sl_merge_spec *m;
    struct sl_merge_keys k;
    int *exists;             /* per child: in the dataset or staged */
    int *staged;             /* per child: has staged rows */
    const char *srowid;      /* the root staging copy's row id column */
    const char *drowid;      /* the root dataset table's */
    const char **crowid;     /* per staged child: its staging copy's */
};

/* Collect the keys of m->root. Always call merge_cleanup. */
static sluice_status merge_init(struct sl_sql_merge *g, const struct sl_sql_merge_ops *ops,
                                void *ud, struct sl_effects *fx, struct sl_ctx *ctx,
                                const struct sl_merge_spec *m)
{
    const struct sl_table *root = m->root;
    memset(g, 0, sizeof(*g));
    g->ops = ops;
    g->ud = ud;
    g->fx = fx;
    g->ctx = ctx;
    g->m = m;
    sluice_status rc = sl_merge_keys_init(ctx, root, &g->k);
    if (rc)
        return rc;
    g->exists = sl_calloc(m->nchildren + 1, sizeof(int));
    g->staged = sl_calloc(m->nchildren + 1, sizeof(int));
    g->crowid = sl_calloc(m->nchildren + 1, sizeof(char *));
    if (!g->exists || !g->staged || !g->crowid)
        return sl_nomem(ctx);
    return SLUICE_OK;
}

/* Check that existing nested table i can be linked to its root (not needed by scd2). */
static sluice_status check_child(struct sl_sql_merge *g, size_t i)
{
    const struct sl_merge_spec *m = g->m;
    if (m->strategy == SL_MERGE_SCD2 || sl_sql_root_link(m->root, m->children[i]))
        return SLUICE_OK;
    return sl_fail_at(g->ctx, SLUICE_ERR_DATA_SCHEMA, m->root->resource, -1, NULL,
                      "child table %s of merge table %s has no _dlt_root_id column",
                      m->children[i]->name, m->root->name);
}

static void merge_cleanup(struct sl_sql_merge *g)
{
    sl_free(g->exists);
    sl_free(g->staged);
    sl_free(g->crowid);
    g->exists = g->staged = NULL;
    g->crowid = NULL;
    sl_merge_keys_cleanup(&g->k);
}

/* ---- building blocks --------------------------------------------------------------------- */

static void tab(struct sl_sql_merge *g, struct sl_sql *q, const char *name, int staging)
{
    g->ops->table(q, g->ud, name, staging);
}

static void col(struct sl_sql_merge *g, struct sl_sql *q, const char *alias, const char *name)
{
    sl_sql_put(q, alias);
    sl_sql_ch(q, '.');
    g->ops->id(q, name);
}

/* <temp>"name" */
static void scratch(struct sl_sql_merge *g, struct sl_sql *q, const char *name)
{
    sl_sql_put(q, g->ops->temp);
    sl_sql_id(q, name);
}

/* Build and run one statement; *changes (may be NULL) gets the rows it changed. */
static sluice_status run(struct sl_sql_merge *g, struct sl_sql *q, int scan_d, int nparams,
                         int64_t *changes, const char *what)
{
    const char *params[2] = { g->m->boundary, g->m->active };
    int64_t n = 0;
    const char *text = sl_sql_text(g->ctx, q);
    sluice_status rc = text ? g->ops->exec(g->ud, text, scan_d, nparams, params, &n, what)
                            : g->ctx->code;
    if (changes)
        *changes = rc ? 0 : n;
    return rc;
}

/* (Re)create a scratch table: "name" (cols), cols as "a" type pairs. */
static sluice_status make_scratch(struct sl_sql_merge *g, const char *name,
                                  const char *const *cols, size_t n)
{
    struct sl_sql q;
    sl_sql_init(&q);
    sl_sql_put(&q, "DROP TABLE IF EXISTS ");
    scratch(g, &q, name);
    sl_sql_put(&q, "; CREATE TEMP TABLE ");
    sl_sql_id(&q, name);
    sl_sql_put(&q, " (");
    for (size_t i = 0; i < n; i++) {
        if (i)
            sl_sql_put(&q, ", ");
        sl_sql_id(&q, cols[2 * i]);
        sl_sql_ch(&q, ' ');
        sl_sql_put(&q, cols[2 * i + 1]);
    }
    sl_sql_ch(&q, ')');
    sluice_status rc = run(g, &q, 0, 0, NULL, "merge: create a scratch table");
    sl_sql_cleanup(&q);
    return rc;
}

static sluice_status make_ins(struct sl_sql_merge *g)
{
    const char *cols[] = { "rid", g->ops->rid_type, "id", "text", "item", g->ops->int_type,
                           "del", g->ops->bool_type };
    return make_scratch(g, "_sl_ins", cols, 4);
}

/* The typed columns of t, comma separated, each prefixed by alias (NULL: bare). */
static void col_list(struct sl_sql_merge *g, struct sl_sql *q, const struct sl_table *t,
                     const char *alias)
{
    int first = 1;
    for (size_t i = 0; i < t->ncols; i++) {
        if (t->cols[i].type == SL_DT_NONE)
            continue;
        if (!first)
            sl_sql_put(q, ", ");
        first = 0;
        if (alias)
            col(g, q, alias, t->cols[i].name);
        else
            g->ops->id(q, t->cols[i].name);
    }
}

/* "a.k1, a.k2, ..." over the key columns. */
static void key_list(struct sl_sql_merge *g, struct sl_sql *q, const char *a,
                     const struct sl_column *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            sl_sql_put(q, ", ");
        col(g, q, a, keys[i]->name);
    }
}

/* "a.k1 = b.k1 AND ..." over the key columns. */
static void key_match(struct sl_sql_merge *g, struct sl_sql *q, const char *a, const char *b,
                      const struct sl_column *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            sl_sql_put(q, " AND ");
        col(g, q, a, keys[i]->name);
        sl_sql_put(q, " = ");
        col(g, q, b, keys[i]->name);
    }
}

/* "alias.rowid" */
static void rid(struct sl_sql *q, const char *alias, const char *rowid)
{
    sl_sql_put(q, alias);
    sl_sql_ch(q, '.');
    sl_sql_put(q, rowid);
}

/* "INSERT INTO <t> (cols) SELECT s.cols FROM <t's staging copy> AS s WHERE " */
static void insert_select_head(struct sl_sql_merge *g, struct sl_sql *q,
                               const struct sl_table *t)
{
    sl_sql_put(q, "INSERT INTO ");
    tab(g, q, t->name, 0);
    sl_sql_put(q, " (");
    col_list(g, q, t, NULL);
    sl_sql_put(q, ") SELECT ");
    col_list(g, q, t, "s");
    sl_sql_put(q, " FROM ");
    tab(g, q, t->name, 1);
    sl_sql_put(q, " AS s WHERE ");
}

/* " AND s.<rowid> IN (SELECT max(g.<rowid>) FROM <t's staging copy> AS g WHERE ": the caller
 * adds the condition on g and " GROUP BY g.\"_dlt_id\")" (of a row key staged twice among the
 * rows that qualify, the last copy wins). */
static void last_copy_head(struct sl_sql_merge *g, struct sl_sql *q, const struct sl_table *t,
                           const char *rowid)
{
    sl_sql_put(q, " AND ");
    rid(q, "s", rowid);
    sl_sql_put(q, " IN (SELECT max(");
    rid(q, "g", rowid);
    sl_sql_put(q, ") FROM ");
    tab(g, q, t->name, 1);
    sl_sql_put(q, " AS g WHERE ");
}

/* " IN (SELECT \"rid\" FROM <temp>\"_sl_ins\"<cond>)" */
static void in_ins(struct sl_sql_merge *g, struct sl_sql *q, const char *what, const char *cond)
{
    sl_sql_put(q, " IN (SELECT ");
    sl_sql_put(q, what);
    sl_sql_put(q, " FROM ");
    scratch(g, q, "_sl_ins");
    sl_sql_put(q, cond);
    sl_sql_ch(q, ')');
}

/* ---- steps ------------------------------------------------------------------------------- */

/* Collect into <temp>"_sl_del" the _dlt_id and row id of destination rows matching a staged
 * key. winners: the keys are the primary keys of the winners in <temp>"_sl_ins" (one per
 * distinct staged primary key, so the same set), and each collected row keeps in "w" the
 * row id of the winner it matched: the winners that replace a row are then counted from the
 * scratch tables alone, without a second look into the destination. */
static sluice_status collect_deletes(struct sl_sql_merge *g, const struct sl_column **keys,
                                     size_t n, int winners)
{
    const struct sl_table *root = g->m->root;
    struct sl_sql q;
    sl_sql_init(&q);
    sl_sql_put(&q, "INSERT INTO ");
    scratch(g, &q, "_sl_del");
    sl_sql_put(&q, winners ? " (\"id\", \"rid\", \"w\")" : " (\"id\", \"rid\")");
    sl_sql_put(&q, " SELECT d.\"_dlt_id\", ");
    rid(&q, "d", g->drowid);
    sl_sql_put(&q, winners ? ", k.\"w\" FROM (SELECT " : " FROM (SELECT DISTINCT ");
    for (size_t i = 0; i < n; i++) {
        char alias[32];
        snprintf(alias, sizeof(alias), " AS k%zu", i);
        if (i)
            sl_sql_put(&q, ", ");
        col(g, &q, "s", keys[i]->name);
        sl_sql_put(&q, alias);
    }
    if (winners) {
        sl_sql_put(&q, ", i.\"rid\" AS \"w\" FROM ");
        scratch(g, &q, "_sl_ins");
        sl_sql_put(&q, " AS i JOIN ");
        tab(g, &q, root->name, 1);
        sl_sql_put(&q, " AS s ON ");
        rid(&q, "s", g->srowid);
        sl_sql_put(&q, " = i.\"rid\") AS k ");
    } else {
        sl_sql_put(&q, " FROM ");
        tab(g, &q, root->name, 1);
        sl_sql_put(&q, " AS s) AS k ");
    }
    sl_sql_put(&q, g->ops->key_join);
    sl_sql_ch(&q, ' ');
    tab(g, &q, root->name, 0);
    sl_sql_put(&q, " AS d ON ");
    for (size_t i = 0; i < n; i++) {
        char alias[32];
        snprintf(alias, sizeof(alias), " = k.k%zu", i);
        if (i)
            sl_sql_put(&q, " AND ");
        col(g, &q, "d", keys[i]->name);
        sl_sql_put(&q, alias);
    }
    sluice_status rc = run(g, &q, 1, 0, NULL, "merge: find the rows to replace");
    sl_sql_cleanup(&q);
    return rc;
}

/*
 * <temp>"_sl_ins" (rid, id, item, del): the staged root rows that win (sql_merge.h).
 * drop_deleted: hard deletes are dropped BEFORE choosing (insert-only, as dlt filters them
 * first); otherwise winners that are deletes are kept with del true. absent_only: only
 * winners whose key is not in the destination.
 */
static sluice_status pick_winners(struct sl_sql_merge *g, int drop_deleted, int absent_only)
{
    const struct sl_table *root = g->m->root;
    const struct sl_merge_keys *k = &g->k;
    const struct sl_sql_merge_ops *o = g->ops;
    struct sl_sql q;
    sl_sql_init(&q);
    sluice_status rc = make_ins(g);
    if (rc)
        goto done;
    sl_sql_put(&q, "INSERT INTO ");
    scratch(g, &q, "_sl_ins");
    sl_sql_put(&q, " (\"rid\", \"id\", \"item\", \"del\") "
                   "SELECT \"_sl_r\", \"_sl_i\", \"_sl_it\", \"_sl_x\" FROM (SELECT ");
    rid(&q, "s", g->srowid);
    sl_sql_put(&q, " AS \"_sl_r\", s.\"_dlt_id\" AS \"_sl_i\", s.\"" ITEM "\" AS \"_sl_it\", ");
    sl_sql_deleted_expr(&q, "s", k->hd, o->true_lit, o->false_lit);
    sl_sql_put(&q, " AS \"_sl_x\"");
    for (size_t i = 0; i < k->npk; i++) {
        char alias[48];
        snprintf(alias, sizeof(alias), " AS \"_sl_k%zu\"", i);
        sl_sql_put(&q, ", ");
        col(g, &q, "s", k->pk[i]->name);
        sl_sql_put(&q, alias);
    }
    if (k->npk) {
        sl_sql_put(&q, ", ROW_NUMBER() OVER (PARTITION BY ");
        key_list(g, &q, "s", k->pk, k->npk);
        sl_sql_put(&q, " ORDER BY ");
        if (k->dedup) {
            col(g, &q, "s", k->dedup->name);
            sl_sql_put(&q, k->dedup_desc ? " DESC NULLS LAST, " : " ASC NULLS LAST, ");
        }
        sl_sql_put(&q, "s.\"" ITEM "\" DESC, ");
        rid(&q, "s", g->srowid);
        sl_sql_put(&q, " DESC) AS \"_sl_n\"");
    } else {
        sl_sql_put(&q, ", 1 AS \"_sl_n\"");
    }
    sl_sql_put(&q, " FROM ");
    tab(g, &q, root->name, 1);
    sl_sql_put(&q, " AS s");
    if (drop_deleted) {
        sl_sql_put(&q, " WHERE NOT ");
        sl_sql_deleted_expr(&q, "s", k->hd, o->true_lit, o->false_lit);
    }
    sl_sql_put(&q, ") AS w WHERE \"_sl_n\" = 1");
    if (absent_only) {
        sl_sql_put(&q, " AND NOT EXISTS (SELECT 1 FROM ");
        tab(g, &q, root->name, 0);
        sl_sql_put(&q, " AS d WHERE ");
        for (size_t i = 0; i < k->npk; i++) {
            char alias[48];
            snprintf(alias, sizeof(alias), " = w.\"_sl_k%zu\"", i);
            if (i)
                sl_sql_put(&q, " AND ");
            col(g, &q, "d", k->pk[i]->name);
            sl_sql_put(&q, alias);
        }
        sl_sql_put(&q, ")");
    }
    rc = run(g, &q, 0, 0, NULL, "merge: pick the rows to insert");
done:
    sl_sql_cleanup(&q);
    return rc;
}

/* INSERT INTO final (typed cols) SELECT them FROM staging AS s: the root rows in
 * <temp>"_sl_ins" (link NULL; with absent, only those whose absent->pk is not in the
 * destination), or the nested rows of those roots (link: the child's column holding the
 * root's _dlt_id) that come from the same item; deleted winners excluded. */
static sluice_status insert_from_staging(struct sl_sql_merge *g, const struct sl_table *t,
                                         const char *rowid, const char *link,
                                         const struct sl_merge_keys *absent)
{
    struct sl_sql q;
    int64_t n = 0;
    sl_sql_init(&q);
    insert_select_head(g, &q, t);
    if (!link) {
        rid(&q, "s", rowid);
        in_ins(g, &q, "\"rid\"", " WHERE NOT \"del\"");
        if (absent) {
            sl_sql_put(&q, " AND NOT EXISTS (SELECT 1 FROM ");
            tab(g, &q, t->name, 0);
            sl_sql_put(&q, " AS d WHERE ");
            key_match(g, &q, "d", "s", absent->pk, absent->npk);
            sl_sql_put(&q, ")");
        }
    } else {
        /* the item tells apart the nested rows of two staged roots with one _dlt_id (upsert's
         * key hash); rows of older packages have item 0: of a nested row key staged twice,
         * the last copy wins */
        for (int pass = 0; pass < 2; pass++) {
            const char *a = pass ? "g" : "s";
            if (pass && sl_sql_typed_col(t, "_dlt_id") < 0)
                break;
            if (pass)
                last_copy_head(g, &q, t, rowid);
            sl_sql_put(&q, "(");
            col(g, &q, a, link);
            sl_sql_put(&q, ", ");
            col(g, &q, a, ITEM);
            sl_sql_put(&q, ")");
            in_ins(g, &q, "\"id\", \"item\"", " WHERE NOT \"del\"");
            if (pass)
                sl_sql_put(&q, " GROUP BY g.\"_dlt_id\")");
        }
    }
    sl_sql_put(&q, " ORDER BY ");
    rid(&q, "s", rowid);
    sluice_status rc = run(g, &q, 0, 0, &n, "merge: insert the staged rows");
    if (rc)
        sl_fail_locate(g->ctx, t->resource, -1, NULL);
    else
        sl_effects_add(g->fx, t->name, n, 0, 0);
    sl_sql_cleanup(&q);
    return rc;
}

/* Insert the winners of <temp>"_sl_ins" that are not deletes (with absent: only the roots
 * whose key is not in the destination), and the nested rows of all of them. */
static sluice_status insert_winners(struct sl_sql_merge *g, const struct sl_merge_keys *absent)
{
    const struct sl_merge_spec *m = g->m;
    sluice_status rc = insert_from_staging(g, m->root, g->srowid, NULL, absent);
    for (size_t i = 0; i < m->nchildren && rc == SLUICE_OK; i++) {
        if (!g->staged[i])
            continue;
        rc = insert_from_staging(g, m->children[i], g->crowid[i],
                                 sl_sql_root_link(m->root, m->children[i]), NULL);
    }
    return rc;
}

/* Delete the nested rows whose root _dlt_id is in (SELECT <sel>). */
static sluice_status delete_children(struct sl_sql_merge *g, const char *sel)
{
    const struct sl_merge_spec *m = g->m;
    struct sl_sql q;
    sluice_status rc = SLUICE_OK;
    sl_sql_init(&q);
    for (size_t i = 0; i < m->nchildren && rc == SLUICE_OK; i++) {
        if (!g->exists[i])
            continue;
        int64_t n = 0;
        sl_sql_reset(&q);
        sl_sql_put(&q, "DELETE FROM ");
        tab(g, &q, m->children[i]->name, 0);
        sl_sql_put(&q, " AS d WHERE ");
        col(g, &q, "d", sl_sql_root_link(m->root, m->children[i]));
        sl_sql_put(&q, " IN (SELECT ");
        sl_sql_put(&q, sel);
        sl_sql_put(&q, ")");
        rc = run(g, &q, 1, 0, &n, "merge: delete replaced child rows");
        if (rc == SLUICE_OK)
            sl_effects_add(g->fx, m->children[i]->name, 0, 0, n);
    }
    sl_sql_cleanup(&q);
    return rc;
}

/* ---- strategies -------------------------------------------------------------------------- */

/* delete-insert: destination rows matching a staged primary key OR merge key go with their
 * nested rows, then the winners come in with theirs. */
static sluice_status merge_delete_insert(struct sl_sql_merge *g)
{
    const struct sl_table *root = g->m->root;
    const struct sl_merge_keys *k = &g->k;
    struct sl_sql q;
    int64_t updated = 0;
    sl_sql_init(&q);
    /* the winners first (they come from the staging copy alone): the rows collected for
     * their primary keys tell which of them replace a row, and a delete and an insert of the
     * same key is one update in the run's net effect */
    sluice_status rc = pick_winners(g, 0, 0);
    if (rc == SLUICE_OK && (k->npk || k->nmk)) {
        const char *cols[] = { "id", "text", "rid", g->ops->rid_type, "w", g->ops->rid_type };
        rc = make_scratch(g, "_sl_del", cols, 3);
        if (rc == SLUICE_OK && k->npk)
            rc = collect_deletes(g, k->pk, k->npk, 1);
        if (rc == SLUICE_OK && k->npk) {
            sl_sql_put(&q, "SELECT count(*) FROM ");
            scratch(g, &q, "_sl_ins");
            sl_sql_put(&q, " AS i WHERE NOT i.\"del\" AND i.\"rid\" IN (SELECT \"w\" FROM ");
            scratch(g, &q, "_sl_del");
            sl_sql_put(&q, ")");
            const char *count = sl_sql_text(g->ctx, &q);
            rc = count ? g->ops->count(g->ud, count, &updated, "merge: count the rows to update")
                       : g->ctx->code;
            sl_sql_reset(&q);
        }
        if (rc == SLUICE_OK && k->nmk)
            rc = collect_deletes(g, k->mk, k->nmk, 0);
        if (rc == SLUICE_OK) {
            sl_sql_put(&q, "\"id\" FROM ");
            scratch(g, &q, "_sl_del");
            const char *sel = sl_sql_text(g->ctx, &q);
            rc = sel ? delete_children(g, sel) : g->ctx->code;
            sl_sql_reset(&q);
        }
        if (rc == SLUICE_OK) {
            int64_t n = 0;
            sl_sql_put(&q, "DELETE FROM ");
            tab(g, &q, root->name, 0);
            sl_sql_put(&q, " AS d WHERE ");
            rid(&q, "d", g->drowid);
            sl_sql_put(&q, " IN (SELECT \"rid\" FROM ");
            scratch(g, &q, "_sl_del");
            sl_sql_put(&q, ")");
            rc = run(g, &q, 1, 0, &n, "merge: delete replaced rows");
            if (rc == SLUICE_OK)
                sl_effects_add(g->fx, root->name, 0, 0, n);
        }
    }
    if (rc == SLUICE_OK)
        rc = insert_winners(g, NULL);
    if (rc == SLUICE_OK)
        sl_effects_add(g->fx, root->name, -updated, updated, -updated);
    sl_sql_cleanup(&q);
    return rc;
}

/* upsert: by primary key, delete / update / insert the root; the nested rows of every staged
 * root are replaced by the winner's. */
static sluice_status merge_upsert(struct sl_sql_merge *g)
{
    const struct sl_table *root = g->m->root;
    const struct sl_merge_keys *k = &g->k;
    struct sl_sql q;
    int64_t n = 0;
    sl_sql_init(&q);
    sluice_status rc = pick_winners(g, 0, 0);
    if (rc == SLUICE_OK) {
        /* nested rows of every staged root go; the winners' come back from staging */
        sl_sql_put(&q, "\"_dlt_id\" FROM ");
        tab(g, &q, root->name, 1);
        const char *sel = sl_sql_text(g->ctx, &q);
        rc = sel ? delete_children(g, sel) : g->ctx->code;
    }
    if (rc == SLUICE_OK) { /* winners that are deletes */
        sl_sql_reset(&q);
        sl_sql_put(&q, "DELETE FROM ");
        tab(g, &q, root->name, 0);
        sl_sql_put(&q, " AS d WHERE ");
        rid(&q, "d", g->drowid);
        sl_sql_put(&q, " IN (SELECT ");
        rid(&q, "d2", g->drowid);
        sl_sql_put(&q, " FROM (SELECT s.* FROM ");
        tab(g, &q, root->name, 1);
        sl_sql_put(&q, " AS s WHERE ");
        rid(&q, "s", g->srowid);
        in_ins(g, &q, "\"rid\"", " WHERE \"del\"");
        sl_sql_put(&q, ") AS k ");
        sl_sql_put(&q, g->ops->key_join);
        sl_sql_ch(&q, ' ');
        tab(g, &q, root->name, 0);
        sl_sql_put(&q, " AS d2 ON ");
        key_match(g, &q, "d2", "k", k->pk, k->npk);
        sl_sql_put(&q, ")");
        rc = run(g, &q, 1, 0, &n, "merge: delete rows");
        if (rc == SLUICE_OK)
            sl_effects_add(g->fx, root->name, 0, 0, n);
    }
    if (rc == SLUICE_OK) { /* update the winners whose key is there: every column */
        sl_sql_reset(&q);
        sl_sql_put(&q, "UPDATE ");
        tab(g, &q, root->name, 0);
        sl_sql_put(&q, " AS d SET ");
        int first = 1;
        for (size_t i = 0; i < root->ncols; i++) {
            if (root->cols[i].type == SL_DT_NONE)
                continue;
            if (!first)
                sl_sql_put(&q, ", ");
            first = 0;
            g->ops->id(&q, root->cols[i].name);
            sl_sql_put(&q, " = ");
            col(g, &q, "s", root->cols[i].name);
        }
        sl_sql_put(&q, " FROM (SELECT w.* FROM ");
        tab(g, &q, root->name, 1);
        sl_sql_put(&q, " AS w WHERE ");
        rid(&q, "w", g->srowid);
        in_ins(g, &q, "\"rid\"", " WHERE NOT \"del\"");
        sl_sql_put(&q, ") AS s WHERE ");
        key_match(g, &q, "d", "s", k->pk, k->npk);
        rc = run(g, &q, 1, 0, &n, "merge: update rows");
        if (rc == SLUICE_OK)
            sl_effects_add(g->fx, root->name, 0, n, 0);
    }
    if (rc == SLUICE_OK) /* insert the winners whose key is not there, and every winner's
                          * nested rows */
        rc = insert_winners(g, k);
    sl_sql_cleanup(&q);
    return rc;
}

/* insert-only: winners among the staged rows that are not deletes, whose key is not in the
 * destination, come in with their nested rows; nothing else changes. */
static sluice_status merge_insert_only(struct sl_sql_merge *g)
{
    sluice_status rc = pick_winners(g, 1, 1);
    if (rc == SLUICE_OK)
        rc = insert_winners(g, NULL);
    return rc;
}

/* "<alias>.<valid_to> IS NULL" or "= <active>": the row is an active version. */
static void active_cond(struct sl_sql_merge *g, struct sl_sql *q, const char *alias)
{
    col(g, q, alias, g->m->valid_to);
    if (g->m->active) {
        sl_sql_put(q, " = ");
        sl_sql_put(q, g->ops->param[1]);
    } else {
        sl_sql_put(q, " IS NULL");
    }
}

/* How a staged nested row (alias a) of children[i] hangs from what this merge inserts: its
 * root's or parent's (_dlt_id, item) among the inserted roots (<temp>"_sl_ins") or among the
 * selected rows of its parent table (<temp>"_sl_nest", tbl = the parent's index). */
static void scd2_link(struct sl_sql_merge *g, struct sl_sql *q, size_t i, const char *a)
{
    const struct sl_merge_spec *m = g->m;
    const struct sl_table *t = m->children[i];
    const char *link = sl_sql_root_link(m->root, t);
    long parent = -1;
    for (size_t j = 0; !link && j < i; j++)
        if (strcmp(m->children[j]->name, t->parent) == 0)
            parent = (long)j;
    sl_sql_put(q, "(");
    col(g, q, a, link ? link : "_dlt_parent_id");
    sl_sql_put(q, ", ");
    col(g, q, a, ITEM);
    sl_sql_put(q, ") IN (SELECT \"id\", \"item\" FROM ");
    if (link) {
        scratch(g, q, "_sl_ins");
        sl_sql_put(q, ")");
    } else {
        char tbl[64];
        scratch(g, q, "_sl_nest");
        snprintf(tbl, sizeof(tbl), " WHERE \"tbl\" = %ld)", parent);
        sl_sql_put(q, tbl);
    }
}

/* scd2: active versions whose row version is not staged are retired (within the staged merge
 * keys, when there are merge keys); staged versions not active yet are inserted, one per
 * version (the last staged copy), valid from the boundary; their nested rows come along unless
 * their _dlt_id is already there (a version inserted again keeps the nested rows of its first
 * time, as they have the same ids). */
static sluice_status merge_scd2(struct sl_sql_merge *g)
{
    const struct sl_merge_spec *m = g->m;
    const struct sl_table *root = m->root;
    const struct sl_merge_keys *k = &g->k;
    const struct sl_sql_merge_ops *o = g->ops;
    int np = m->active ? 2 : 1; /* parameters the statements naming `active` use */
    int64_t n = 0;
    struct sl_sql q;
    sl_sql_init(&q);
    sluice_status rc;
    /* 1. retire */
    sl_sql_put(&q, "UPDATE ");
    tab(g, &q, root->name, 0);
    sl_sql_put(&q, " AS d SET ");
    o->id(&q, m->valid_to);
    sl_sql_put(&q, " = ");
    sl_sql_put(&q, o->param[0]);
    sl_sql_put(&q, " WHERE ");
    active_cond(g, &q, "d");
    sl_sql_put(&q, " AND ");
    col(g, &q, "d", m->row_version);
    sl_sql_put(&q, " NOT IN (SELECT ");
    col(g, &q, "s", m->row_version);
    sl_sql_put(&q, " FROM ");
    tab(g, &q, root->name, 1);
    sl_sql_put(&q, " AS s)");
    if (k->nmk) { /* only within the merge keys of this load (dlt's incremental scd2) */
        sl_sql_put(&q, " AND (");
        key_list(g, &q, "d", k->mk, k->nmk);
        sl_sql_put(&q, ") IN (SELECT ");
        key_list(g, &q, "s", k->mk, k->nmk);
        sl_sql_put(&q, " FROM ");
        tab(g, &q, root->name, 1);
        sl_sql_put(&q, " AS s)");
    }
    rc = run(g, &q, k->nmk > 0, np, &n, "merge: retire absent versions");
    if (rc == SLUICE_OK) /* a retired version is changed in place: an update */
        sl_effects_add(g->fx, root->name, 0, n, 0);
    if (rc == SLUICE_OK) /* 2. the versions to insert */
        rc = make_ins(g);
    if (rc == SLUICE_OK) {
        const char *cols[] = { "tbl", o->int_type, "id", "text", "item", o->int_type };
        rc = make_scratch(g, "_sl_nest", cols, 3);
    }
    if (rc == SLUICE_OK) {
        sl_sql_reset(&q);
        sl_sql_put(&q, "INSERT INTO ");
        scratch(g, &q, "_sl_ins");
        sl_sql_put(&q, " (\"rid\", \"id\", \"item\", \"del\") SELECT \"_sl_r\", \"_sl_i\", "
                       "\"_sl_it\", ");
        sl_sql_put(&q, o->false_lit);
        sl_sql_put(&q, " FROM (SELECT ");
        rid(&q, "s", g->srowid);
        sl_sql_put(&q, " AS \"_sl_r\", s.\"_dlt_id\" AS \"_sl_i\", s.\"" ITEM
                       "\" AS \"_sl_it\", ROW_NUMBER() OVER (PARTITION BY ");
        col(g, &q, "s", m->row_version);
        sl_sql_put(&q, " ORDER BY s.\"" ITEM "\" DESC, ");
        rid(&q, "s", g->srowid);
        sl_sql_put(&q, " DESC) AS \"_sl_n\" FROM ");
        tab(g, &q, root->name, 1);
        sl_sql_put(&q, " AS s WHERE NOT EXISTS (SELECT 1 FROM ");
        tab(g, &q, root->name, 0);
        sl_sql_put(&q, " AS d WHERE ");
        col(g, &q, "d", m->row_version);
        sl_sql_put(&q, " = ");
        col(g, &q, "s", m->row_version);
        sl_sql_put(&q, " AND ");
        active_cond(g, &q, "d");
        sl_sql_put(&q, ")) AS w WHERE \"_sl_n\" = 1");
        rc = run(g, &q, 1, m->active ? 2 : 0, NULL, "merge: pick the versions to insert");
    }
    if (rc == SLUICE_OK) { /* 3. insert them, valid from the boundary */
        sl_sql_reset(&q);
        sl_sql_put(&q, "INSERT INTO ");
        tab(g, &q, root->name, 0);
        sl_sql_put(&q, " (");
        col_list(g, &q, root, NULL);
        sl_sql_put(&q, ") SELECT ");
        int first = 1;
        for (size_t i = 0; i < root->ncols; i++) {
            const char *c = root->cols[i].name;
            if (root->cols[i].type == SL_DT_NONE)
                continue;
            if (!first)
                sl_sql_put(&q, ", ");
            first = 0;
            if (strcmp(c, m->valid_from) == 0)
                sl_sql_put(&q, o->param[0]);
            else if (strcmp(c, m->valid_to) == 0)
                sl_sql_put(&q, o->param[1]);
            else
                col(g, &q, "s", c);
        }
        sl_sql_put(&q, " FROM ");
        tab(g, &q, root->name, 1);
        sl_sql_put(&q, " AS s WHERE ");
        rid(&q, "s", g->srowid);
        in_ins(g, &q, "\"rid\"", "");
        sl_sql_put(&q, " ORDER BY ");
        rid(&q, "s", g->srowid);
        rc = run(g, &q, 0, 2, &n, "merge: insert the new versions");
        if (rc == SLUICE_OK)
            sl_effects_add(g->fx, root->name, n, 0, 0);
    }
    for (size_t i = 0; i < m->nchildren && rc == SLUICE_OK; i++) { /* 4. their nested rows */
        const struct sl_table *t = m->children[i];
        if (!g->staged[i])
            continue;
        if (!g->crowid[i] || sl_sql_typed_col(t, "_dlt_id") < 0 ||
            (!sl_sql_root_link(root, t) && sl_sql_typed_col(t, "_dlt_parent_id") < 0)) {
            rc = sl_fail_at(g->ctx, SLUICE_ERR_DATA_SCHEMA, root->resource, -1, NULL,
                            "nested table %s of scd2 table %s lacks _dlt_id, _dlt_parent_id or "
                            "a rowid name",
                            t->name, root->name);
            break;
        }
        sl_sql_reset(&q);
        char head[64];
        sl_sql_put(&q, "INSERT INTO ");
        scratch(g, &q, "_sl_nest");
        snprintf(head, sizeof(head), " SELECT %zu, s.", i);
        sl_sql_put(&q, head);
        sl_sql_put(&q, "\"_dlt_id\", s.\"" ITEM "\" FROM ");
        tab(g, &q, t->name, 1);
        sl_sql_put(&q, " AS s WHERE ");
        scd2_link(g, &q, i, "s");
        rc = run(g, &q, 0, 0, NULL, "merge: select the nested rows");
        if (rc)
            break;
        sl_sql_reset(&q);
        insert_select_head(g, &q, t);
        sl_sql_put(&q, "NOT EXISTS (SELECT 1 FROM ");
        tab(g, &q, t->name, 0);
        sl_sql_put(&q, " AS d WHERE d.\"_dlt_id\" = s.\"_dlt_id\")");
        last_copy_head(g, &q, t, g->crowid[i]);
        scd2_link(g, &q, i, "g");
        sl_sql_put(&q, " GROUP BY g.\"_dlt_id\") ORDER BY ");
        rid(&q, "s", g->crowid[i]);
        rc = run(g, &q, 1, 0, &n, "merge: insert the nested rows");
        if (rc)
            sl_fail_locate(g->ctx, t->resource, -1, NULL);
        else
            sl_effects_add(g->fx, t->name, n, 0, 0);
    }
    sl_sql_cleanup(&q);
    return rc;
}

/* The statements of m->strategy. The switch names every strategy and has no default, so
 * -Wswitch (-Wall) fails the build when a strategy is added to schema.h and not here. */
static sluice_status run_strategy(struct sl_sql_merge *g)
{
    switch (g->m->strategy) {
    case SL_MERGE_DELETE_INSERT: return merge_delete_insert(g);
    case SL_MERGE_UPSERT: return merge_upsert(g);
    case SL_MERGE_INSERT_ONLY: return merge_insert_only(g);
    case SL_MERGE_SCD2: return merge_scd2(g);
    case SL_MERGE_DEFAULT: break; /* load.c resolves it before xMerge (struct sl_merge_spec) */
    }
    return sl_fail(g->ctx, SLUICE_ERR_INTERNAL, "merge table %s: merge strategy %d not resolved",
                   g->m->root->name, (int)g->m->strategy);
}

/* Run m->strategy, then drop the scratch tables. */
static sluice_status merge_run(struct sl_sql_merge *g)
{
    const struct sl_table *root = g->m->root;
    sluice_status rc;
    if (sl_sql_typed_col(root, "_dlt_id") < 0)
        return sl_fail_at(g->ctx, SLUICE_ERR_DATA_SCHEMA, root->resource, -1, "_dlt_id",
                          "merge table %s has no _dlt_id column", root->name);
    if ((g->m->strategy == SL_MERGE_UPSERT || g->m->strategy == SL_MERGE_INSERT_ONLY) && !g->k.npk)
        return sl_fail_at(g->ctx, SLUICE_ERR_DATA_SCHEMA, root->resource, -1, NULL,
                          "merge table %s has no primary key column: the merge strategy '%s' "
                          "needs one",
                          root->name, sl_merge_strategy_name(g->m->strategy));
    rc = run_strategy(g);
    if (rc == SLUICE_OK) {
        struct sl_sql q;
        sl_sql_init(&q);
        const char *names[] = { "_sl_del", "_sl_ins", "_sl_nest" };
        for (int i = 0; i < 3; i++) {
            sl_sql_put(&q, i ? "; DROP TABLE IF EXISTS " : "DROP TABLE IF EXISTS ");
            scratch(g, &q, names[i]);
        }
        rc = run(g, &q, 0, 0, NULL, "merge: drop the scratch tables");
        sl_sql_cleanup(&q);
    }
    return rc;
}

/* Make the chain ready: both sides of the root and of every staged nested table carry all
 * typed columns; an existing nested table without staged rows is only deleted from (synced
 * for its indexes), never created here. *ready = 0 when nothing of the root is staged. */
static sluice_status chain_prepare(struct sl_sql_merge *g, int *ready)
{
    const struct sl_sql_merge_ops *ops = g->ops;
    const struct sl_merge_spec *m = g->m;
    *ready = 0;
    if (!ops->staged(g->ud, m->root->name))
        return SLUICE_OK; /* nothing staged: nothing to replace */
    sluice_status rc = ops->sync(g->ud, m->root, 0, &g->drowid);
    if (rc == SLUICE_OK)
        rc = ops->sync(g->ud, m->root, 1, &g->srowid);
    for (size_t i = 0; i < m->nchildren && rc == SLUICE_OK; i++) {
        const struct sl_table *c = m->children[i];
        g->staged[i] = ops->staged(g->ud, c->name);
        rc = ops->exists(g->ud, c->name, &g->exists[i]);
        g->exists[i] = g->exists[i] || g->staged[i];
        if (rc || !g->exists[i])
            continue;
        rc = check_child(g, i);
        if (rc == SLUICE_OK)
            rc = ops->sync(g->ud, c, 0, NULL);
        if (rc == SLUICE_OK && g->staged[i])
            rc = ops->sync(g->ud, c, 1, &g->crowid[i]);
    }
    if (rc == SLUICE_OK && ops->ready)
        rc = ops->ready(g->ud, m);
    if (rc)
        return rc;
    *ready = 1;
    return SLUICE_OK;
}

sluice_status sl_sql_merge(const struct sl_sql_merge_ops *ops, void *ud, struct sl_effects *fx,
                           struct sl_ctx *ctx, const struct sl_merge_spec *m)
{
    struct sl_sql_merge g;
    int ready = 0;
    sluice_status rc = merge_init(&g, ops, ud, fx, ctx, m);
    if (rc == SLUICE_OK)
        rc = chain_prepare(&g, &ready);
    if (rc == SLUICE_OK && ready)
        rc = merge_run(&g);
    if (rc == SLUICE_OK && ready && ops->done)
        rc = ops->done(ud, m);
    if (rc)
        sl_fail_locate(ctx, m->root->resource, -1, NULL);
    merge_cleanup(&g);
    return rc;
}

/* ---- the fast first merge (destination.h) ------------------------------------------------ */

sluice_status sl_sql_merge_is_empty(const struct sl_sql_merge_ops *ops, void *ud,
                                    struct sl_ctx *ctx, const char *table, int *empty)
{
    int exists = 0;
    int64_t any = 0;
    *empty = 1;
    sluice_status rc = ops->exists(ud, table, &exists);
    if (rc || !exists)
        return rc;
    struct sl_sql q;
    sl_sql_init(&q);
    sl_sql_put(&q, "SELECT CASE WHEN EXISTS (SELECT 1 FROM ");
    ops->table(&q, ud, table, 0);
    sl_sql_put(&q, ") THEN 1 ELSE 0 END");
    const char *text = sl_sql_text(ctx, &q);
    rc = text ? ops->count(ud, text, &any, "merge: is the table empty") : ctx->code;
    sl_sql_cleanup(&q);
    *empty = !any;
    return rc;
}

sluice_status sl_sql_merge_direct_clean(const struct sl_sql_merge_ops *ops, void *ud,
                                        struct sl_ctx *ctx, const struct sl_merge_spec *m,
                                        int *clean)
{
    struct sl_merge_keys k;
    struct sl_sql ref, q;
    int64_t dirty = 1;
    *clean = 0;
    sl_sql_init(&ref);
    sl_sql_init(&q);
    sluice_status rc = sl_merge_keys_init(ctx, m->root, &k);
    if (rc == SLUICE_OK) {
        ops->table(&ref, ud, m->root->name, 0);
        const char *tref = sl_sql_text(ctx, &ref);
        if (tref)
            sl_sql_merge_dirty(&q, tref, &k, ops->true_lit, ops->false_lit);
        const char *text = tref ? sl_sql_text(ctx, &q) : NULL;
        rc = text ? ops->count(ud, text, &dirty, "merge: check the rows loaded directly")
                  : ctx->code;
    }
    if (rc == SLUICE_OK)
        *clean = !dirty;
    sl_merge_keys_cleanup(&k);
    sl_sql_cleanup(&q);
    sl_sql_cleanup(&ref);
    return rc;
}
