/*
 * destination.c — the destination registry: type name → back-end method table.
 *
 * Each back-end file (destination_<type>.c) defines one `const struct sl_dest_methods`
 * instance. They are declared here rather than in destination.h so that the registry stays the
 * only way in: load.c and the pipeline look a back-end up by the configured type name and
 * never name a back-end symbol. Types that are planned but not built yet are simply absent:
 * sl_destination_find returns NULL and the caller reports "destination type X is not
 * available".
 */
#include "destinations/destination.h"

#include <string.h>

#include "base/alloc.h"

extern const struct sl_dest_methods sl_dest_sqlite;
extern const struct sl_dest_methods sl_dest_postgres;
extern const struct sl_dest_methods sl_dest_duckdb;

static const struct sl_dest_methods *const all[] = {
    &sl_dest_sqlite,
    &sl_dest_postgres,
    &sl_dest_duckdb,
};

const struct sl_dest_methods *sl_destination_find(const char *type)
{
    if (!type)
        return NULL;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(all[i]->name, type) == 0)
            return all[i];
    }
    return NULL;
}

void sl_state_row_owned_free(struct sl_state_row_owned *r)
{
    if (!r)
        return;
    sl_free(r->pipeline_name);
    sl_free(r->state);
    sl_free(r->created_at);
    sl_free(r->version_hash);
    sl_free(r->load_id);
    sl_free(r->orphan_load_id);
    memset(r, 0, sizeof(*r));
}
