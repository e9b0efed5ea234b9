/*
 * rest_response.c — data selection of a REST response page (see rest_response.h).
 *
 * Matches are collected as borrowed pointers into the parsed body (one array of pointers per
 * page, freed at the end), so the items are not copied.
 */
#include "sources/rest_response.h"

#include <string.h>

#include "base/alloc.h"

static bool record_key(const char *k, size_t n)
{
    static const char *const keys[] = { "data",     "items",   "results", "entries",
                                        "records",  "rows",    "entities", "payload",
                                        "content",  "objects", "values",  NULL };
    for (size_t i = 0; keys[i]; i++)
        if (strlen(keys[i]) == n && memcmp(keys[i], k, n) == 0)
            return true;
    return false;
}

struct found {
    char *first;       /* path of the first list found */
    char *record;      /* path of the first list under a record key */
    int oom;
};

/* detector.find_all_lists: depth first, dicts down to a path of 2 keys scanned */
static void find_lists(const struct sl_json *obj, struct sl_buf *path, size_t depth,
                       struct found *f)
{
    if (depth > 2)
        return;
    for (uint32_t i = 0; i < obj->len && !f->oom && !f->record; i++) {
        const struct sl_json_member *m = &obj->u.members[i];
        size_t mark = path->len;
        if (m->val.type != SL_JSON_ARRAY && m->val.type != SL_JSON_OBJECT)
            continue;
        if (sl_jsonpath_append_key(path, m->key, m->key_len)) {
            f->oom = 1;
            return;
        }
        if (m->val.type == SL_JSON_ARRAY) {
            if (!f->first) {
                f->first = sl_strdup(path->data);
                f->oom |= !f->first;
            }
            if (record_key(m->key, m->key_len)) {
                f->record = sl_strdup(path->data);
                f->oom |= !f->record;
            }
        } else {
            find_lists(&m->val, path, depth + 1, f);
        }
        path->len = mark;
        if (path->data)
            path->data[mark] = '\0';
    }
}

char *sl_rest_detect_selector(const struct sl_json *doc)
{
    if (!doc || doc->type != SL_JSON_OBJECT)
        return sl_strdup("$");
    struct sl_buf path;
    sl_buf_init(&path, 0);
    struct found f = { NULL, NULL, 0 };
    find_lists(doc, &path, 0, &f);
    sl_buf_cleanup(&path);
    char *out = NULL;
    if (!f.oom)
        out = sl_strdup(f.record ? f.record : f.first ? f.first : "$");
    sl_free(f.first);
    sl_free(f.record);
    return out;
}

struct matches {
    const struct sl_json **v;
    size_t n, cap;
    int oom;
};

static int collect(void *ud, const struct sl_json *match)
{
    struct matches *m = ud;
    if (m->n == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 16;
        const struct sl_json **nv = sl_realloc(m->v, ncap * sizeof(*nv));
        if (!nv) {
            m->oom = 1;
            return 1;
        }
        m->v = nv;
        m->cap = ncap;
    }
    m->v[m->n++] = match;
    return 0;
}

sluice_status sl_rest_select(struct sl_ctx *ctx, const struct sl_jsonpath *sel,
                             const struct sl_json *doc, sl_rest_count_fn count_fn,
                             sl_rest_item_fn fn, void *ud)
{
    struct matches m = { NULL, 0, 0, 0 };
    sluice_status rc = SLUICE_OK;
    int walk = sl_jsonpath_each(sel, doc, collect, &m);
    if (m.oom) {
        rc = sl_nomem(ctx);
        goto done;
    }
    if (walk < 0) {
        rc = sl_fail(ctx, SLUICE_ERR_SOURCE,
                     "data_selector '%s' took too many steps on the response",
                     sl_jsonpath_text(sel));
        goto done;
    }
    const struct sl_json *list = NULL;
    const struct sl_json *single = NULL;
    if (m.n == 1) {
        if (m.v[0]->type == SL_JSON_ARRAY)
            list = m.v[0];
        else if (m.v[0]->type != SL_JSON_NULL)
            single = m.v[0];
    }
    size_t count = list ? list->len : single ? 1 : m.n != 1 ? m.n : 0;
    if (count_fn)
        rc = count_fn(ud, count);
    if (rc != SLUICE_OK)
        goto done;
    if (list) {
        for (uint32_t i = 0; i < list->len && rc == SLUICE_OK; i++)
            rc = fn(ud, &list->u.items[i], i);
    } else if (single) {
        rc = fn(ud, single, 0);
    } else if (m.n != 1) {
        for (size_t i = 0; i < m.n && rc == SLUICE_OK; i++)
            rc = fn(ud, m.v[i], i);
    }
done:
    sl_free(m.v);
    return rc;
}
