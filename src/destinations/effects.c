/*
 * effects.c — net effects per table (effects.h).
 */
#include "destinations/effects.h"

#include <string.h>

#include "base/alloc.h"

void sl_effects_clear(struct sl_effects *fx)
{
    for (size_t i = 0; i < fx->n; i++)
        sl_free(fx->v[i].table);
    fx->n = 0;
    fx->lost = 0;
}

void sl_effects_free(struct sl_effects *fx)
{
    sl_effects_clear(fx);
    sl_free(fx->v);
    fx->v = NULL;
    fx->cap = 0;
}

void sl_effects_add(struct sl_effects *fx, const char *table, int64_t inserted, int64_t updated,
                    int64_t deleted)
{
    struct sl_effect *e = NULL;
    for (size_t i = 0; i < fx->n && !e; i++)
        if (strcmp(fx->v[i].table, table) == 0)
            e = &fx->v[i];
    if (!e) {
        if (fx->n == fx->cap) {
            size_t ncap = fx->cap ? fx->cap * 2 : 8;
            struct sl_effect *n = sl_realloc(fx->v, ncap * sizeof(*n));
            if (!n) {
                fx->lost = 1;
                return;
            }
            fx->v = n;
            fx->cap = ncap;
        }
        e = &fx->v[fx->n];
        memset(e, 0, sizeof(*e));
        e->table = sl_strdup(table);
        if (!e->table) {
            fx->lost = 1;
            return;
        }
        fx->n++;
    }
    e->inserted += inserted;
    e->updated += updated;
    e->deleted += deleted;
}

sluice_status sl_effects_each(const struct sl_effects *fx, struct sl_ctx *ctx, sl_effect_fn fn,
                              void *ud)
{
    if (fx->lost)
        return sl_nomem(ctx);
    for (size_t i = 0; i < fx->n; i++) {
        sluice_status rc = fn(ud, fx->v[i].table, fx->v[i].inserted, fx->v[i].updated,
                              fx->v[i].deleted);
        if (rc)
            return rc;
    }
    return SLUICE_OK;
}
