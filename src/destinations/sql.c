/*
 * sql.c — SQL text shared by the SQL destinations (sql.h).
 *
 * Statement building, identifier quoting, deterministic index names and the merge keys of a
 * root table: what the sqlite and postgres back-ends would otherwise each write again. The
 * dialect differences stay in the back-ends (the literals of sl_sql_deleted_expr are the only
 * parameter here).
 */
#include "destinations/sql.h"

#include <stdio.h>
#include <string.h>

void sl_sql_init(struct sl_sql *q)
{
    sl_buf_init(&q->b, SL_SQL_MAX);
    q->bad = 0;
}

void sl_sql_reset(struct sl_sql *q)
{
    sl_buf_reset(&q->b);
    q->bad = 0;
}

void sl_sql_cleanup(struct sl_sql *q) { sl_buf_cleanup(&q->b); }

void sl_sql_put(struct sl_sql *q, const char *s)
{
    if (!q->bad && sl_buf_puts(&q->b, s) != 0)
        q->bad = 1;
}

void sl_sql_putn(struct sl_sql *q, const char *s, size_t n)
{
    if (!q->bad && sl_buf_append(&q->b, s, n) != 0)
        q->bad = 1;
}

void sl_sql_ch(struct sl_sql *q, char c)
{
    if (!q->bad && sl_buf_putc(&q->b, c) != 0)
        q->bad = 1;
}

static void quoted_part(struct sl_sql *q, const char *s)
{
    for (const char *p = s; p && *p; p++) {
        if (*p == '"')
            sl_sql_ch(q, '"');
        sl_sql_ch(q, *p);
    }
}

void sl_sql_id2(struct sl_sql *q, const char *prefix, const char *name)
{
    sl_sql_ch(q, '"');
    quoted_part(q, prefix);
    quoted_part(q, name);
    sl_sql_ch(q, '"');
}

void sl_sql_id(struct sl_sql *q, const char *name) { sl_sql_id2(q, NULL, name); }

void sl_sql_col(struct sl_sql *q, const char *alias, const char *name)
{
    sl_sql_put(q, alias);
    sl_sql_ch(q, '.');
    sl_sql_id(q, name);
}

void sl_sql_qname(struct sl_sql *q, const char *schema, const char *name)
{
    sl_sql_id(q, schema);
    sl_sql_ch(q, '.');
    sl_sql_id(q, name);
}

const char *sl_sql_text(struct sl_ctx *ctx, struct sl_sql *q)
{
    if (q->bad || !q->b.data) {
        if (q->bad)
            sl_fail(ctx, SLUICE_ERR_NOMEM, "out of memory building SQL (or above %zu bytes)",
                    SL_SQL_MAX);
        else
            sl_nomem(ctx);
        return NULL;
    }
    return q->b.data;
}

uint64_t sl_sql_fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

void sl_sql_index_name(struct sl_sql *out, const char *table, const char *const *cols, size_t n,
                       size_t max)
{
    struct sl_sql name;
    sl_sql_init(&name);
    sl_sql_put(&name, table);
    for (size_t i = 0; i < n; i++) {
        sl_sql_put(&name, "__");
        sl_sql_put(&name, cols[i]);
    }
    sl_sql_put(&name, "__idx");
    if (name.bad || !name.b.data) {
        out->bad = 1;
        sl_sql_cleanup(&name);
        return;
    }
    if (name.b.len > max && max > 18) {
        char hex[24];
        size_t cut = max - 18;
        while (cut > 0 && ((unsigned char)name.b.data[cut] & 0xC0) == 0x80)
            cut--;
        snprintf(hex, sizeof(hex), "__%016llx", (unsigned long long)sl_sql_fnv1a(name.b.data));
        name.b.len = cut;
        name.b.data[cut] = '\0';
        sl_sql_put(&name, hex);
    }
    if (name.bad)
        out->bad = 1;
    else
        sl_sql_putn(out, name.b.data, name.b.len);
    sl_sql_cleanup(&name);
}

int sl_sql_merge_indexes(struct sl_sql *q, const struct sl_table *t, sl_sql_index_fn fn,
                         const void *ud)
{
    const char **cols = sl_malloc((t->ncols + 1) * sizeof(char *));
    if (!cols)
        return -1;
    if (t->wd == SL_WD_MERGE) {
        uint32_t kinds[2] = {SL_HINT_PRIMARY_KEY, SL_HINT_MERGE_KEY};
        for (int k = 0; k < 2; k++) {
            size_t n = 0;
            for (size_t i = 0; i < t->ncols; i++) {
                if ((t->cols[i].hints & kinds[k]) && t->cols[i].type != SL_DT_NONE)
                    cols[n++] = t->cols[i].name;
            }
            if (n)
                fn(q, ud, t->name, cols, n);
        }
    }
    if (t->wd == SL_WD_MERGE && t->strategy == SL_MERGE_SCD2) {
        /* scd2 looks versions up by the root's row version and nested rows by their _dlt_id */
        const char *key = t->parent ? "_dlt_id" : NULL;
        for (size_t i = 0; !t->parent && i < t->ncols; i++)
            if ((t->cols[i].hints & SL_HINT_ROW_VERSION) && t->cols[i].type != SL_DT_NONE)
                key = t->cols[i].name;
        if (key && sl_sql_typed_col(t, key) >= 0) {
            cols[0] = key;
            fn(q, ud, t->name, cols, 1);
        }
    }
    if (sl_sql_typed_col(t, "_dlt_root_id") >= 0) {
        cols[0] = "_dlt_root_id";
        fn(q, ud, t->name, cols, 1);
    } else if (t->wd == SL_WD_MERGE && t->parent && sl_sql_typed_col(t, "_dlt_parent_id") >= 0) {
        cols[0] = "_dlt_parent_id";
        fn(q, ud, t->name, cols, 1);
    }
    sl_free(cols);
    return 0;
}

long sl_sql_typed_col(const struct sl_table *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++) {
        if (t->cols[i].type != SL_DT_NONE && strcmp(t->cols[i].name, name) == 0)
            return (long)i;
    }
    return -1;
}

const char *sl_sql_root_link(const struct sl_table *root, const struct sl_table *child)
{
    if (sl_sql_typed_col(child, "_dlt_root_id") >= 0)
        return "_dlt_root_id";
    if (child->parent && strcmp(child->parent, root->name) == 0 &&
        sl_sql_typed_col(child, "_dlt_parent_id") >= 0)
        return "_dlt_parent_id";
    return NULL;
}

sluice_status sl_merge_keys_init(struct sl_ctx *ctx, const struct sl_table *root,
                                 struct sl_merge_keys *k)
{
    memset(k, 0, sizeof(*k));
    k->pk = sl_calloc(root->ncols + 1, sizeof(*k->pk));
    k->mk = sl_calloc(root->ncols + 1, sizeof(*k->mk));
    if (!k->pk || !k->mk)
        return sl_nomem(ctx);
    for (size_t i = 0; i < root->ncols; i++) {
        const struct sl_column *c = &root->cols[i];
        uint32_t keyish = SL_HINT_PRIMARY_KEY | SL_HINT_MERGE_KEY | SL_HINT_HARD_DELETE |
                          SL_HINT_DEDUP_ASC | SL_HINT_DEDUP_DESC;
        if ((c->hints & keyish) && c->type == SL_DT_NONE)
            return sl_fail_at(ctx, SLUICE_ERR_DATA_SCHEMA, root->resource, -1, c->name,
                              "merge column %s of table %s has no data type", c->name,
                              root->name);
        if (c->hints & SL_HINT_PRIMARY_KEY)
            k->pk[k->npk++] = c;
        if (c->hints & SL_HINT_MERGE_KEY)
            k->mk[k->nmk++] = c;
        if ((c->hints & SL_HINT_HARD_DELETE) && !k->hd)
            k->hd = c;
        if ((c->hints & (SL_HINT_DEDUP_ASC | SL_HINT_DEDUP_DESC)) && !k->dedup) {
            k->dedup = c;
            k->dedup_desc = (c->hints & SL_HINT_DEDUP_DESC) != 0;
        }
    }
    return SLUICE_OK;
}

void sl_merge_keys_cleanup(struct sl_merge_keys *k)
{
    sl_free(k->pk);
    sl_free(k->mk);
    k->pk = k->mk = NULL;
}

void sl_sql_deleted_expr(struct sl_sql *q, const char *alias, const struct sl_column *hd,
                         const char *true_lit, const char *false_lit)
{
    if (!hd) {
        sl_sql_put(q, false_lit);
    } else if (hd->type == SL_DT_BOOL) {
        sl_sql_put(q, "coalesce(");
        sl_sql_col(q, alias, hd->name);
        sl_sql_put(q, " = ");
        sl_sql_put(q, true_lit);
        sl_sql_put(q, ", ");
        sl_sql_put(q, false_lit);
        sl_sql_ch(q, ')');
    } else {
        sl_sql_ch(q, '(');
        sl_sql_col(q, alias, hd->name);
        sl_sql_put(q, " IS NOT NULL)");
    }
}

int sl_sql_render(struct sl_buf *b, enum sl_sql_render_kind kind, const char *v)
{
    size_t len = strlen(v);
    if (kind == SL_RENDER_BOOL) {
        if (strcmp(v, "t") == 0 || strcmp(v, "true") == 0)
            return sl_buf_append(b, "1", 2);
        if (strcmp(v, "f") == 0 || strcmp(v, "false") == 0)
            return sl_buf_append(b, "0", 2);
    }
    if (kind == SL_RENDER_TIMESTAMPTZ && len >= 22 && len <= 29 && v[10] == ' ' &&
        (v[19] == '.' || v[19] == '+') && strcmp(v + len - 3, "+00") == 0) {
        size_t frac = v[19] == '.' ? len - 3 - 20 : 0;
        if (sl_buf_append(b, v, 19) || sl_buf_putc(b, '.') || sl_buf_append(b, v + 20, frac) ||
            sl_buf_append(b, "000000", 6 - frac))
            return -1;
        return sl_buf_putc(b, '\0');
    }
    if (kind == SL_RENDER_NUMERIC && strchr(v, '.') && !strpbrk(v, "eE")) {
        while (len > 0 && v[len - 1] == '0')
            len--;
        if (len > 0 && v[len - 1] == '.')
            len--;
        if (sl_buf_append(b, v, len))
            return -1;
        return sl_buf_putc(b, '\0');
    }
    if (kind == SL_RENDER_JSON) {
        int in_str = 0;
        for (size_t i = 0; i < len; i++) {
            char c = v[i];
            if (in_str) {
                if (c == '\\' && i + 1 < len) {
                    if (sl_buf_putc(b, c))
                        return -1;
                    c = v[++i];
                } else if (c == '"') {
                    in_str = 0;
                }
            } else if (c == '"') {
                in_str = 1;
            } else if (c == ' ') {
                continue;
            }
            if (sl_buf_putc(b, c))
                return -1;
        }
        return sl_buf_putc(b, '\0');
    }
    return sl_buf_append(b, v, len + 1);
}

void sl_sql_merge_dirty(struct sl_sql *q, const char *table_ref, const struct sl_merge_keys *k,
                        const char *true_lit, const char *false_lit)
{
    sl_sql_put(q, "SELECT CASE WHEN ");
    if (k->npk) {
        /* through the primary key's index: no sort */
        sl_sql_put(q, "EXISTS (SELECT 1 FROM ");
        sl_sql_put(q, table_ref);
        sl_sql_put(q, " AS d GROUP BY ");
        for (size_t i = 0; i < k->npk; i++) {
            if (i)
                sl_sql_put(q, ", ");
            sl_sql_col(q, "d", k->pk[i]->name);
        }
        sl_sql_put(q, " HAVING count(*) > 1)");
    } else {
        sl_sql_put(q, "1 = 0");
    }
    if (k->hd) {
        sl_sql_put(q, " OR EXISTS (SELECT 1 FROM ");
        sl_sql_put(q, table_ref);
        sl_sql_put(q, " AS d WHERE ");
        sl_sql_deleted_expr(q, "d", k->hd, true_lit, false_lit);
        sl_sql_ch(q, ')');
    }
    sl_sql_put(q, " THEN 1 ELSE 0 END");
}
