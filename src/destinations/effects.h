/*
 * effects.h — the net effect of a transaction on each table (xEffects of destination.h),
 * kept by the SQL destinations: rows inserted, updated and deleted per table, summed over the
 * statements that changed them. Out of memory is remembered and reported when read.
 */
#ifndef SLUICE_DEST_EFFECTS_H
#define SLUICE_DEST_EFFECTS_H

#include <stddef.h>
#include <stdint.h>

#include "destinations/destination.h"

struct sl_effect {
    char *table;
    int64_t inserted, updated, deleted;
};

struct sl_effects {
    struct sl_effect *v;
    size_t n, cap;
    int lost; /* an effect could not be recorded (out of memory) */
};

/* Forget every table's effect (xBegin, xRollback). */
void sl_effects_clear(struct sl_effects *fx);
void sl_effects_free(struct sl_effects *fx);
/* Add to table's effect (negative numbers correct an earlier statement's). */
void sl_effects_add(struct sl_effects *fx, const char *table, int64_t inserted, int64_t updated,
                    int64_t deleted);
/* One fn call per table, in first-touched order; NOMEM when an effect was lost. */
sluice_status sl_effects_each(const struct sl_effects *fx, struct sl_ctx *ctx, sl_effect_fn fn,
                              void *ud);

#endif
