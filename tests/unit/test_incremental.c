/*
 * test_incremental.c — the incremental filter, run by run, against dlt.
 *
 * Each test keeps a heap resource-state object between binds, as the pipeline does, and
 * asserts the keep/drop decision per item and the exact slot JSON after each run. The table
 * dlt_scenarios was produced by running the same configs and items through dlt 1.31.0
 * (dlt.sources.incremental on JSON rows, extract step only; --start/--end as initial_value and
 * end_value, the resource key as the resource's primary_key hint): masks are the rows dlt
 * extracted, states are dlt's resource state with the hash list sorted. The other tests
 * cover what sluice does beyond or unlike dlt (typed datetimes, naive/aware errors, exact
 * decimals, the hash cap) and the error paths; their expected hashes and lagged values were
 * also computed with dlt (digest_dedup_value, apply_lag).
 */
#include "test.h"

#include <stdlib.h>

#include "model/incremental.h"

#define MAX_RUNS 8

struct run_spec {
    const char *items; /* JSON array */
    const char *start; /* --start override (JSON) or NULL */
    const char *end;   /* --end override (JSON) or NULL */
    const char *mask;  /* '1' kept, '0' dropped, per item */
    const char *state; /* the resource state afterwards (sorted JSON) */
};

struct scenario {
    const char *name;
    const char *cfg;         /* the incremental config (JSON) */
    const char *resource_pk; /* one-column resource primary key or NULL */
    struct run_spec runs[MAX_RUNS];
};

/* Generated from dlt (see the file comment). */
static const struct scenario dlt_scenarios[] = {
    {"S01 items one by one",
     "{\"cursor_path\":\"created_at\"}",
     NULL,
     {
        {"[{\"created_at\":425},{\"created_at\":426}]",
         NULL, NULL, "11",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":426,"
         "\"start_value\":null,\"unique_hashes\":[\"LtJ6WksVbSYE\"]}}}"},
     }},
    {"S01 batch",
     "{\"cursor_path\":\"created_at\"}",
     NULL,
     {
        {"[{\"created_at\":0},{\"created_at\":1},{\"created_at\":2},{\"created_at\":3},"
         "{\"created_at\":4},{\"created_at\":5},{\"created_at\":6},{\"created_at\":7},"
         "{\"created_at\":8},{\"created_at\":9}]",
         NULL, NULL, "1111111111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":9,"
         "\"start_value\":null,\"unique_hashes\":[\"vHpOPcLAKxTh\"]}}}"},
     }},
    {"S04 datetime cursor, out of order",
     "{\"cursor_path\":\"created_at\",\"initial_value\":\"2024-01-01T00:00:00Z\"}",
     NULL,
     {
        {"[{\"created_at\":\"2024-01-01T00:01:00Z\"},"
         "{\"created_at\":\"2024-01-01T00:03:00Z\"},{\"created_at\":\"2024-01-01T00:02:00Z\"},"
         "{\"created_at\":\"2024-01-01T00:04:00Z\"},{\"created_at\":\"2024-01-01T00:02:00Z\"}]",
         NULL, NULL, "11111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":\"2024-01-01T00:00:00Z\","
         "\"last_value\":\"2024-01-01T00:04:00Z\",\"start_value\":\"2024-01-01T00:00:00Z\","
         "\"unique_hashes\":[\"cpaA+GLTqCdV\"]}}}"},
     }},
    {"S05a min",
     "{\"cursor_path\":\"created_at\",\"last_value_func\":\"min\"}",
     NULL,
     {
        {"[{\"created_at\":10},{\"created_at\":11},{\"created_at\":9},{\"created_at\":10},"
         "{\"created_at\":8},{\"created_at\":22}]",
         NULL, NULL, "111111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":8,"
         "\"start_value\":null,\"unique_hashes\":[\"CPmxqkOagM1Q\"]}}}"},
        {"[{\"created_at\":9},{\"created_at\":8},{\"created_at\":7},{\"created_at\":8}]",
         NULL, NULL, "0010",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":7,"
         "\"start_value\":8,\"unique_hashes\":[\"jNNs2t28FWrW\"]}}}"},
     }},
    {"S06 nested path",
     "{\"cursor_path\":\"data.items[0].created_at\"}",
     NULL,
     {
        {"[{\"data\":{\"items\":[{\"created_at\":2}]}}]",
         NULL, NULL, "1",
         "{\"incremental\":{\"data.items[0].created_at\":{\"initial_value\":null,"
         "\"last_value\":2,\"start_value\":null,\"unique_hashes\":[\"5IR6wJLG8ZTK\"]}}}"},
     }},
    {"S07 primary key",
     "{\"cursor_path\":\"created_at\",\"primary_key\":\"id\"}",
     NULL,
     {
        {"[{\"created_at\":1,\"id\":\"a\"},{\"created_at\":2,\"id\":\"b\"},{\"created_at\":3,"
         "\"id\":\"c\"},{\"created_at\":3,\"id\":\"d\"},{\"created_at\":3,\"id\":\"e\"}]",
         NULL, NULL, "11111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":3,"
         "\"start_value\":null,\"unique_hashes\":[\"CauTQ6dbh/YX\",\"NI0rKbd5ZZUg\","
         "\"qOM08jBxq2rZ\"]}}}"},
        {"[{\"created_at\":4,\"id\":\"g\"},{\"created_at\":3,\"id\":\"c\"},{\"created_at\":3,"
         "\"id\":\"d\"},{\"created_at\":3,\"id\":\"e\"},{\"created_at\":3,\"id\":\"f\"}]",
         NULL, NULL, "10001",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":4,"
         "\"start_value\":3,\"unique_hashes\":[\"mrHcW/dIw0UL\"]}}}"},
     }},
    {"S07 primary key from the resource",
     "{\"cursor_path\":\"created_at\"}",
     "id",
     {
        {"[{\"created_at\":1,\"id\":\"a\"},{\"created_at\":2,\"id\":\"b\"},{\"created_at\":3,"
         "\"id\":\"c\"},{\"created_at\":3,\"id\":\"d\"},{\"created_at\":3,\"id\":\"e\"}]",
         NULL, NULL, "11111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":3,"
         "\"start_value\":null,\"unique_hashes\":[\"CauTQ6dbh/YX\",\"NI0rKbd5ZZUg\","
         "\"qOM08jBxq2rZ\"]}}}"},
        {"[{\"created_at\":4,\"id\":\"g\"},{\"created_at\":3,\"id\":\"c\"},{\"created_at\":3,"
         "\"id\":\"d\"},{\"created_at\":3,\"id\":\"e\"},{\"created_at\":3,\"id\":\"f\"}]",
         NULL, NULL, "10001",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":4,"
         "\"start_value\":3,\"unique_hashes\":[\"mrHcW/dIw0UL\"]}}}"},
     }},
    {"S07 one-column key written as a list",
     "{\"cursor_path\":\"created_at\",\"primary_key\":[\"id\"]}",
     NULL,
     {
        {"[{\"created_at\":1,\"id\":\"a\"},{\"created_at\":3,\"id\":\"c\"},{\"created_at\":3,"
         "\"id\":\"d\"}]",
         NULL, NULL, "111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":3,"
         "\"start_value\":null,\"unique_hashes\":[\"bCaRiI5De9mR\",\"uq5XGC9W3tJm\"]}}}"},
        {"[{\"created_at\":3,\"id\":\"c\"},{\"created_at\":3,\"id\":\"e\"}]",
         NULL, NULL, "01",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":3,"
         "\"start_value\":3,\"unique_hashes\":[\"7ierOnOOAfHJ\",\"bCaRiI5De9mR\","
         "\"uq5XGC9W3tJm\"]}}}"},
     }},
    {"S08 whole-row hash",
     "{\"cursor_path\":\"created_at\"}",
     NULL,
     {
        {"[{\"created_at\":1,\"id\":\"a\"},{\"created_at\":2,\"id\":\"b\"},{\"created_at\":3,"
         "\"id\":\"c\"},{\"created_at\":3,\"id\":\"d\"},{\"created_at\":3,\"id\":\"e\"}]",
         NULL, NULL, "11111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":3,"
         "\"start_value\":null,\"unique_hashes\":[\"NIxfc9QRlcLq\",\"c+TWnmMZe7gi\","
         "\"kJi42C4oYiOP\"]}}}"},
        {"[{\"created_at\":3,\"id\":\"c\"},{\"created_at\":3,\"id\":\"d\"},{\"created_at\":3,"
         "\"id\":\"e\"},{\"created_at\":3,\"id\":\"f\"},{\"created_at\":4,\"id\":\"g\"}]",
         NULL, NULL, "00011",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":4,"
         "\"start_value\":3,\"unique_hashes\":[\"Epge+c6zbAmF\"]}}}"},
     }},
    {"S09 descending, hash only of the max",
     "{\"cursor_path\":\"created_at\",\"initial_value\":20}",
     NULL,
     {
        {"[{\"created_at\":24},{\"created_at\":23},{\"created_at\":22},{\"created_at\":21},"
         "{\"created_at\":20},{\"created_at\":19},{\"created_at\":18},{\"created_at\":17},"
         "{\"created_at\":16},{\"created_at\":15}]",
         NULL, NULL, "1111100000",
         "{\"incremental\":{\"created_at\":{\"initial_value\":20,\"last_value\":24,"
         "\"start_value\":20,\"unique_hashes\":[\"aiuNd5u7bjL7\"]}}}"},
        {"[{\"created_at\":24},{\"created_at\":23},{\"created_at\":22},{\"created_at\":21},"
         "{\"created_at\":20},{\"created_at\":19},{\"created_at\":18},{\"created_at\":17},"
         "{\"created_at\":16},{\"created_at\":15}]",
         NULL, NULL, "0000000000",
         "{\"incremental\":{\"created_at\":{\"initial_value\":20,\"last_value\":24,"
         "\"start_value\":20,\"unique_hashes\":[\"aiuNd5u7bjL7\"]}}}"},
     }},
    {"S10 composite key, no dedup within a run",
     "{\"cursor_path\":\"created_at\",\"primary_key\":[\"isrc\",\"market\"]}",
     NULL,
     {
        {"[{\"created_at\":1,\"isrc\":\"AAA\",\"market\":\"DE\"},{\"created_at\":2,"
         "\"isrc\":\"AAA\",\"market\":\"DE\"},{\"created_at\":1,\"isrc\":\"CCC\","
         "\"market\":\"DE\"},{\"created_at\":2,\"isrc\":\"CCC\",\"market\":\"DE\"},"
         "{\"created_at\":2,\"isrc\":\"CCC\",\"market\":\"DE\"},{\"created_at\":2,"
         "\"isrc\":\"BBB\",\"market\":\"US\"},{\"created_at\":1,\"isrc\":\"BBB\","
         "\"market\":\"US\"}]",
         NULL, NULL, "1111111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":2,"
         "\"start_value\":null,\"unique_hashes\":[\"CZT29ypufv6J\",\"eW5Iir1FGZYn\","
         "\"jDuQWGaYv78F\"]}}}"},
        {"[{\"created_at\":2,\"isrc\":\"AAA\",\"market\":\"DE\"},{\"created_at\":2,"
         "\"isrc\":\"CCC\",\"market\":\"US\"},{\"created_at\":1,\"isrc\":\"ZZZ\","
         "\"market\":\"DE\"}]",
         NULL, NULL, "010",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":2,"
         "\"start_value\":2,\"unique_hashes\":[\"CZT29ypufv6J\",\"Om5ToQLsjFqD\","
         "\"eW5Iir1FGZYn\",\"jDuQWGaYv78F\"]}}}"},
     }},
    {"S11 unordered rows, key = cursor",
     "{\"cursor_path\":\"created_at\",\"initial_value\":10,\"primary_key\":\"created_at\"}",
     NULL,
     {
        {"[{\"created_at\":38},{\"created_at\":19},{\"created_at\":29},{\"created_at\":40},"
         "{\"created_at\":39},{\"created_at\":15},{\"created_at\":17},{\"created_at\":32},"
         "{\"created_at\":10},{\"created_at\":24},{\"created_at\":18},{\"created_at\":25},"
         "{\"created_at\":33},{\"created_at\":34},{\"created_at\":31},{\"created_at\":23},"
         "{\"created_at\":35},{\"created_at\":37},{\"created_at\":16},{\"created_at\":26},"
         "{\"created_at\":36},{\"created_at\":28},{\"created_at\":21},{\"created_at\":13},"
         "{\"created_at\":27},{\"created_at\":12},{\"created_at\":11},{\"created_at\":30},"
         "{\"created_at\":22},{\"created_at\":14},{\"created_at\":20}]",
         NULL, NULL, "1111111111111111111111111111111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":10,\"last_value\":40,"
         "\"start_value\":10,\"unique_hashes\":[\"LrNduKif1EnA\"]}}}"},
        {"[{\"created_at\":40},{\"created_at\":41},{\"created_at\":42},{\"created_at\":43},"
         "{\"created_at\":44},{\"created_at\":45},{\"created_at\":46},{\"created_at\":47},"
         "{\"created_at\":48},{\"created_at\":49},{\"created_at\":50},{\"created_at\":51},"
         "{\"created_at\":52},{\"created_at\":53},{\"created_at\":54},{\"created_at\":55},"
         "{\"created_at\":56},{\"created_at\":57},{\"created_at\":58},{\"created_at\":59},"
         "{\"created_at\":60},{\"created_at\":61},{\"created_at\":62},{\"created_at\":63},"
         "{\"created_at\":64},{\"created_at\":65},{\"created_at\":66},{\"created_at\":67},"
         "{\"created_at\":68},{\"created_at\":69},{\"created_at\":70}]",
         NULL, NULL, "0111111111111111111111111111111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":10,\"last_value\":70,"
         "\"start_value\":40,\"unique_hashes\":[\"NU5Z0PsbbItb\"]}}}"},
     }},
    {"S11 unordered rows, whole row",
     "{\"cursor_path\":\"created_at\",\"initial_value\":10}",
     NULL,
     {
        {"[{\"created_at\":38},{\"created_at\":19},{\"created_at\":29},{\"created_at\":40},"
         "{\"created_at\":39},{\"created_at\":15},{\"created_at\":17},{\"created_at\":32},"
         "{\"created_at\":10},{\"created_at\":24},{\"created_at\":18},{\"created_at\":25},"
         "{\"created_at\":33},{\"created_at\":34},{\"created_at\":31},{\"created_at\":23},"
         "{\"created_at\":35},{\"created_at\":37},{\"created_at\":16},{\"created_at\":26},"
         "{\"created_at\":36},{\"created_at\":28},{\"created_at\":21},{\"created_at\":13},"
         "{\"created_at\":27},{\"created_at\":12},{\"created_at\":11},{\"created_at\":30},"
         "{\"created_at\":22},{\"created_at\":14},{\"created_at\":20}]",
         NULL, NULL, "1111111111111111111111111111111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":10,\"last_value\":40,"
         "\"start_value\":10,\"unique_hashes\":[\"4Vwkswg4Br7N\"]}}}"},
        {"[{\"created_at\":40},{\"created_at\":41},{\"created_at\":42},{\"created_at\":43},"
         "{\"created_at\":44},{\"created_at\":45},{\"created_at\":46},{\"created_at\":47},"
         "{\"created_at\":48},{\"created_at\":49},{\"created_at\":50},{\"created_at\":51},"
         "{\"created_at\":52},{\"created_at\":53},{\"created_at\":54},{\"created_at\":55},"
         "{\"created_at\":56},{\"created_at\":57},{\"created_at\":58},{\"created_at\":59},"
         "{\"created_at\":60},{\"created_at\":61},{\"created_at\":62},{\"created_at\":63},"
         "{\"created_at\":64},{\"created_at\":65},{\"created_at\":66},{\"created_at\":67},"
         "{\"created_at\":68},{\"created_at\":69},{\"created_at\":70}]",
         NULL, NULL, "0111111111111111111111111111111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":10,\"last_value\":70,"
         "\"start_value\":40,\"unique_hashes\":[\"AfiltIdpYNOv\"]}}}"},
     }},
    {"S12 key = cursor",
     "{\"cursor_path\":\"created_at\",\"initial_value\":10,\"primary_key\":\"created_at\"}",
     NULL,
     {
        {"[{\"created_at\":15},{\"created_at\":16},{\"created_at\":17},{\"created_at\":18},"
         "{\"created_at\":12},{\"created_at\":11},{\"created_at\":14},{\"created_at\":19},"
         "{\"created_at\":13},{\"created_at\":10},{\"created_at\":100}]",
         NULL, NULL, "11111111111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":10,\"last_value\":100,"
         "\"start_value\":10,\"unique_hashes\":[\"3Fbej0WrGAeJ\"]}}}"},
        {"[{\"created_at\":15},{\"created_at\":16},{\"created_at\":17},{\"created_at\":18},"
         "{\"created_at\":12},{\"created_at\":11},{\"created_at\":14},{\"created_at\":19},"
         "{\"created_at\":13},{\"created_at\":10},{\"created_at\":100}]",
         NULL, NULL, "00000000000",
         "{\"incremental\":{\"created_at\":{\"initial_value\":10,\"last_value\":100,"
         "\"start_value\":10,\"unique_hashes\":[\"3Fbej0WrGAeJ\"]}}}"},
        {"[{\"created_at\":15},{\"created_at\":16},{\"created_at\":17},{\"created_at\":18},"
         "{\"created_at\":12},{\"created_at\":11},{\"created_at\":14},{\"created_at\":19},"
         "{\"created_at\":13},{\"created_at\":10},{\"created_at\":100}]",
         NULL, NULL, "00000000000",
         "{\"incremental\":{\"created_at\":{\"initial_value\":10,\"last_value\":100,"
         "\"start_value\":10,\"unique_hashes\":[\"3Fbej0WrGAeJ\"]}}}"},
        {"[{\"created_at\":15},{\"created_at\":16},{\"created_at\":17},{\"created_at\":18},"
         "{\"created_at\":12},{\"created_at\":11},{\"created_at\":14},{\"created_at\":19},"
         "{\"created_at\":13},{\"created_at\":10},{\"created_at\":100},{\"created_at\":1000}]",
         NULL, NULL, "000000000001",
         "{\"incremental\":{\"created_at\":{\"initial_value\":10,\"last_value\":1000,"
         "\"start_value\":100,\"unique_hashes\":[\"pErG0Fli1cWU\"]}}}"},
     }},
    {"S12 whole row with a varying field",
     "{\"cursor_path\":\"created_at\",\"initial_value\":10}",
     NULL,
     {
        {"[{\"created_at\":15,\"r\":1},{\"created_at\":16,\"r\":1},{\"created_at\":17,"
         "\"r\":1},{\"created_at\":18,\"r\":1},{\"created_at\":12,\"r\":1},{\"created_at\":11,"
         "\"r\":1},{\"created_at\":14,\"r\":1},{\"created_at\":19,\"r\":1},{\"created_at\":13,"
         "\"r\":1},{\"created_at\":10,\"r\":1},{\"created_at\":100,\"r\":1}]",
         NULL, NULL, "11111111111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":10,\"last_value\":100,"
         "\"start_value\":10,\"unique_hashes\":[\"WDf0+7BN68AT\"]}}}"},
        {"[{\"created_at\":15,\"r\":2},{\"created_at\":16,\"r\":2},{\"created_at\":17,"
         "\"r\":2},{\"created_at\":18,\"r\":2},{\"created_at\":12,\"r\":2},{\"created_at\":11,"
         "\"r\":2},{\"created_at\":14,\"r\":2},{\"created_at\":19,\"r\":2},{\"created_at\":13,"
         "\"r\":2},{\"created_at\":10,\"r\":2},{\"created_at\":100,\"r\":2}]",
         NULL, NULL, "00000000001",
         "{\"incremental\":{\"created_at\":{\"initial_value\":10,\"last_value\":100,"
         "\"start_value\":100,\"unique_hashes\":[\"WDf0+7BN68AT\",\"swf5nw5FfTNc\"]}}}"},
        {"[{\"created_at\":15,\"r\":3},{\"created_at\":16,\"r\":3},{\"created_at\":17,"
         "\"r\":3},{\"created_at\":18,\"r\":3},{\"created_at\":12,\"r\":3},{\"created_at\":11,"
         "\"r\":3},{\"created_at\":14,\"r\":3},{\"created_at\":19,\"r\":3},{\"created_at\":13,"
         "\"r\":3},{\"created_at\":10,\"r\":3},{\"created_at\":100,\"r\":3}]",
         NULL, NULL, "00000000001",
         "{\"incremental\":{\"created_at\":{\"initial_value\":10,\"last_value\":100,"
         "\"start_value\":100,\"unique_hashes\":[\"N7R7SyI3p/Kx\",\"WDf0+7BN68AT\","
         "\"swf5nw5FfTNc\"]}}}"},
        {"[{\"created_at\":15,\"r\":4},{\"created_at\":16,\"r\":4},{\"created_at\":17,"
         "\"r\":4},{\"created_at\":18,\"r\":4},{\"created_at\":12,\"r\":4},{\"created_at\":11,"
         "\"r\":4},{\"created_at\":14,\"r\":4},{\"created_at\":19,\"r\":4},{\"created_at\":13,"
         "\"r\":4},{\"created_at\":10,\"r\":4},{\"created_at\":100,\"r\":4},"
         "{\"created_at\":1000,\"r\":4}]",
         NULL, NULL, "000000000011",
         "{\"incremental\":{\"created_at\":{\"initial_value\":10,\"last_value\":1000,"
         "\"start_value\":100,\"unique_hashes\":[\"wpEer8RbAgYP\"]}}}"},
     }},
    {"S12 key []",
     "{\"cursor_path\":\"created_at\",\"initial_value\":10,\"primary_key\":[]}",
     NULL,
     {
        {"[{\"created_at\":15},{\"created_at\":16},{\"created_at\":17},{\"created_at\":18},"
         "{\"created_at\":12},{\"created_at\":11},{\"created_at\":14},{\"created_at\":19},"
         "{\"created_at\":13},{\"created_at\":10},{\"created_at\":100}]",
         NULL, NULL, "11111111111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":10,\"last_value\":100,"
         "\"start_value\":10,\"unique_hashes\":[]}}}"},
        {"[{\"created_at\":15},{\"created_at\":16},{\"created_at\":17},{\"created_at\":18},"
         "{\"created_at\":12},{\"created_at\":11},{\"created_at\":14},{\"created_at\":19},"
         "{\"created_at\":13},{\"created_at\":10},{\"created_at\":100}]",
         NULL, NULL, "00000000001",
         "{\"incremental\":{\"created_at\":{\"initial_value\":10,\"last_value\":100,"
         "\"start_value\":100,\"unique_hashes\":[]}}}"},
        {"[{\"created_at\":15},{\"created_at\":16},{\"created_at\":17},{\"created_at\":18},"
         "{\"created_at\":12},{\"created_at\":11},{\"created_at\":14},{\"created_at\":19},"
         "{\"created_at\":13},{\"created_at\":10},{\"created_at\":100},{\"created_at\":1000}]",
         NULL, NULL, "000000000011",
         "{\"incremental\":{\"created_at\":{\"initial_value\":10,\"last_value\":1000,"
         "\"start_value\":100,\"unique_hashes\":[]}}}"},
     }},
    {"S14 incremental key [] beats the resource key",
     "{\"cursor_path\":\"created_at\",\"primary_key\":[]}",
     "delta",
     {
        {"[{\"created_at\":1,\"delta\":1},{\"created_at\":1,\"delta\":2}]",
         NULL, NULL, "11",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":1,"
         "\"start_value\":null,\"unique_hashes\":[]}}}"},
     }},
    {"S14 open range disables dedup",
     "{\"cursor_path\":\"created_at\",\"range_start\":\"open\"}",
     "delta",
     {
        {"[{\"created_at\":1,\"delta\":1},{\"created_at\":1,\"delta\":2}]",
         NULL, NULL, "11",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":1,"
         "\"start_value\":null,\"unique_hashes\":[]}}}"},
        {"[{\"created_at\":1,\"delta\":3},{\"created_at\":2,\"delta\":4}]",
         NULL, NULL, "01",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":2,"
         "\"start_value\":1,\"unique_hashes\":[]}}}"},
     }},
    {"S15 max closed",
     "{\"cursor_path\":\"created_at\",\"initial_value\":5}",
     NULL,
     {
        {"[{\"created_at\":1},{\"created_at\":2},{\"created_at\":3},{\"created_at\":4},"
         "{\"created_at\":5},{\"created_at\":6},{\"created_at\":7},{\"created_at\":8},"
         "{\"created_at\":9},{\"created_at\":10},{\"created_at\":11}]",
         NULL, NULL, "00001111111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":5,\"last_value\":11,"
         "\"start_value\":5,\"unique_hashes\":[\"ZKa/Gellni8R\"]}}}"},
     }},
    {"S15 max open",
     "{\"cursor_path\":\"created_at\",\"initial_value\":5,\"range_start\":\"open\"}",
     NULL,
     {
        {"[{\"created_at\":1},{\"created_at\":2},{\"created_at\":3},{\"created_at\":4},"
         "{\"created_at\":5},{\"created_at\":6},{\"created_at\":7},{\"created_at\":8},"
         "{\"created_at\":9},{\"created_at\":10},{\"created_at\":11}]",
         NULL, NULL, "00000111111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":5,\"last_value\":11,"
         "\"start_value\":5,\"unique_hashes\":[]}}}"},
     }},
    {"S15 min closed",
     "{\"cursor_path\":\"created_at\",\"initial_value\":5,\"last_value_func\":\"min\"}",
     NULL,
     {
        {"[{\"created_at\":11},{\"created_at\":10},{\"created_at\":9},{\"created_at\":8},"
         "{\"created_at\":7},{\"created_at\":6},{\"created_at\":5},{\"created_at\":4},"
         "{\"created_at\":3},{\"created_at\":2},{\"created_at\":1}]",
         NULL, NULL, "00000011111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":5,\"last_value\":1,"
         "\"start_value\":5,\"unique_hashes\":[\"y54s4IoelH7P\"]}}}"},
     }},
    {"S15 min open",
     "{\"cursor_path\":\"created_at\",\"initial_value\":5,\"last_value_func\":\"min\","
     "\"range_start\":\"open\"}",
     NULL,
     {
        {"[{\"created_at\":11},{\"created_at\":10},{\"created_at\":9},{\"created_at\":8},"
         "{\"created_at\":7},{\"created_at\":6},{\"created_at\":5},{\"created_at\":4},"
         "{\"created_at\":3},{\"created_at\":2},{\"created_at\":1}]",
         NULL, NULL, "00000001111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":5,\"last_value\":1,"
         "\"start_value\":5,\"unique_hashes\":[]}}}"},
     }},
    {"S15 monotonic closed",
     "{\"cursor_path\":\"created_at\",\"initial_value\":0}",
     NULL,
     {
        {"[{\"created_at\":0},{\"created_at\":0},{\"created_at\":1},{\"created_at\":1},"
         "{\"created_at\":1},{\"created_at\":1},{\"created_at\":2},{\"created_at\":2}]",
         NULL, NULL, "11111111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":0,\"last_value\":2,"
         "\"start_value\":0,\"unique_hashes\":[\"Gb+lZadTiNgc\"]}}}"},
     }},
    {"S15 monotonic open",
     "{\"cursor_path\":\"created_at\",\"initial_value\":0,\"range_start\":\"open\"}",
     NULL,
     {
        {"[{\"created_at\":0},{\"created_at\":0},{\"created_at\":1},{\"created_at\":1},"
         "{\"created_at\":1},{\"created_at\":1},{\"created_at\":2},{\"created_at\":2}]",
         NULL, NULL, "00111111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":0,\"last_value\":2,"
         "\"start_value\":0,\"unique_hashes\":[]}}}"},
     }},
    {"S15 equal values open",
     "{\"cursor_path\":\"created_at\",\"initial_value\":1,\"range_start\":\"open\"}",
     NULL,
     {
        {"[{\"created_at\":1},{\"created_at\":1},{\"created_at\":1},{\"created_at\":1}]",
         NULL, NULL, "0000",
         "{\"incremental\":{\"created_at\":{\"initial_value\":1,\"last_value\":1,"
         "\"start_value\":1,\"unique_hashes\":[]}}}"},
     }},
    {"S16 max end open",
     "{\"cursor_path\":\"created_at\",\"initial_value\":5,\"end_value\":10}",
     NULL,
     {
        {"[{\"created_at\":1},{\"created_at\":2},{\"created_at\":3},{\"created_at\":4},"
         "{\"created_at\":5},{\"created_at\":6},{\"created_at\":7},{\"created_at\":8},"
         "{\"created_at\":9},{\"created_at\":10},{\"created_at\":11}]",
         NULL, NULL, "00001111100",
         "{}"},
     }},
    {"S16 max end closed",
     "{\"cursor_path\":\"created_at\",\"initial_value\":5,\"end_value\":10,"
     "\"range_end\":\"closed\"}",
     NULL,
     {
        {"[{\"created_at\":1},{\"created_at\":2},{\"created_at\":3},{\"created_at\":4},"
         "{\"created_at\":5},{\"created_at\":6},{\"created_at\":7},{\"created_at\":8},"
         "{\"created_at\":9},{\"created_at\":10},{\"created_at\":11}]",
         NULL, NULL, "00001111110",
         "{}"},
     }},
    {"S16 min end open",
     "{\"cursor_path\":\"created_at\",\"initial_value\":10,\"end_value\":5,"
     "\"last_value_func\":\"min\"}",
     NULL,
     {
        {"[{\"created_at\":11},{\"created_at\":10},{\"created_at\":9},{\"created_at\":8},"
         "{\"created_at\":7},{\"created_at\":6},{\"created_at\":5},{\"created_at\":4},"
         "{\"created_at\":3},{\"created_at\":2},{\"created_at\":1}]",
         NULL, NULL, "01111100000",
         "{}"},
     }},
    {"S16 min end closed",
     "{\"cursor_path\":\"created_at\",\"initial_value\":10,\"end_value\":5,"
     "\"last_value_func\":\"min\",\"range_end\":\"closed\"}",
     NULL,
     {
        {"[{\"created_at\":11},{\"created_at\":10},{\"created_at\":9},{\"created_at\":8},"
         "{\"created_at\":7},{\"created_at\":6},{\"created_at\":5},{\"created_at\":4},"
         "{\"created_at\":3},{\"created_at\":2},{\"created_at\":1}]",
         NULL, NULL, "01111110000",
         "{}"},
     }},
    {"S16 floats end open",
     "{\"cursor_path\":\"created_at\",\"initial_value\":0.0,\"end_value\":2.0}",
     NULL,
     {
        {"[{\"created_at\":0},{\"created_at\":0},{\"created_at\":1},{\"created_at\":1},"
         "{\"created_at\":2.1},{\"created_at\":1.5},{\"created_at\":1.5},{\"created_at\":2},"
         "{\"created_at\":2}]",
         NULL, NULL, "111101100",
         "{}"},
     }},
    {"S16 floats end closed",
     "{\"cursor_path\":\"created_at\",\"initial_value\":0.0,\"end_value\":2.0,"
     "\"range_end\":\"closed\"}",
     NULL,
     {
        {"[{\"created_at\":0},{\"created_at\":0},{\"created_at\":1},{\"created_at\":1},"
         "{\"created_at\":2.1},{\"created_at\":1.5},{\"created_at\":1.5},{\"created_at\":2},"
         "{\"created_at\":2}]",
         NULL, NULL, "111101111",
         "{}"},
     }},
    {"S17 end value with batches",
     "{\"cursor_path\":\"created_at\",\"initial_value\":1}",
     NULL,
     {
        {"[{\"created_at\":1},{\"created_at\":2},{\"created_at\":3},{\"created_at\":4},"
         "{\"created_at\":5},{\"created_at\":6},{\"created_at\":7},{\"created_at\":8},"
         "{\"created_at\":9},{\"created_at\":10},{\"created_at\":11},{\"created_at\":12}]",
         "1", "10", "111111111000",
         "{}"},
        {"[{\"created_at\":10},{\"created_at\":11},{\"created_at\":12},{\"created_at\":13},"
         "{\"created_at\":14},{\"created_at\":15},{\"created_at\":16},{\"created_at\":17},"
         "{\"created_at\":18},{\"created_at\":19},{\"created_at\":20},{\"created_at\":21}]",
         "10", "14", "111100000000",
         "{}"},
     }},
    {"S19 chunked ranges",
     "{\"cursor_path\":\"created_at\",\"initial_value\":1}",
     NULL,
     {
        {"[{\"created_at\":40},{\"created_at\":41},{\"created_at\":42},{\"created_at\":43},"
         "{\"created_at\":44},{\"created_at\":45},{\"created_at\":46},{\"created_at\":47},"
         "{\"created_at\":48},{\"created_at\":49},{\"created_at\":50},{\"created_at\":51},"
         "{\"created_at\":52},{\"created_at\":53},{\"created_at\":54},{\"created_at\":55},"
         "{\"created_at\":56},{\"created_at\":57},{\"created_at\":58},{\"created_at\":59}]",
         "40", "50", "11111111110000000000",
         "{}"},
        {"[{\"created_at\":50},{\"created_at\":51},{\"created_at\":52},{\"created_at\":53},"
         "{\"created_at\":54},{\"created_at\":55},{\"created_at\":56},{\"created_at\":57},"
         "{\"created_at\":58},{\"created_at\":59},{\"created_at\":60},{\"created_at\":61},"
         "{\"created_at\":62},{\"created_at\":63},{\"created_at\":64},{\"created_at\":65},"
         "{\"created_at\":66},{\"created_at\":67},{\"created_at\":68},{\"created_at\":69}]",
         "50", "60", "11111111110000000000",
         "{}"},
        {"[{\"created_at\":60},{\"created_at\":61},{\"created_at\":62},{\"created_at\":63},"
         "{\"created_at\":64},{\"created_at\":65},{\"created_at\":66},{\"created_at\":67},"
         "{\"created_at\":68},{\"created_at\":69},{\"created_at\":70},{\"created_at\":71},"
         "{\"created_at\":72},{\"created_at\":73},{\"created_at\":74},{\"created_at\":75},"
         "{\"created_at\":76},{\"created_at\":77},{\"created_at\":78},{\"created_at\":79}]",
         "60", "61", "10000000000000000000",
         "{}"},
        {"[{\"created_at\":62},{\"created_at\":63},{\"created_at\":64},{\"created_at\":65},"
         "{\"created_at\":66},{\"created_at\":67},{\"created_at\":68},{\"created_at\":69},"
         "{\"created_at\":70},{\"created_at\":71},{\"created_at\":72},{\"created_at\":73},"
         "{\"created_at\":74},{\"created_at\":75},{\"created_at\":76},{\"created_at\":77},"
         "{\"created_at\":78},{\"created_at\":79},{\"created_at\":80},{\"created_at\":81}]",
         "62", "70", "11111111000000000000",
         "{}"},
        {"[{\"created_at\":20},{\"created_at\":21},{\"created_at\":22},{\"created_at\":23},"
         "{\"created_at\":24},{\"created_at\":25},{\"created_at\":26},{\"created_at\":27},"
         "{\"created_at\":28},{\"created_at\":29},{\"created_at\":30},{\"created_at\":31},"
         "{\"created_at\":32},{\"created_at\":33},{\"created_at\":34},{\"created_at\":35},"
         "{\"created_at\":36},{\"created_at\":37},{\"created_at\":38},{\"created_at\":39}]",
         "20", "30", "11111111110000000000",
         "{}"},
        {"[{\"created_at\":70},{\"created_at\":71},{\"created_at\":72},{\"created_at\":73},"
         "{\"created_at\":74},{\"created_at\":75},{\"created_at\":76},{\"created_at\":77},"
         "{\"created_at\":78},{\"created_at\":79},{\"created_at\":80},{\"created_at\":81},"
         "{\"created_at\":82},{\"created_at\":83},{\"created_at\":84},{\"created_at\":85},"
         "{\"created_at\":86},{\"created_at\":87},{\"created_at\":88},{\"created_at\":89}]",
         "70", NULL, "11111111111111111111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":70,\"last_value\":89,"
         "\"start_value\":70,\"unique_hashes\":[\"G3Vxy+zDIttX\"]}}}"},
        {"[{\"created_at\":10},{\"created_at\":11},{\"created_at\":12},{\"created_at\":13},"
         "{\"created_at\":14},{\"created_at\":15},{\"created_at\":16},{\"created_at\":17},"
         "{\"created_at\":18},{\"created_at\":19},{\"created_at\":20},{\"created_at\":21},"
         "{\"created_at\":22},{\"created_at\":23},{\"created_at\":24},{\"created_at\":25},"
         "{\"created_at\":26},{\"created_at\":27},{\"created_at\":28},{\"created_at\":29}]",
         "10", "20", "11111111110000000000",
         "{\"incremental\":{\"created_at\":{\"initial_value\":70,\"last_value\":89,"
         "\"start_value\":70,\"unique_hashes\":[\"G3Vxy+zDIttX\"]}}}"},
        {"[{\"created_at\":89},{\"created_at\":90},{\"created_at\":91},{\"created_at\":92},"
         "{\"created_at\":93},{\"created_at\":94},{\"created_at\":95},{\"created_at\":96},"
         "{\"created_at\":97},{\"created_at\":98},{\"created_at\":99},{\"created_at\":100},"
         "{\"created_at\":101},{\"created_at\":102},{\"created_at\":103},{\"created_at\":104},"
         "{\"created_at\":105},{\"created_at\":106},{\"created_at\":107},{\"created_at\":108}]",
         NULL, NULL, "01111111111111111111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":70,\"last_value\":108,"
         "\"start_value\":89,\"unique_hashes\":[\"55ZhzRC23nxb\"]}}}"},
     }},
    {"S21 desc, open start",
     "{\"cursor_path\":\"created_at\",\"initial_value\":10,\"row_order\":\"desc\","
     "\"range_start\":\"open\"}",
     NULL,
     {
        {"[{\"created_at\":12},{\"created_at\":11},{\"created_at\":10},{\"created_at\":9},"
         "{\"created_at\":8}]",
         NULL, NULL, "11000",
         "{\"incremental\":{\"created_at\":{\"initial_value\":10,\"last_value\":12,"
         "\"start_value\":10,\"unique_hashes\":[]}}}"},
     }},
    {"S24 include, None anywhere",
     "{\"cursor_path\":\"created_at\",\"on_cursor_value_missing\":\"include\"}",
     NULL,
     {
        {"[{\"id\":1,\"created_at\":null},{\"id\":2,\"created_at\":1},{\"id\":3,"
         "\"created_at\":2}]",
         NULL, NULL, "111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":2,"
         "\"start_value\":null,\"unique_hashes\":[\"LK97K9T9MIWN\"]}}}"},
        {"[{\"id\":4,\"created_at\":1},{\"id\":5,\"created_at\":null},{\"id\":6,"
         "\"created_at\":3}]",
         NULL, NULL, "011",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":3,"
         "\"start_value\":2,\"unique_hashes\":[\"cR6yGPngwXNZ\"]}}}"},
     }},
    {"S24 include, missing key",
     "{\"cursor_path\":\"created_at\",\"on_cursor_value_missing\":\"include\"}",
     NULL,
     {
        {"[{\"id\":1,\"created_at\":1},{\"id\":2}]",
         NULL, NULL, "11",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":1,"
         "\"start_value\":null,\"unique_hashes\":[\"r1RCytIuqoDg\"]}}}"},
     }},
    {"S24 exclude",
     "{\"cursor_path\":\"created_at\",\"on_cursor_value_missing\":\"exclude\"}",
     NULL,
     {
        {"[{\"id\":1,\"created_at\":1},{\"id\":2,\"created_at\":2},{\"id\":3,"
         "\"created_at\":null},{\"id\":4}]",
         NULL, NULL, "1100",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":2,"
         "\"start_value\":null,\"unique_hashes\":[\"4gAnRHfFXulU\"]}}}"},
     }},
    {"S25 nested wildcard, include",
     "{\"cursor_path\":\"data.items[*].created_at\","
     "\"on_cursor_value_missing\":\"include\"}",
     NULL,
     {
        {"[{\"id\":1,\"data\":{\"items\":[{\"created_at\":null},{\"created_at\":1}]}}]",
         NULL, NULL, "1",
         "{\"incremental\":{\"data.items[*].created_at\":{\"initial_value\":null,"
         "\"last_value\":null,\"start_value\":null,\"unique_hashes\":[]}}}"},
     }},
    {"S27 int lag 100 max",
     "{\"cursor_path\":\"id\",\"lag\":100}",
     "id",
     {
        {"[{\"id\":100},{\"id\":200},{\"id\":300}]",
         NULL, NULL, "111",
         "{\"incremental\":{\"id\":{\"initial_value\":null,\"last_value\":300,"
         "\"start_value\":null,\"unique_hashes\":[]}}}"},
        {"[{\"id\":100,\"v\":\"u1\"},{\"id\":200,\"v\":\"u1\"},{\"id\":300,\"v\":\"u1\"},"
         "{\"id\":400,\"v\":\"u1\"}]",
         NULL, NULL, "0111",
         "{\"incremental\":{\"id\":{\"initial_value\":null,\"last_value\":400,"
         "\"start_value\":300,\"unique_hashes\":[]}}}"},
        {"[{\"id\":100,\"v\":\"u2\"},{\"id\":200,\"v\":\"u2\"},{\"id\":300,\"v\":\"u2\"},"
         "{\"id\":400,\"v\":\"u2\"},{\"id\":500,\"v\":\"u2\"}]",
         NULL, NULL, "00111",
         "{\"incremental\":{\"id\":{\"initial_value\":null,\"last_value\":500,"
         "\"start_value\":400,\"unique_hashes\":[]}}}"},
     }},
    {"S27 int lag 0 max",
     "{\"cursor_path\":\"id\",\"lag\":0}",
     "id",
     {
        {"[{\"id\":100},{\"id\":200},{\"id\":300}]",
         NULL, NULL, "111",
         "{\"incremental\":{\"id\":{\"initial_value\":null,\"last_value\":300,"
         "\"start_value\":null,\"unique_hashes\":[\"qA6Od6UtIUEa\"]}}}"},
        {"[{\"id\":100,\"v\":\"u1\"},{\"id\":200,\"v\":\"u1\"},{\"id\":300,\"v\":\"u1\"},"
         "{\"id\":400,\"v\":\"u1\"}]",
         NULL, NULL, "0001",
         "{\"incremental\":{\"id\":{\"initial_value\":null,\"last_value\":400,"
         "\"start_value\":300,\"unique_hashes\":[\"a6DQi0wSNh0H\"]}}}"},
        {"[{\"id\":100,\"v\":\"u2\"},{\"id\":200,\"v\":\"u2\"},{\"id\":300,\"v\":\"u2\"},"
         "{\"id\":400,\"v\":\"u2\"},{\"id\":500,\"v\":\"u2\"}]",
         NULL, NULL, "00001",
         "{\"incremental\":{\"id\":{\"initial_value\":null,\"last_value\":500,"
         "\"start_value\":400,\"unique_hashes\":[\"j3194mUM3gnc\"]}}}"},
     }},
    {"S27 int lag 1000 max",
     "{\"cursor_path\":\"id\",\"lag\":1000}",
     "id",
     {
        {"[{\"id\":100},{\"id\":200},{\"id\":300}]",
         NULL, NULL, "111",
         "{\"incremental\":{\"id\":{\"initial_value\":null,\"last_value\":300,"
         "\"start_value\":null,\"unique_hashes\":[]}}}"},
        {"[{\"id\":100,\"v\":\"u1\"},{\"id\":200,\"v\":\"u1\"},{\"id\":300,\"v\":\"u1\"},"
         "{\"id\":400,\"v\":\"u1\"}]",
         NULL, NULL, "1111",
         "{\"incremental\":{\"id\":{\"initial_value\":null,\"last_value\":400,"
         "\"start_value\":300,\"unique_hashes\":[]}}}"},
        {"[{\"id\":100,\"v\":\"u2\"},{\"id\":200,\"v\":\"u2\"},{\"id\":300,\"v\":\"u2\"},"
         "{\"id\":400,\"v\":\"u2\"},{\"id\":500,\"v\":\"u2\"}]",
         NULL, NULL, "11111",
         "{\"incremental\":{\"id\":{\"initial_value\":null,\"last_value\":500,"
         "\"start_value\":400,\"unique_hashes\":[]}}}"},
     }},
    {"S27 int lag 100 min",
     "{\"cursor_path\":\"id\",\"lag\":100,\"last_value_func\":\"min\"}",
     "id",
     {
        {"[{\"id\":100},{\"id\":200},{\"id\":300}]",
         NULL, NULL, "111",
         "{\"incremental\":{\"id\":{\"initial_value\":null,\"last_value\":100,"
         "\"start_value\":null,\"unique_hashes\":[]}}}"},
        {"[{\"id\":100,\"v\":\"u1\"},{\"id\":200,\"v\":\"u1\"},{\"id\":300,\"v\":\"u1\"},"
         "{\"id\":400,\"v\":\"u1\"}]",
         NULL, NULL, "1100",
         "{\"incremental\":{\"id\":{\"initial_value\":null,\"last_value\":100,"
         "\"start_value\":100,\"unique_hashes\":[]}}}"},
        {"[{\"id\":100,\"v\":\"u2\"},{\"id\":200,\"v\":\"u2\"},{\"id\":300,\"v\":\"u2\"},"
         "{\"id\":400,\"v\":\"u2\"},{\"id\":500,\"v\":\"u2\"}]",
         NULL, NULL, "11000",
         "{\"incremental\":{\"id\":{\"initial_value\":null,\"last_value\":100,"
         "\"start_value\":100,\"unique_hashes\":[]}}}"},
     }},
    {"S27 int lag 0 min",
     "{\"cursor_path\":\"id\",\"lag\":0,\"last_value_func\":\"min\"}",
     "id",
     {
        {"[{\"id\":100},{\"id\":200},{\"id\":300}]",
         NULL, NULL, "111",
         "{\"incremental\":{\"id\":{\"initial_value\":null,\"last_value\":100,"
         "\"start_value\":null,\"unique_hashes\":[\"3Fbej0WrGAeJ\"]}}}"},
        {"[{\"id\":100,\"v\":\"u1\"},{\"id\":200,\"v\":\"u1\"},{\"id\":300,\"v\":\"u1\"},"
         "{\"id\":400,\"v\":\"u1\"}]",
         NULL, NULL, "0000",
         "{\"incremental\":{\"id\":{\"initial_value\":null,\"last_value\":100,"
         "\"start_value\":null,\"unique_hashes\":[\"3Fbej0WrGAeJ\"]}}}"},
        {"[{\"id\":100,\"v\":\"u2\"},{\"id\":200,\"v\":\"u2\"},{\"id\":300,\"v\":\"u2\"},"
         "{\"id\":400,\"v\":\"u2\"},{\"id\":500,\"v\":\"u2\"}]",
         NULL, NULL, "00000",
         "{\"incremental\":{\"id\":{\"initial_value\":null,\"last_value\":100,"
         "\"start_value\":null,\"unique_hashes\":[\"3Fbej0WrGAeJ\"]}}}"},
     }},
    {"S28 datetime string lag 3600",
     "{\"cursor_path\":\"created_at\",\"lag\":3600}",
     "id",
     {
        {"[{\"id\":1,\"created_at\":\"2023-03-03T01:00:00Z\"},{\"id\":2,"
         "\"created_at\":\"2023-03-03T01:00:01Z\"},{\"id\":3,"
         "\"created_at\":\"2023-03-03T02:00:01Z\"}]",
         NULL, NULL, "111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,"
         "\"last_value\":\"2023-03-03T02:00:01Z\",\"start_value\":null,\"unique_hashes\":[]}}}"},
        {"[{\"id\":1,\"created_at\":\"2023-03-03T01:00:00Z\",\"v\":\"u1\"},{\"id\":2,"
         "\"created_at\":\"2023-03-03T01:00:01Z\",\"v\":\"u1\"},{\"id\":3,"
         "\"created_at\":\"2023-03-03T02:00:01Z\",\"v\":\"u1\"},{\"id\":4,"
         "\"created_at\":\"2023-03-03T03:00:00Z\",\"v\":\"u1\"}]",
         NULL, NULL, "0111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,"
         "\"last_value\":\"2023-03-03T03:00:00Z\",\"start_value\":\"2023-03-03T02:00:01Z\","
         "\"unique_hashes\":[]}}}"},
        {"[{\"id\":1,\"created_at\":\"2023-03-03T01:00:00Z\",\"v\":\"u2\"},{\"id\":2,"
         "\"created_at\":\"2023-03-03T01:00:01Z\",\"v\":\"u2\"},{\"id\":3,"
         "\"created_at\":\"2023-03-03T02:00:01Z\",\"v\":\"u2\"},{\"id\":4,"
         "\"created_at\":\"2023-03-03T03:00:00Z\",\"v\":\"u2\"},{\"id\":5,"
         "\"created_at\":\"2023-03-03T03:00:00Z\",\"v\":\"u2\"}]",
         NULL, NULL, "00111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,"
         "\"last_value\":\"2023-03-03T03:00:00Z\",\"start_value\":\"2023-03-03T03:00:00Z\","
         "\"unique_hashes\":[]}}}"},
     }},
    {"S28 datetime string lag 60",
     "{\"cursor_path\":\"created_at\",\"lag\":60}",
     "id",
     {
        {"[{\"id\":1,\"created_at\":\"2023-03-03T01:00:00Z\"},{\"id\":2,"
         "\"created_at\":\"2023-03-03T01:00:01Z\"},{\"id\":3,"
         "\"created_at\":\"2023-03-03T02:00:01Z\"}]",
         NULL, NULL, "111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,"
         "\"last_value\":\"2023-03-03T02:00:01Z\",\"start_value\":null,\"unique_hashes\":[]}}}"},
        {"[{\"id\":1,\"created_at\":\"2023-03-03T01:00:00Z\",\"v\":\"u1\"},{\"id\":2,"
         "\"created_at\":\"2023-03-03T01:00:01Z\",\"v\":\"u1\"},{\"id\":3,"
         "\"created_at\":\"2023-03-03T02:00:01Z\",\"v\":\"u1\"},{\"id\":4,"
         "\"created_at\":\"2023-03-03T03:00:00Z\",\"v\":\"u1\"}]",
         NULL, NULL, "0011",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,"
         "\"last_value\":\"2023-03-03T03:00:00Z\",\"start_value\":\"2023-03-03T02:00:01Z\","
         "\"unique_hashes\":[]}}}"},
        {"[{\"id\":1,\"created_at\":\"2023-03-03T01:00:00Z\",\"v\":\"u2\"},{\"id\":2,"
         "\"created_at\":\"2023-03-03T01:00:01Z\",\"v\":\"u2\"},{\"id\":3,"
         "\"created_at\":\"2023-03-03T02:00:01Z\",\"v\":\"u2\"},{\"id\":4,"
         "\"created_at\":\"2023-03-03T03:00:00Z\",\"v\":\"u2\"},{\"id\":5,"
         "\"created_at\":\"2023-03-03T03:00:00Z\",\"v\":\"u2\"}]",
         NULL, NULL, "00011",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,"
         "\"last_value\":\"2023-03-03T03:00:00Z\",\"start_value\":\"2023-03-03T03:00:00Z\","
         "\"unique_hashes\":[]}}}"},
     }},
    {"S28 datetime string lag 7200",
     "{\"cursor_path\":\"created_at\",\"lag\":7200}",
     "id",
     {
        {"[{\"id\":1,\"created_at\":\"2023-03-03T01:00:00Z\"},{\"id\":2,"
         "\"created_at\":\"2023-03-03T01:00:01Z\"},{\"id\":3,"
         "\"created_at\":\"2023-03-03T02:00:01Z\"}]",
         NULL, NULL, "111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,"
         "\"last_value\":\"2023-03-03T02:00:01Z\",\"start_value\":null,\"unique_hashes\":[]}}}"},
        {"[{\"id\":1,\"created_at\":\"2023-03-03T01:00:00Z\",\"v\":\"u1\"},{\"id\":2,"
         "\"created_at\":\"2023-03-03T01:00:01Z\",\"v\":\"u1\"},{\"id\":3,"
         "\"created_at\":\"2023-03-03T02:00:01Z\",\"v\":\"u1\"},{\"id\":4,"
         "\"created_at\":\"2023-03-03T03:00:00Z\",\"v\":\"u1\"}]",
         NULL, NULL, "1111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,"
         "\"last_value\":\"2023-03-03T03:00:00Z\",\"start_value\":\"2023-03-03T02:00:01Z\","
         "\"unique_hashes\":[]}}}"},
        {"[{\"id\":1,\"created_at\":\"2023-03-03T01:00:00Z\",\"v\":\"u2\"},{\"id\":2,"
         "\"created_at\":\"2023-03-03T01:00:01Z\",\"v\":\"u2\"},{\"id\":3,"
         "\"created_at\":\"2023-03-03T02:00:01Z\",\"v\":\"u2\"},{\"id\":4,"
         "\"created_at\":\"2023-03-03T03:00:00Z\",\"v\":\"u2\"},{\"id\":5,"
         "\"created_at\":\"2023-03-03T03:00:00Z\",\"v\":\"u2\"}]",
         NULL, NULL, "11111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,"
         "\"last_value\":\"2023-03-03T03:00:00Z\",\"start_value\":\"2023-03-03T03:00:00Z\","
         "\"unique_hashes\":[]}}}"},
     }},
    {"S28 datetime string lag 0",
     "{\"cursor_path\":\"created_at\",\"lag\":0}",
     "id",
     {
        {"[{\"id\":1,\"created_at\":\"2023-03-03T01:00:00Z\"},{\"id\":2,"
         "\"created_at\":\"2023-03-03T01:00:01Z\"},{\"id\":3,"
         "\"created_at\":\"2023-03-03T02:00:01Z\"}]",
         NULL, NULL, "111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,"
         "\"last_value\":\"2023-03-03T02:00:01Z\",\"start_value\":null,"
         "\"unique_hashes\":[\"Cn/dwi436vBb\"]}}}"},
        {"[{\"id\":1,\"created_at\":\"2023-03-03T01:00:00Z\",\"v\":\"u1\"},{\"id\":2,"
         "\"created_at\":\"2023-03-03T01:00:01Z\",\"v\":\"u1\"},{\"id\":3,"
         "\"created_at\":\"2023-03-03T02:00:01Z\",\"v\":\"u1\"},{\"id\":4,"
         "\"created_at\":\"2023-03-03T03:00:00Z\",\"v\":\"u1\"}]",
         NULL, NULL, "0001",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,"
         "\"last_value\":\"2023-03-03T03:00:00Z\",\"start_value\":\"2023-03-03T02:00:01Z\","
         "\"unique_hashes\":[\"9ydaHrzwo9f8\"]}}}"},
        {"[{\"id\":1,\"created_at\":\"2023-03-03T01:00:00Z\",\"v\":\"u2\"},{\"id\":2,"
         "\"created_at\":\"2023-03-03T01:00:01Z\",\"v\":\"u2\"},{\"id\":3,"
         "\"created_at\":\"2023-03-03T02:00:01Z\",\"v\":\"u2\"},{\"id\":4,"
         "\"created_at\":\"2023-03-03T03:00:00Z\",\"v\":\"u2\"},{\"id\":5,"
         "\"created_at\":\"2023-03-03T03:00:00Z\",\"v\":\"u2\"}]",
         NULL, NULL, "00001",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,"
         "\"last_value\":\"2023-03-03T03:00:00Z\",\"start_value\":\"2023-03-03T03:00:00Z\","
         "\"unique_hashes\":[\"9ydaHrzwo9f8\",\"tIXXf9wiHssy\"]}}}"},
     }},
    {"S29 int lag clamped at initial_value",
     "{\"cursor_path\":\"id\",\"lag\":1000,\"initial_value\":200}",
     "id",
     {
        {"[{\"id\":100},{\"id\":200},{\"id\":300}]",
         NULL, NULL, "011",
         "{\"incremental\":{\"id\":{\"initial_value\":200,\"last_value\":300,"
         "\"start_value\":200,\"unique_hashes\":[]}}}"},
        {"[{\"id\":100,\"v\":\"u1\"},{\"id\":200,\"v\":\"u1\"},{\"id\":300,\"v\":\"u1\"},"
         "{\"id\":400,\"v\":\"u1\"}]",
         NULL, NULL, "0111",
         "{\"incremental\":{\"id\":{\"initial_value\":200,\"last_value\":400,"
         "\"start_value\":300,\"unique_hashes\":[]}}}"},
        {"[{\"id\":100,\"v\":\"u2\"},{\"id\":200,\"v\":\"u2\"},{\"id\":300,\"v\":\"u2\"},"
         "{\"id\":400,\"v\":\"u2\"},{\"id\":500,\"v\":\"u2\"}]",
         NULL, NULL, "01111",
         "{\"incremental\":{\"id\":{\"initial_value\":200,\"last_value\":500,"
         "\"start_value\":400,\"unique_hashes\":[]}}}"},
     }},
    {"S30 lag keeps +08:00, last_value never regresses",
     "{\"cursor_path\":\"created_at\",\"initial_value\":\"2024-11-01T08:00:00+08:00\","
     "\"lag\":3600}",
     NULL,
     {
        {"[{\"created_at\":\"2024-11-01T12:00:00+08:00\"}]",
         NULL, NULL, "1",
         "{\"incremental\":{\"created_at\":{\"initial_value\":\"2024-11-01T08:00:00+08:00\","
         "\"last_value\":\"2024-11-01T12:00:00+08:00\","
         "\"start_value\":\"2024-11-01T08:00:00+08:00\",\"unique_hashes\":[]}}}"},
        {"[{\"created_at\":\"2024-11-01T10:00:00+08:00\"}]",
         NULL, NULL, "0",
         "{\"incremental\":{\"created_at\":{\"initial_value\":\"2024-11-01T08:00:00+08:00\","
         "\"last_value\":\"2024-11-01T12:00:00+08:00\","
         "\"start_value\":\"2024-11-01T08:00:00+08:00\",\"unique_hashes\":[]}}}"},
     }},
    {"S31 lag ignored with end_value",
     "{\"cursor_path\":\"id\",\"initial_value\":-450,\"end_value\":0,\"lag\":100,"
     "\"last_value_func\":\"max\"}",
     "id",
     {
        {"[{\"id\":-300},{\"id\":-200},{\"id\":-100}]",
         NULL, NULL, "111",
         "{}"},
        {"[{\"id\":-400,\"v\":\"u1\"},{\"id\":-300,\"v\":\"u1\"},{\"id\":-200,\"v\":\"u1\"},"
         "{\"id\":-100,\"v\":\"u1\"}]",
         NULL, NULL, "1111",
         "{}"},
     }},
    {"lag on dates is in days",
     "{\"cursor_path\":\"created_at\",\"lag\":1}",
     NULL,
     {
        {"[{\"created_at\":\"2023-03-01\"},{\"created_at\":\"2023-03-02\"}]",
         NULL, NULL, "11",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,"
         "\"last_value\":\"2023-03-02\",\"start_value\":null,\"unique_hashes\":[]}}}"},
        {"[{\"created_at\":\"2023-02-28\"},{\"created_at\":\"2023-03-01\"},"
         "{\"created_at\":\"2023-03-02\"},{\"created_at\":\"2023-03-03\"}]",
         NULL, NULL, "0111",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,"
         "\"last_value\":\"2023-03-03\",\"start_value\":\"2023-03-02\",\"unique_hashes\":[]}}}"},
     }},
    {"lag of 1.5 s, fraction digits",
     "{\"cursor_path\":\"created_at\",\"lag\":1.5}",
     NULL,
     {
        {"[{\"created_at\":\"2023-03-03T01:15:30.250Z\"}]",
         NULL, NULL, "1",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,"
         "\"last_value\":\"2023-03-03T01:15:30.250Z\",\"start_value\":null,"
         "\"unique_hashes\":[]}}}"},
        {"[{\"created_at\":\"2023-03-03T01:15:28.700Z\"},"
         "{\"created_at\":\"2023-03-03T01:15:28.800Z\"},"
         "{\"created_at\":\"2023-03-03T01:15:30.250Z\"}]",
         NULL, NULL, "011",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,"
         "\"last_value\":\"2023-03-03T01:15:30.250Z\","
         "\"start_value\":\"2023-03-03T01:15:30.250Z\",\"unique_hashes\":[]}}}"},
     }},
    {"lag on floats",
     "{\"cursor_path\":\"created_at\",\"lag\":0.5}",
     NULL,
     {
        {"[{\"created_at\":1.5},{\"created_at\":2.5}]",
         NULL, NULL, "11",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":2.5,"
         "\"start_value\":null,\"unique_hashes\":[]}}}"},
        {"[{\"created_at\":1.9},{\"created_at\":2.0},{\"created_at\":2.1}]",
         NULL, NULL, "011",
         "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":2.5,"
         "\"start_value\":2.5,\"unique_hashes\":[]}}}"},
     }},
};

/* ============================================================================================
 * Harness
 * ========================================================================================== */

struct world {
    struct sl_ctx ctx;
    struct sl_incremental_cfg cfg;
    struct sl_json *rstate; /* the heap resource state, kept across runs */
    char last_info[512];
    char last_warn[512];
    int warns;
};

static void log_cb(void *ud, sluice_log_level level, const char *msg)
{
    struct world *w = ud;
    if (level == SLUICE_LOG_INFO)
        snprintf(w->last_info, sizeof(w->last_info), "%s", msg);
    if (level == SLUICE_LOG_WARN) {
        snprintf(w->last_warn, sizeof(w->last_warn), "%s", msg);
        w->warns++;
    }
}

static struct sl_json *heap(const char *json)
{
    struct sl_ctx ctx;
    sl_ctx_init(&ctx);
    struct sl_json *v = NULL;
    if (json && sl_json_parse_heap(&ctx, json, strlen(json), &v) != SLUICE_OK)
        fprintf(stderr, "  bad JSON in test: %s (%s)\n", json, ctx.message);
    return v;
}

/* Parse cfg_json into w->cfg; returns the status (ctx keeps the error). */
static sluice_status world_init(struct world *w, const char *cfg_json)
{
    memset(w, 0, sizeof(*w));
    sl_ctx_init(&w->ctx);
    w->ctx.log_fn = log_cb;
    w->ctx.log_ctx = w;
    w->rstate = sl_json_new_object();
    struct sl_json *c = heap(cfg_json);
    sluice_status rc = sl_incremental_cfg_parse(&w->ctx, "r", c, &w->cfg);
    sl_json_free(c);
    return rc;
}

static void world_cleanup(struct world *w)
{
    sl_incremental_cfg_cleanup(&w->cfg);
    sl_json_free(w->rstate);
    w->rstate = NULL;
}

static void set_state(struct world *w, const char *json)
{
    sl_json_free(w->rstate);
    w->rstate = heap(json);
}

static sluice_status bind(struct world *w, const char *pk, const char *start, const char *end,
                          struct sl_incremental **inc)
{
    char *cols[1] = {(char *)pk};
    struct sl_json *s = heap(start), *e = heap(end);
    sluice_status rc = sl_incremental_bind(&w->ctx, &w->cfg, "r", pk ? cols : NULL, pk ? 1 : 0,
                                           false, w->rstate, s, e, inc);
    sl_json_free(s);
    sl_json_free(e);
    return rc;
}

/* Filter every item of the JSON array items through inc; mask gets '1'/'0' per item and 'E'
 * at the item that failed (item numbers are 1-based). */
static sluice_status filter_items(struct world *w, struct sl_incremental *inc, const char *items,
                                  char *mask, size_t masksz)
{
    struct sl_arena arena;
    sl_arena_init(&arena, 0);
    struct sl_json *arr = NULL;
    size_t m = 0;
    sluice_status rc = sl_json_parse(&w->ctx, &arena, items, strlen(items), &arr);
    for (uint32_t i = 0; rc == SLUICE_OK && i < arr->len && m + 2 < masksz; i++) {
        int keep = -1;
        rc = sl_incremental_filter(inc, &arr->u.items[i], (int64_t)i + 1, &keep);
        mask[m++] = rc ? 'E' : keep ? '1' : '0';
    }
    mask[m] = '\0';
    sl_arena_cleanup(&arena);
    return rc;
}

/* One run: bind, filter, commit when nothing failed. */
static sluice_status run_items(struct world *w, const char *pk, const char *items,
                               const char *start, const char *end, char *mask, size_t masksz)
{
    struct sl_incremental *inc = NULL;
    mask[0] = '\0';
    sluice_status rc = bind(w, pk, start, end, &inc);
    if (rc == SLUICE_OK)
        rc = filter_items(w, inc, items, mask, masksz);
    if (rc == SLUICE_OK)
        rc = sl_incremental_commit(inc);
    sl_incremental_free(&inc);
    return rc;
}

static char *state_dump(const struct world *w)
{
    return sl_json_dumps(w->rstate, SL_JSON_W_SORTED);
}

static void check_str(const char *what, const char *got, const char *exp, int line)
{
    test_checks++;
    if (!got || strcmp(got, exp) != 0) {
        test_failures++;
        fprintf(stderr, "  FAIL %s:%d: %s\n    got      %s\n    expected %s\n", __FILE__, line,
                what, got ? got : "(null)", exp);
    }
}

static void check_state(const struct world *w, const char *what, const char *exp, int line)
{
    char *got = state_dump(w);
    check_str(what, got, exp, line);
    sl_free(got);
}
#define CHECK_STATE(w, exp) check_state(w, "state", exp, __LINE__)

/* A run expected to succeed with this mask. */
static void expect_run(struct world *w, const char *pk, const char *items, const char *mask,
                       int line)
{
    char got[256];
    sluice_status rc = run_items(w, pk, items, NULL, NULL, got, sizeof(got));
    test_checks++;
    if (rc != SLUICE_OK) {
        test_failures++;
        fprintf(stderr, "  FAIL %s:%d: run failed: %s\n", __FILE__, line, w->ctx.message);
        sl_ctx_clear(&w->ctx);
    }
    check_str("mask", got, mask, line);
}
#define RUN(w, pk, items, mask) expect_run(w, pk, items, mask, __LINE__)

/* A run expected to fail at an item with this code, field and message. */
static void expect_fail(struct world *w, const char *pk, const char *items, const char *mask,
                        sluice_status code, const char *field, const char *msg, int line)
{
    char got[256];
    sluice_status rc = run_items(w, pk, items, NULL, NULL, got, sizeof(got));
    test_checks++;
    if (rc != code) {
        test_failures++;
        fprintf(stderr, "  FAIL %s:%d: status %d, expected %d (%s)\n", __FILE__, line, (int)rc,
                (int)code, w->ctx.message);
    }
    check_str("mask", got, mask, line);
    check_str("message", w->ctx.message, msg, line);
    check_str("field", w->ctx.field, field ? field : "", line);
    check_str("resource", w->ctx.resource, "r", line);
    sl_ctx_clear(&w->ctx);
}
#define RUN_FAIL(w, pk, items, mask, code, field, msg)                                         \
    expect_fail(w, pk, items, mask, code, field, msg, __LINE__)

/* ============================================================================================
 * Against dlt
 * ========================================================================================== */

TEST(dlt_scenarios_match)
{
    for (size_t s = 0; s < sizeof(dlt_scenarios) / sizeof(dlt_scenarios[0]); s++) {
        const struct scenario *sc = &dlt_scenarios[s];
        struct world w;
        CHECK_EQ_INT(world_init(&w, sc->cfg), SLUICE_OK);
        for (size_t r = 0; r < MAX_RUNS && sc->runs[r].items; r++) {
            const struct run_spec *rs = &sc->runs[r];
            char mask[256], what[160];
            sluice_status rc = run_items(&w, sc->resource_pk, rs->items, rs->start, rs->end, mask,
                                         sizeof(mask));
            snprintf(what, sizeof(what), "%s, run %zu", sc->name, r + 1);
            check_str(what, rc == SLUICE_OK ? "ok" : w.ctx.message, "ok", __LINE__);
            check_str(what, mask, rs->mask, __LINE__);
            check_state(&w, what, rs->state, __LINE__);
        }
        world_cleanup(&w);
    }
}

/* Whole-row hashes of awkward rows: orjson's number and string forms, sorted keys, duplicate
 * keys (the last wins), integers beyond int64. Expected: dlt's digest_dedup_value(json.loads). */
TEST(hash_bytes_match_dlt)
{
    static const struct {
        const char *row;
        const char *hash;
    } v[] = {
        {"{\"t\":1,\"f\":1.50}", "OQoagalWHHN+"},
        {"{\"t\":1,\"f\":1E2}", "SN7fGr/7p+wh"},
        {"{\"t\":1,\"f\":1e-7,\"g\":0.00001,\"h\":1e16,\"i\":123456789012345678,"
         "\"j\":1234567890123456.7,\"k\":-2.5e-300}",
         "Sz6S6xY6Cc9q"},
        {"{\"t\":1,\"s\":\"h\\u00e9llo \\u2028 \\u0001\\u001f\\\"\\\\/\\t\\n\\b\\f\\r\\u007f "
         "\\ud83d\\ude00\"}",
         "78oa0Sy/2Vhn"},
        {"{\"t\":1,\"b\":2,\"a\":1,\"\\u00e9\":3,\"Z\":{\"y\":[1,{\"d\":null,\"c\":true}],"
         "\"x\":false}}",
         "vXmLs86fvMkS"},
        {"{\"t\":1,\"u\":18446744073709551615,\"n\":-9223372036854775808}", "8oMGHh5eieE0"},
        {"{\"t\":1,\"z\":-0.0,\"w\":-0}", "P1iy5f7H4OJW"},
        {"{\"t\":1,\"a\":1,\"a\":2}", "lpvgAprM8+N2"},
        {"{\"t\":1,\"l\":[0.1,0.2,0.30000000000000004,1e22,5e-324]}", "HVG+NffewUxI"},
        {"{\"t\":1,\"a\":1e-5,\"b\":9007199254740993.0,\"c\":0.0000015,\"d\":1.5E+3}",
         "wXIGIII4jmYi"},
        {"{\"t\":1,\"id\":1}", "Q1kaEBl1gdKr"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct world w;
        CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"t\"}"), SLUICE_OK);
        char items[512], exp[256];
        snprintf(items, sizeof(items), "[%s]", v[i].row);
        RUN(&w, NULL, items, "1");
        snprintf(exp, sizeof(exp),
                 "{\"incremental\":{\"t\":{\"initial_value\":null,\"last_value\":1,"
                 "\"start_value\":null,\"unique_hashes\":[\"%s\"]}}}",
                 v[i].hash);
        check_state(&w, v[i].row, exp, __LINE__);
        world_cleanup(&w);
    }
}

/* State written by dlt < 1.29 holds 20-character hashes: they still match, the set keeps that
 * form while the maximum stays, and a new maximum starts a set of 12-character hashes. */
TEST(legacy_hashes)
{
    struct world w;
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"created_at\",\"primary_key\":\"id\"}"),
                 SLUICE_OK);
    set_state(&w, "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":3,"
                  "\"start_value\":null,\"unique_hashes\":[\"qOM08jBxq2rZrwZqk2gR\"]}}}");
    RUN(&w, NULL,
        "[{\"created_at\":3,\"id\":\"c\"},{\"created_at\":3,\"id\":\"d\"},"
        "{\"created_at\":2,\"id\":\"x\"}]",
        "010");
    CHECK_STATE(&w, "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":3,"
                    "\"start_value\":3,\"unique_hashes\":[\"CauTQ6dbh/YXKOWntRWd\","
                    "\"qOM08jBxq2rZrwZqk2gR\"]}}}");
    RUN(&w, NULL, "[{\"created_at\":3,\"id\":\"d\"},{\"created_at\":4,\"id\":\"g\"}]", "01");
    CHECK_STATE(&w, "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":4,"
                    "\"start_value\":3,\"unique_hashes\":[\"mrHcW/dIw0UL\"]}}}");
    world_cleanup(&w);
}

/* ============================================================================================
 * Custom last_value_func (S05)
 * ========================================================================================== */

struct calls {
    int n;
    int first_without_current;
};

static struct sl_json *max_plus_one(void *ud, const struct sl_json *row,
                                    const struct sl_json *current)
{
    struct calls *c = ud;
    if (c->n++ == 0)
        c->first_without_current = current == NULL;
    int64_t m = row->u.i;
    if (current && current->u.i > m)
        m = current->u.i;
    struct sl_json v;
    sl_json_set_int(&v, m + 1);
    return sl_json_dup(&v);
}

/* {type: max created_at} over rows of events, cursor "$" (dlt's test_last_value_func_on_dict) */
static struct sl_json *by_type(void *ud, const struct sl_json *row, const struct sl_json *current)
{
    (void)ud;
    struct sl_json *out = current ? sl_json_dup(current) : sl_json_new_object();
    if (!out)
        return NULL;
    const struct sl_json *t = sl_json_get(row, "type");
    const struct sl_json *c = sl_json_get(row, "created_at");
    if (t && c && out->type == SL_JSON_OBJECT) {
        const struct sl_json *old = sl_json_get(out, t->s);
        struct sl_json v;
        sl_json_set_int(&v, old && old->u.i > c->u.i ? old->u.i : c->u.i);
        if (!sl_json_obj_set_take(out, t->s, &v)) {
            sl_json_free(out);
            return NULL;
        }
    }
    return out;
}

/* min as a custom function, to test the f([end, initial]) == end check */
static struct sl_json *custom_min(void *ud, const struct sl_json *a, const struct sl_json *b)
{
    (void)ud;
    return sl_json_dup(b && b->u.i < a->u.i ? b : a);
}

TEST(custom_last_value_func)
{
    struct world w;
    struct calls calls = {0, 0};
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"created_at\"}"), SLUICE_OK);
    w.cfg.func = SL_INC_CUSTOM;
    w.cfg.custom_fn = max_plus_one;
    w.cfg.custom_ud = &calls;
    RUN(&w, NULL, "[{\"created_at\":9},{\"created_at\":10}]", "11");
    CHECK(calls.first_without_current);
    CHECK(calls.n >= 2);
    CHECK_STATE(&w, "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":11,"
                    "\"start_value\":null,\"unique_hashes\":[\"RnG180oP833H\"]}}}");
    world_cleanup(&w);

    const char *events = "[{\"type\":\"A\",\"created_at\":1},{\"type\":\"B\",\"created_at\":2},"
                         "{\"type\":\"A\",\"created_at\":3},{\"type\":\"B\",\"created_at\":1}]";
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"$\"}"), SLUICE_OK);
    w.cfg.func = SL_INC_CUSTOM;
    w.cfg.custom_fn = by_type;
    RUN(&w, NULL, events, "1111");
    const char *after = "{\"incremental\":{\"$\":{\"initial_value\":null,\"last_value\":{\"A\":3,"
                        "\"B\":2},\"start_value\":null,\"unique_hashes\":[\"Ry7YRlTfA81k\"]}}}";
    CHECK_STATE(&w, after);
    RUN(&w, NULL, events, "0000");
    CHECK_STATE(&w, after);
    /* forget type A: exactly the A rows (and B's boundary row, not hashed before) come back */
    struct sl_json *lv = sl_json_get_mut(
        sl_json_get_mut(sl_json_get_mut(w.rstate, "incremental"), "$"), "last_value");
    CHECK(lv && sl_json_obj_del(lv, "A"));
    RUN(&w, NULL, events, "1110");
    CHECK_STATE(&w, "{\"incremental\":{\"$\":{\"initial_value\":null,\"last_value\":{\"A\":3,"
                    "\"B\":2},\"start_value\":{\"B\":2},\"unique_hashes\":[\"Ry7YRlTfA81k\"]}}}");
    world_cleanup(&w);

    /* lag is ignored with a custom function (logged), boundary de-duplication stays on */
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"created_at\",\"lag\":100}"), SLUICE_OK);
    w.cfg.func = SL_INC_CUSTOM;
    w.cfg.custom_fn = custom_min;
    RUN(&w, NULL, "[{\"created_at\":300},{\"created_at\":200}]", "11");
    CHECK_EQ_INT(w.warns, 1);
    CHECK_EQ_STR(w.last_warn,
                 "Lag on r is only supported for max or min last_value_func: lag ignored");
    RUN(&w, NULL, "[{\"created_at\":200},{\"created_at\":250},{\"created_at\":100}]", "001");
    world_cleanup(&w);

    /* the custom function decides whether initial_value is beyond end_value */
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"c\",\"initial_value\":3,\"end_value\":5}"),
                 SLUICE_OK);
    w.cfg.func = SL_INC_CUSTOM;
    w.cfg.custom_fn = custom_min;
    RUN_FAIL(&w, NULL, "[]", "", SLUICE_ERR_CONFIG, "incremental.end_value",
             "initial_value=3 is greater than end_value=5 as determined by the custom "
             "last_value_func: f([end_value, initial_value]) must equal end_value");
    world_cleanup(&w);
}

/* ============================================================================================
 * Ranges, end_value, row_order
 * ========================================================================================== */

/* S18: an end value makes the run stateless; the throw-away slot starts at initial_value. */
TEST(end_value_is_stateless)
{
    struct world w;
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"created_at\",\"initial_value\":20,"
                                "\"end_value\":30}"),
                 SLUICE_OK);
    struct sl_incremental *inc = NULL;
    CHECK_EQ_INT(bind(&w, NULL, NULL, NULL, &inc), SLUICE_OK);
    CHECK_EQ_STR(w.last_info,
                 "Bind incremental on r with initial_value=20, start_value=20, end_value=30");
    static const char *const which[] = {"initial_value", "start_value", "last_value"};
    for (size_t i = 0; i < 3; i++) {
        const struct sl_json *v = sl_incremental_value(inc, which[i]);
        CHECK(v && v->type == SL_JSON_INT && v->u.i == 20);
    }
    const struct sl_json *e = sl_incremental_value(inc, "end_value");
    CHECK(e && e->type == SL_JSON_INT && e->u.i == 30);
    CHECK(sl_incremental_value(inc, "nonsense") == NULL);
    char mask[64];
    CHECK_EQ_INT(filter_items(&w, inc,
                              "[{\"created_at\":19},{\"created_at\":20},{\"created_at\":29},"
                              "{\"created_at\":30},{\"created_at\":25}]",
                              mask, sizeof(mask)),
                 SLUICE_OK);
    CHECK_EQ_STR(mask, "01101");
    const struct sl_json *l = sl_incremental_value(inc, "last_value");
    CHECK(l && l->type == SL_JSON_INT && l->u.i == 29);
    CHECK_EQ_INT(sl_incremental_commit(inc), SLUICE_OK);
    sl_incremental_free(&inc);
    CHECK(inc == NULL);
    sl_incremental_free(NULL);
    CHECK_STATE(&w, "{}");
    world_cleanup(&w);

    /* a stateful bind with nothing set logs nulls and creates the slot */
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"created_at\"}"), SLUICE_OK);
    CHECK_EQ_INT(bind(&w, NULL, NULL, NULL, &inc), SLUICE_OK);
    CHECK_EQ_STR(w.last_info,
                 "Bind incremental on r with initial_value=null, start_value=null, end_value=null");
    CHECK(sl_incremental_value(inc, "start_value") == NULL);
    sl_incremental_free(&inc);
    CHECK_STATE(&w, "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":null,"
                    "\"start_value\":null,\"unique_hashes\":[]}}}");
    world_cleanup(&w);
}

struct order_case {
    const char *cfg;
    int64_t from, to, step;
    int64_t close_at; /* first value where can_close is true, or INT64_MIN */
    int kept;
};

/* S21: can_close tells the source it may stop; flags are overwritten by every row. */
TEST(row_order_can_close)
{
    static const struct order_case cases[] = {
        {"{\"cursor_path\":\"c\",\"initial_value\":10,\"row_order\":\"desc\"}", 48, -1, -1, 9, 39},
        {"{\"cursor_path\":\"c\",\"initial_value\":22,\"end_value\":45,\"row_order\":\"asc\"}", 22,
         61, 1, 45, 23},
        {"{\"cursor_path\":\"c\",\"initial_value\":22,\"end_value\":45,\"row_order\":\"desc\"}", 22,
         61, 1, INT64_MIN, 23},
        {"{\"cursor_path\":\"c\",\"initial_value\":10,\"row_order\":\"desc\","
         "\"range_start\":\"open\"}",
         12, 7, -1, 10, 2},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const struct order_case *oc = &cases[k];
        struct world w;
        CHECK_EQ_INT(world_init(&w, oc->cfg), SLUICE_OK);
        struct sl_incremental *inc = NULL;
        CHECK_EQ_INT(bind(&w, NULL, NULL, NULL, &inc), SLUICE_OK);
        int kept = 0;
        int64_t close_at = INT64_MIN;
        for (int64_t v = oc->from; v != oc->to; v += oc->step) {
            char item[64];
            snprintf(item, sizeof(item), "[{\"c\":%lld}]", (long long)v);
            char mask[8];
            CHECK_EQ_INT(filter_items(&w, inc, item, mask, sizeof(mask)), SLUICE_OK);
            kept += mask[0] == '1';
            if (close_at == INT64_MIN && sl_incremental_can_close(inc))
                close_at = v;
        }
        CHECK_EQ_INT(close_at, oc->close_at);
        CHECK_EQ_INT(kept, oc->kept);
        sl_incremental_free(&inc);
        world_cleanup(&w);
    }

    /* start_out_of_range from the row equal to an open start on; reset by a kept row */
    struct world w;
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"c\",\"initial_value\":10,"
                                "\"range_start\":\"open\",\"end_value\":20}"),
                 SLUICE_OK);
    struct sl_incremental *inc = NULL;
    CHECK_EQ_INT(bind(&w, NULL, NULL, NULL, &inc), SLUICE_OK);
    static const struct {
        int v;
        int keep, soor, eoor;
    } rows[] = {{12, 1, 0, 0}, {10, 0, 1, 0}, {9, 0, 1, 0}, {15, 1, 0, 0}, {20, 0, 0, 1},
                {11, 1, 0, 0}};
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char item[32], mask[8];
        snprintf(item, sizeof(item), "[{\"c\":%d}]", rows[i].v);
        CHECK_EQ_INT(filter_items(&w, inc, item, mask, sizeof(mask)), SLUICE_OK);
        CHECK_EQ_INT(mask[0] == '1', rows[i].keep);
        CHECK_EQ_INT(sl_incremental_start_out_of_range(inc), rows[i].soor);
        CHECK_EQ_INT(sl_incremental_end_out_of_range(inc), rows[i].eoor);
        CHECK(!sl_incremental_can_close(inc)); /* no row_order */
    }
    sl_incremental_free(&inc);
    world_cleanup(&w);
}

/* ============================================================================================
 * Missing cursors and primary keys (S23, S25, S14)
 * ========================================================================================== */

TEST(missing_cursor_raises)
{
    struct world w;
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"created_at\"}"), SLUICE_OK);
    RUN_FAIL(&w, NULL, "[{\"id\":1,\"created_at\":1},{\"id\":2,\"created_at\":null}]", "1E",
             SLUICE_ERR_INCREMENTAL, "$.created_at",
             "cursor path 'created_at' is null in the item: every item must have a value, or "
             "set on_cursor_value_missing to include or exclude");
    CHECK_EQ_INT(w.ctx.item, -1); /* cleared by RUN_FAIL; check the item separately below */
    char mask[16];
    CHECK_EQ_INT(run_items(&w, NULL, "[{\"created_at\":1},{\"id\":2}]", NULL, NULL, mask,
                           sizeof(mask)),
                 SLUICE_ERR_INCREMENTAL);
    CHECK_EQ_INT(w.ctx.item, 2);
    CHECK_EQ_STR(w.ctx.message,
                 "cursor path 'created_at' was not found in the item: every item must contain "
                 "it (use the field names of the source data), or set on_cursor_value_missing "
                 "to include or exclude");
    sl_ctx_clear(&w.ctx);
    /* a failed run commits nothing: the slot is still the fresh one */
    CHECK_STATE(&w, "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":null,"
                    "\"start_value\":null,\"unique_hashes\":[]}}}");
    world_cleanup(&w);

    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"data.items[*].created_at\"}"), SLUICE_OK);
    RUN_FAIL(&w, NULL, "[{\"data\":{\"items\":[{\"created_at\":null},{\"created_at\":1}]}}]",
             "E", SLUICE_ERR_INCREMENTAL, "$.data.items[*].created_at",
             "cursor path 'data.items[*].created_at' is null in the item: every item must have "
             "a value, or set on_cursor_value_missing to include or exclude");
    world_cleanup(&w);

    /* the resource's key names a column the rows do not have (dlt: IncrementalPrimaryKeyMissing) */
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"created_at\"}"), SLUICE_OK);
    RUN_FAIL(&w, "DELTA", "[{\"created_at\":1,\"delta\":1}]", "E", SLUICE_ERR_INCREMENTAL,
             "$.DELTA",
             "primary key column 'DELTA' was not found in the item: every item must contain it "
             "(boundary de-duplication), use the field names of the source data");
    world_cleanup(&w);
}

/* ============================================================================================
 * Typed cursors (beyond dlt)
 * ========================================================================================== */

/* S32 under sluice's rule: naive and aware datetimes mix only with assume_tz. */
TEST(naive_and_aware_datetimes)
{
    struct world w;
    const char *naive12 = "[{\"created_at\":\"2024-01-01T01:00:00\"},"
                          "{\"created_at\":\"2024-01-01T02:00:00\"}]";
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"created_at\","
                                "\"initial_value\":\"2024-01-01T01:00:00Z\"}"),
                 SLUICE_OK);
    RUN_FAIL(&w, NULL, naive12, "E", SLUICE_ERR_INCREMENTAL, "$.created_at",
             "cursor value '2024-01-01T01:00:00' (naive datetime) cannot be compared with "
             "last_value '2024-01-01T01:00:00Z' (datetime): naive and aware datetimes cannot be "
             "mixed; set assume_tz (e.g. \"UTC\") to read naive datetimes in a zone");
    world_cleanup(&w);

    /* aware initial_value, naive data read as UTC: the naive text is what is stored */
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"created_at\",\"assume_tz\":\"UTC\","
                                "\"initial_value\":\"2024-01-01T01:00:00Z\"}"),
                 SLUICE_OK);
    RUN(&w, NULL, naive12, "11");
    CHECK_STATE(&w, "{\"incremental\":{\"created_at\":{\"initial_value\":\"2024-01-01T01:00:00Z\","
                    "\"last_value\":\"2024-01-01T02:00:00\",\"start_value\":"
                    "\"2024-01-01T01:00:00Z\",\"unique_hashes\":[\"r1vQfxQx7Xk4\"]}}}");
    RUN(&w, NULL,
        "[{\"created_at\":\"2024-01-01T01:00:00\"},{\"created_at\":\"2024-01-01T02:00:00\"},"
        "{\"created_at\":\"2024-01-01T03:00:00\"}]",
        "001");
    CHECK_STATE(&w, "{\"incremental\":{\"created_at\":{\"initial_value\":\"2024-01-01T01:00:00Z\","
                    "\"last_value\":\"2024-01-01T03:00:00\",\"start_value\":"
                    "\"2024-01-01T02:00:00\",\"unique_hashes\":[\"9kW1IUkXgKPO\"]}}}");
    world_cleanup(&w);

    /* naive initial_value, aware data */
    const char *aware14 = "[{\"created_at\":\"2024-01-01T01:00:00Z\"},"
                          "{\"created_at\":\"2024-01-01T02:00:00Z\"},"
                          "{\"created_at\":\"2024-01-01T03:00:00Z\"},"
                          "{\"created_at\":\"2024-01-01T04:00:00Z\"}]";
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"created_at\","
                                "\"initial_value\":\"2024-01-01T03:00:00\"}"),
                 SLUICE_OK);
    RUN_FAIL(&w, NULL, aware14, "E", SLUICE_ERR_INCREMENTAL, "$.created_at",
             "cursor value '2024-01-01T01:00:00Z' (datetime) cannot be compared with last_value "
             "'2024-01-01T03:00:00' (naive datetime): naive and aware datetimes cannot be mixed; "
             "set assume_tz (e.g. \"UTC\") to read naive datetimes in a zone");
    world_cleanup(&w);
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"created_at\",\"assume_tz\":\"UTC\","
                                "\"initial_value\":\"2024-01-01T03:00:00\"}"),
                 SLUICE_OK);
    RUN(&w, NULL, aware14, "0011");
    CHECK_STATE(&w, "{\"incremental\":{\"created_at\":{\"initial_value\":\"2024-01-01T03:00:00\","
                    "\"last_value\":\"2024-01-01T04:00:00Z\",\"start_value\":"
                    "\"2024-01-01T03:00:00\",\"unique_hashes\":[\"3Xx+I2Eb8e9L\"]}}}");
    world_cleanup(&w);

    /* the data switch from naive to aware between runs */
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"created_at\",\"primary_key\":\"id\","
                                "\"assume_tz\":\"UTC\"}"),
                 SLUICE_OK);
    RUN(&w, NULL,
        "[{\"id\":1,\"created_at\":\"2024-01-01T01:00:00\"},"
        "{\"id\":2,\"created_at\":\"2024-01-01T02:00:00\"}]",
        "11");
    RUN(&w, NULL,
        "[{\"id\":1,\"created_at\":\"2024-01-01T01:00:00Z\"},"
        "{\"id\":2,\"created_at\":\"2024-01-01T02:00:00Z\"},"
        "{\"id\":3,\"created_at\":\"2024-01-01T03:00:00Z\"}]",
        "001");
    CHECK_STATE(&w, "{\"incremental\":{\"created_at\":{\"initial_value\":null,"
                    "\"last_value\":\"2024-01-01T03:00:00Z\",\"start_value\":"
                    "\"2024-01-01T02:00:00\",\"unique_hashes\":[\"Cn/dwi436vBb\"]}}}");
    world_cleanup(&w);

    /* aware initial and end values, naive data */
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"created_at\",\"assume_tz\":\"UTC\","
                                "\"initial_value\":\"2024-01-01T01:00:00Z\","
                                "\"end_value\":\"2024-01-01T04:00:00+00:00\"}"),
                 SLUICE_OK);
    RUN(&w, NULL,
        "[{\"created_at\":\"2024-01-01T01:00:00\"},{\"created_at\":\"2024-01-01T02:00:00\"},"
        "{\"created_at\":\"2024-01-01T03:00:00\"},{\"created_at\":\"2024-01-01T04:00:00\"},"
        "{\"created_at\":\"2024-01-01T05:00:00\"}]",
        "11100");
    CHECK_STATE(&w, "{}");
    world_cleanup(&w);

    /* naive values read in a fixed offset */
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"created_at\",\"assume_tz\":\"+02:00\","
                                "\"initial_value\":\"2024-01-01T08:30:00Z\"}"),
                 SLUICE_OK);
    RUN(&w, NULL,
        "[{\"created_at\":\"2024-01-01T10:00:00\"},{\"created_at\":\"2024-01-01 11:00:00\"}]",
        "01");
    world_cleanup(&w);

    /* an integer initial_value against datetime strings (dlt: IncrementalCursorInvalidCoercion) */
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"created_at\",\"initial_value\":9999}"),
                 SLUICE_OK);
    RUN_FAIL(&w, NULL, "[{\"created_at\":\"2024-01-01 00:00:00\"}]", "E", SLUICE_ERR_INCREMENTAL,
             "$.created_at",
             "cursor value '2024-01-01 00:00:00' (naive datetime) cannot be compared with "
             "last_value '9999' (integer)");
    world_cleanup(&w);
}

/* Datetimes with different offsets compare as instants, and the stored text is the data's. */
TEST(offsets_compare_as_instants)
{
    struct world w;
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"created_at\","
                                "\"initial_value\":\"2024-01-01T07:00:00Z\"}"),
                 SLUICE_OK);
    /* 10:00+02:00 is 08:00Z, below 09:30Z although its text sorts higher */
    RUN(&w, NULL,
        "[{\"created_at\":\"2024-01-01T10:00:00+02:00\"},{\"created_at\":\"2024-01-01T09:30:00Z\"},"
        "{\"created_at\":\"2024-01-01T10:30:00+01:00\"}]",
        "111");
    CHECK_STATE(&w, "{\"incremental\":{\"created_at\":{\"initial_value\":\"2024-01-01T07:00:00Z\","
                    "\"last_value\":\"2024-01-01T09:30:00Z\",\"start_value\":"
                    "\"2024-01-01T07:00:00Z\",\"unique_hashes\":[\"26dVEmJrcLbE\","
                    "\"exKLEzD0ZhIj\"]}}}");
    RUN(&w, NULL,
        "[{\"created_at\":\"2024-01-01T11:00:00+02:00\"},"
        "{\"created_at\":\"2024-01-01T10:30:00+01:00\"},"
        "{\"created_at\":\"2024-01-01T09:31:00.000000001Z\"},"
        "{\"created_at\":\"2024-01-01T09:31:00Z\"}]",
        "0011");
    CHECK_STATE(&w, "{\"incremental\":{\"created_at\":{\"initial_value\":\"2024-01-01T07:00:00Z\","
                    "\"last_value\":\"2024-01-01T09:31:00.000000001Z\",\"start_value\":"
                    "\"2024-01-01T09:30:00Z\",\"unique_hashes\":[\"1ihgS9vS6gt/\"]}}}");
    RUN(&w, NULL,
        "[{\"created_at\":\"2024-01-01T04:31:00-05:00\"},"
        "{\"created_at\":\"2024-01-01T04:32:00-05:00\"}]",
        "01");
    CHECK_STATE(&w, "{\"incremental\":{\"created_at\":{\"initial_value\":\"2024-01-01T07:00:00Z\","
                    "\"last_value\":\"2024-01-01T04:32:00-05:00\",\"start_value\":"
                    "\"2024-01-01T09:31:00.000000001Z\",\"unique_hashes\":[\"b/4FgDx+MbA7\"]}}}");
    world_cleanup(&w);
}

/* Numbers compare by exact decimal value: integers beyond int64, long fractions. */
TEST(decimals_beyond_int64)
{
    struct world w;
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"c\",\"primary_key\":\"id\"}"), SLUICE_OK);
    RUN(&w, NULL,
        "[{\"id\":1,\"c\":9223372036854775807},{\"id\":2,\"c\":9223372036854775808},"
        "{\"id\":3,\"c\":123456789012345678901234567890},"
        "{\"id\":4,\"c\":123456789012345678901234567889},"
        "{\"id\":5,\"c\":123456789012345678901234567890.0}]",
        "11111");
    CHECK_STATE(&w, "{\"incremental\":{\"c\":{\"initial_value\":null,"
                    "\"last_value\":123456789012345678901234567890,\"start_value\":null,"
                    "\"unique_hashes\":[\"Cn/dwi436vBb\",\"tIXXf9wiHssy\"]}}}");
    RUN(&w, NULL,
        "[{\"id\":3,\"c\":123456789012345678901234567890},"
        "{\"id\":6,\"c\":123456789012345678901234567890.00000000000000000001},"
        "{\"id\":7,\"c\":1.23456789012345678901234567890e29},"
        "{\"id\":8,\"c\":1.2345678901234567890123456788e29}]",
        "0110");
    CHECK_STATE(&w, "{\"incremental\":{\"c\":{\"initial_value\":null,"
                    "\"last_value\":123456789012345678901234567890.00000000000000000001,"
                    "\"start_value\":123456789012345678901234567890,"
                    "\"unique_hashes\":[\"Idkwk/6E20TE\"]}}}");
    world_cleanup(&w);

    /* min over negative decimals, equal values written differently */
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"c\",\"primary_key\":\"id\","
                                "\"last_value_func\":\"min\"}"),
                 SLUICE_OK);
    RUN(&w, NULL,
        "[{\"id\":1,\"c\":-1e-3},{\"id\":2,\"c\":-0.001},{\"id\":3,\"c\":-0.0011},"
        "{\"id\":4,\"c\":0},{\"id\":5,\"c\":-0.00110},{\"id\":6,\"c\":-0.0}]",
        "111111");
    CHECK_STATE(&w, "{\"incremental\":{\"c\":{\"initial_value\":null,\"last_value\":-0.0011,"
                    "\"start_value\":null,\"unique_hashes\":[\"Cn/dwi436vBb\","
                    "\"tIXXf9wiHssy\"]}}}");
    RUN(&w, NULL, "[{\"id\":9,\"c\":-0.0010999},{\"id\":10,\"c\":-11e-4}]", "01");
    world_cleanup(&w);
}

TEST(cursor_type_change_is_an_error)
{
    struct world w;
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"created_at\"}"), SLUICE_OK);
    RUN(&w, NULL, "[{\"created_at\":5}]", "1");
    char *before = state_dump(&w);
    RUN_FAIL(&w, NULL, "[{\"created_at\":\"2024-01-01\"}]", "E", SLUICE_ERR_INCREMENTAL,
             "$.created_at",
             "cursor value '2024-01-01' (date) cannot be compared with last_value '5' (integer)");
    check_state(&w, "unchanged", before, __LINE__);
    sl_free(before);
    world_cleanup(&w);

    CHECK_EQ_INT(
        world_init(&w, "{\"cursor_path\":\"created_at\",\"initial_value\":\"2024-01-01\"}"),
        SLUICE_OK);
    /* a date initial_value against datetimes stands for its midnight (dlt's string order) */
    RUN(&w, NULL,
        "[{\"created_at\":\"2023-12-31T23:00:00Z\"},{\"created_at\":\"2024-01-02T00:00:00Z\"}]",
        "01");
    world_cleanup(&w);

    /* an impossible date is no date: a plain string */
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"d\",\"initial_value\":\"2023-02-28\"}"),
                 SLUICE_OK);
    RUN(&w, NULL, "[{\"d\":\"2024-02-29\"}]", "1");
    RUN_FAIL(&w, NULL, "[{\"d\":\"2025-02-29\"}]", "E", SLUICE_ERR_INCREMENTAL, "$.d",
             "cursor value '2025-02-29' (string) cannot be compared with last_value '2024-02-29' "
             "(date)");
    world_cleanup(&w);

    /* an initial_value that is not an ISO datetime while the data are datetimes */
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"created_at\",\"initial_value\":\"yesterday\"}"),
                 SLUICE_OK);
    RUN_FAIL(&w, NULL, "[{\"created_at\":\"2024-01-02T00:00:00Z\"}]", "E", SLUICE_ERR_INCREMENTAL,
             "$.created_at",
             "cursor value '2024-01-02T00:00:00Z' (datetime) cannot be compared with last_value "
             "'yesterday' (string)");
    world_cleanup(&w);

    /* plain strings (numbers in strings too) compare byte-wise, as dlt does */
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"v\",\"initial_value\":\"10\"}"), SLUICE_OK);
    RUN(&w, NULL, "[{\"v\":\"9\"},{\"v\":\"100\"},{\"v\":\"099\"}]", "110");
    world_cleanup(&w);
    /* end_value of another kind: the row is compared with it first */
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"v\",\"initial_value\":1,\"end_value\":5}"),
                 SLUICE_OK);
    RUN_FAIL(&w, NULL, "[{\"v\":true}]", "E", SLUICE_ERR_INCREMENTAL, "$.v",
             "cursor value 'true' (bool) cannot be compared with end_value '5' (integer)");
    world_cleanup(&w);
}

/* ============================================================================================
 * Hash cap, warnings, state
 * ========================================================================================== */

TEST(hash_cap)
{
    struct world w;
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"t\",\"max_unique_hashes\":3}"), SLUICE_OK);
    RUN_FAIL(&w, NULL,
             "[{\"t\":1,\"id\":1},{\"t\":1,\"id\":2},{\"t\":1,\"id\":3},{\"t\":1,\"id\":4}]",
             "111E", SLUICE_ERR_INCREMENTAL, "$.t",
             "more than 3 items share the cursor value 1: use a finer cursor (e.g. a timestamp "
             "with sub-second precision), or merge with a primary key and `primary_key: []` on "
             "the incremental to disable boundary de-duplication");
    world_cleanup(&w);
    /* the same rows are fine when de-duplication is off */
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"t\",\"max_unique_hashes\":3,"
                                "\"primary_key\":[]}"),
                 SLUICE_OK);
    RUN(&w, NULL, "[{\"t\":1,\"id\":1},{\"t\":1,\"id\":2},{\"t\":1,\"id\":3},{\"t\":1,\"id\":4}]",
        "1111");
    world_cleanup(&w);

    /* default cap, and dlt's warning past 200 hashes */
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"t\"}"), SLUICE_OK);
    CHECK_EQ_INT(w.cfg.max_unique_hashes, 10000);
    struct sl_buf b;
    sl_buf_init(&b, 0);
    sl_buf_putc(&b, '[');
    for (int i = 1; i <= 201; i++)
        sl_buf_printf(&b, "%s{\"t\":1,\"id\":%d}", i > 1 ? "," : "", i);
    sl_buf_putc(&b, ']');
    char mask[256];
    CHECK_EQ_INT(run_items(&w, NULL, b.data, NULL, NULL, mask, sizeof(mask)), SLUICE_OK);
    CHECK_EQ_INT(w.warns, 1);
    CHECK_EQ_STR(w.last_warn, "Large number of records (201) sharing the same value of cursor "
                              "field 't' on resource 'r': consider a cursor with a higher "
                              "resolution");
    sl_buf_cleanup(&b);
    world_cleanup(&w);
}

/* A run that keeps nothing leaves the slot byte-identical, stored hash order included. */
TEST(untouched_slot_is_byte_identical)
{
    struct world w;
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"created_at\",\"primary_key\":\"id\"}"),
                 SLUICE_OK);
    const char *seed = "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":3,"
                       "\"start_value\":null,\"unique_hashes\":[\"qOM08jBxq2rZ\","
                       "\"CauTQ6dbh/YX\"]}}}";
    set_state(&w, seed);
    RUN(&w, NULL,
        "[{\"created_at\":2,\"id\":\"x\"},{\"created_at\":3,\"id\":\"c\"},"
        "{\"created_at\":3,\"id\":\"d\"}]",
        "000");
    CHECK_STATE(&w, seed);
    RUN(&w, NULL, "[]", "");
    CHECK_STATE(&w, seed);
    RUN(&w, NULL, "[{\"created_at\":3,\"id\":\"e\"}]", "1");
    CHECK_STATE(&w, "{\"incremental\":{\"created_at\":{\"initial_value\":null,\"last_value\":3,"
                    "\"start_value\":3,\"unique_hashes\":[\"CauTQ6dbh/YX\",\"NI0rKbd5ZZUg\","
                    "\"qOM08jBxq2rZ\"]}}}");
    world_cleanup(&w);

    /* a slot from an older dlt without start_value works and gains one */
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"created_at\",\"primary_key\":[]}"),
                 SLUICE_OK);
    set_state(&w, "{\"other\":1,\"incremental\":{\"created_at\":{\"last_value\":1,"
                  "\"unique_hashes\":[]}}}");
    RUN(&w, NULL, "[{\"created_at\":2}]", "1");
    CHECK_STATE(&w, "{\"incremental\":{\"created_at\":{\"last_value\":2,\"start_value\":1,"
                    "\"unique_hashes\":[]}},\"other\":1}");
    world_cleanup(&w);
}

TEST(invalid_state)
{
    static const struct {
        const char *state;
        const char *msg;
    } bad[] = {
        {"{\"incremental\":5}", "'incremental' is not an object"},
        {"{\"incremental\":{\"c\":[]}}", "the slot is not an object"},
        {"{\"incremental\":{\"c\":{\"initial_value\":1}}}", "last_value is missing"},
        {"{\"incremental\":{\"c\":{\"last_value\":1,\"unique_hashes\":\"x\"}}}",
         "unique_hashes is not a list"},
        {"{\"incremental\":{\"c\":{\"last_value\":1,\"unique_hashes\":"
         "[\"0123456789012345678901234567890123456789\"]}}}",
         "unique_hashes holds a value that is not a boundary hash"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct world w;
        CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"c\"}"), SLUICE_OK);
        set_state(&w, bad[i].state);
        char exp[256];
        snprintf(exp, sizeof(exp), "incremental state of 'c' is invalid: %s", bad[i].msg);
        RUN_FAIL(&w, NULL, "[]", "", SLUICE_ERR_STATE, "$.c", exp);
        world_cleanup(&w);
    }
}

/* ============================================================================================
 * Lag arithmetic (spec 1.3), checked against dlt's apply_lag
 * ========================================================================================== */

TEST(lag_values)
{
    static const struct {
        const char *cfg;  /* lag, last_value_func, initial_value */
        const char *last; /* stored last_value */
        const char *start; /* expected lagged start_value */
    } v[] = {
        {"\"lag\":1,\"initial_value\":\"2023-03-02\"", "\"2023-03-02\"", "\"2023-03-02\""},
        {"\"lag\":1,\"last_value_func\":\"min\"", "\"2023-03-02\"", "\"2023-03-03\""},
        {"\"lag\":1", "\"2023-03-03T01:15:30Z\"", "\"2023-03-03T01:15:29Z\""},
        {"\"lag\":1", "1", "0"},
        {"\"lag\":1,\"last_value_func\":\"min\"", "1", "2"},
        {"\"lag\":2,\"initial_value\":0", "1", "0"},
        {"\"lag\":-1,\"initial_value\":\"2023-03-02\"", "\"2023-03-02\"", "\"2023-03-03\""},
        {"\"lag\":1.5", "\"2023-03-03T01:15:30.250Z\"", "\"2023-03-03T01:15:28.750000Z\""},
        {"\"lag\":3600", "\"2024-11-01T12:00:00+08:00\"", "\"2024-11-01T11:00:00+08:00\""},
        {"\"lag\":60", "\"2024-11-01T12:00:00+0800\"", "\"2024-11-01T11:59:00+0800\""},
        {"\"lag\":1", "\"2024-01-01T00:00:00\"", "\"2023-12-31T23:59:59\""},
        {"\"lag\":0.5", "2.5", "2.0"},
        {"\"lag\":1.5", "10", "8"},
        {"\"lag\":1.5,\"last_value_func\":\"min\"", "10", "11"},
        {"\"lag\":10", "123456789012345678901234567890", "123456789012345678901234567880"},
        {"\"lag\":34560000,\"last_value_func\":\"min\"", "\"2024-03-01T00:00:00-05:00\"",
         "\"2025-04-05T00:00:00-05:00\""},
        {"\"lag\":0.0000015", "\"2024-01-01T00:00:00.000001Z\"", "\"2023-12-31T23:59:59.999999Z\""},
        /* beyond dlt (it returns a datetime object for these formats): the format is kept */
        {"\"lag\":1", "\"2024-01-01 00:00:00\"", "\"2023-12-31 23:59:59\""},
        {"\"lag\":30", "\"2024-01-01T00:00Z\"", "\"2023-12-31T23:59Z\""},
        {"\"lag\":1", "\"2024-01-01T00:00:00.123456789Z\"", "\"2023-12-31T23:59:59.123456789Z\""},
        {"\"lag\":1.5,\"last_value_func\":\"min\"", "\"2024-02-28\"", "\"2024-02-29\""},
        {"\"lag\":1.5", "\"2024-03-01\"", "\"2024-02-28\""},
        {"\"lag\":91", "123456789012345678901234567890", "123456789012345678901234567799"},
        {"\"lag\":1,\"last_value_func\":\"min\"", "99999999999999999999",
         "100000000000000000000"},
        {"\"lag\":200,\"last_value_func\":\"min\"", "-100000000000000000000",
         "-99999999999999999800"},
        {"\"lag\":1", "-9223372036854775808", "-9223372036854775809"},
        {"\"lag\":1,\"last_value_func\":\"min\"", "9223372036854775807", "9223372036854775808"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char cfg[256], state[256];
        snprintf(cfg, sizeof(cfg), "{\"cursor_path\":\"c\",%s}", v[i].cfg);
        snprintf(state, sizeof(state),
                 "{\"incremental\":{\"c\":{\"initial_value\":null,\"last_value\":%s,"
                 "\"start_value\":null,\"unique_hashes\":[]}}}",
                 v[i].last);
        struct world w;
        CHECK_EQ_INT(world_init(&w, cfg), SLUICE_OK);
        set_state(&w, state);
        struct sl_incremental *inc = NULL;
        CHECK_EQ_INT(bind(&w, NULL, NULL, NULL, &inc), SLUICE_OK);
        char *got = inc ? sl_json_dumps(sl_incremental_value(inc, "start_value"), 0) : NULL;
        check_str(cfg, got, v[i].start, __LINE__);
        sl_free(got);
        /* last_value starts at the lagged start, the stored one is forward-only */
        if (inc) {
            char mask[8];
            CHECK_EQ_INT(filter_items(&w, inc, "[]", mask, sizeof(mask)), SLUICE_OK);
            CHECK_EQ_INT(sl_incremental_commit(inc), SLUICE_OK);
        }
        sl_incremental_free(&inc);
        world_cleanup(&w);
    }

    struct world w;
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"c\",\"lag\":1}"), SLUICE_OK);
    set_state(&w, "{\"incremental\":{\"c\":{\"last_value\":\"abc\",\"unique_hashes\":[]}}}");
    RUN_FAIL(&w, NULL, "[]", "", SLUICE_ERR_INCREMENTAL, "$.c",
             "cannot apply lag 1 to cursor value 'abc' (string): lag needs a number, a date or "
             "a datetime");
    world_cleanup(&w);

    /* the stored last_value never moves back, even when every row is below it */
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"c\",\"lag\":10}"), SLUICE_OK);
    set_state(&w, "{\"incremental\":{\"c\":{\"initial_value\":null,\"last_value\":100,"
                  "\"start_value\":50,\"unique_hashes\":[]}}}");
    RUN(&w, NULL, "[{\"c\":95},{\"c\":80}]", "10");
    CHECK_STATE(&w, "{\"incremental\":{\"c\":{\"initial_value\":null,\"last_value\":100,"
                    "\"start_value\":100,\"unique_hashes\":[]}}}");
    world_cleanup(&w);
}

/* ============================================================================================
 * Config (S20 and friends)
 * ========================================================================================== */

TEST(config_errors)
{
    static const struct {
        const char *cfg;
        const char *field;
        const char *msg;
    } bad[] = {
        {"{\"cursor_path\":\"created_at\",\"end_value\":22}", "incremental.end_value",
         "end_value is set without initial_value: initial_value is required when using "
         "end_value"},
        {"{\"cursor_path\":\"created_at\",\"initial_value\":42,\"end_value\":22}",
         "incremental.end_value",
         "initial_value=42 is higher than end_value=22: end_value must be higher than "
         "initial_value"},
        {"{\"cursor_path\":\"created_at\",\"initial_value\":22,\"end_value\":42,"
         "\"last_value_func\":\"min\"}",
         "incremental.end_value",
         "initial_value=22 is lower than end_value=42: end_value must be lower than "
         "initial_value"},
        {"{\"cursor_path\":\"c\",\"initial_value\":1,\"end_value\":\"2024-01-01\"}",
         "incremental.end_value",
         "initial_value '1' (integer) and end_value '2024-01-01' (date) are not comparable: use "
         "values of the same type and tz-awareness"},
        {"{\"cursor_path\":\"c\",\"initial_value\":\"2024-01-01T01:00:00Z\","
         "\"end_value\":\"2024-01-01T04:00:00\"}",
         "incremental.end_value",
         "initial_value '2024-01-01T01:00:00Z' (datetime) and end_value '2024-01-01T04:00:00' "
         "(naive datetime) are not comparable: use values of the same type and tz-awareness"},
        {"{\"cursor_path\":\"a[?(@.x)]\"}", "incremental.cursor_path",
         "invalid JSONPath 'a[?(@.x)]': filter expressions are not supported at offset 2"},
        {"{}", "incremental.cursor_path", "incremental needs a cursor_path"},
        {"[1]", "incremental", "incremental must be an object with at least cursor_path"},
        {"{\"cursor_path\":\"\"}", "incremental.cursor_path",
         "cursor_path must be a non-empty string"},
        {"{\"cursor_path\":\"c\",\"last_value_func\":\"avg\"}", "incremental.last_value_func",
         "last_value_func is 'avg': expected max or min"},
        {"{\"cursor_path\":\"c\",\"on_cursor_value_missing\":\"skip\"}",
         "incremental.on_cursor_value_missing",
         "on_cursor_value_missing is 'skip': expected raise or include or exclude"},
        {"{\"cursor_path\":\"c\",\"foo\":null}", "incremental.foo",
         "unknown key 'foo' in incremental"},
        {"{\"cursor_path\":\"c\",\"assume_tz\":\"Europe/Berlin\"}", "incremental.assume_tz",
         "assume_tz 'Europe/Berlin' is not supported: use UTC or a fixed offset such as +02:00"},
        {"{\"cursor_path\":\"c\",\"lag\":\"1h\"}", "incremental.lag",
         "lag must be a number (seconds for datetimes, days for dates, units for numbers)"},
        {"{\"cursor_path\":\"c\",\"primary_key\":[1]}", "incremental.primary_key",
         "primary_key must be a column name or a list of them"},
        {"{\"cursor_path\":\"c\",\"max_unique_hashes\":0}", "incremental.max_unique_hashes",
         "max_unique_hashes must be a positive integer"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct world w;
        CHECK_EQ_INT(world_init(&w, bad[i].cfg), SLUICE_ERR_CONFIG);
        check_str(bad[i].cfg, w.ctx.message, bad[i].msg, __LINE__);
        check_str(bad[i].cfg, w.ctx.field, bad[i].field, __LINE__);
        CHECK_EQ_STR(w.ctx.resource, "r");
        CHECK(w.cfg.cursor_path == NULL); /* cleaned up */
        world_cleanup(&w);
    }

    /* what parses */
    struct world w;
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"c\",\"primary_key\":\"id\",\"lag\":null,"
                                "\"row_order\":\"desc\",\"range_start\":\"open\","
                                "\"range_end\":\"closed\",\"on_cursor_value_missing\":\"exclude\","
                                "\"assume_tz\":\"-0330\",\"end_value\":null}"),
                 SLUICE_OK);
    CHECK_EQ_STR(w.cfg.cursor_path, "c");
    CHECK(w.cfg.pk_set && w.cfg.n_pk == 1 && !w.cfg.pk_is_list);
    CHECK_EQ_STR(w.cfg.primary_key ? w.cfg.primary_key[0] : NULL, "id");
    CHECK(!w.cfg.has_lag && w.cfg.end_value == NULL && w.cfg.initial_value == NULL);
    CHECK(w.cfg.row_order == SL_INC_ORDER_DESC && w.cfg.range_start_open &&
          w.cfg.range_end_closed && w.cfg.on_missing == SL_INC_EXCLUDE);
    CHECK_EQ_STR(w.cfg.assume_tz, "-0330");
    CHECK(w.cfg.func == SL_INC_MAX);
    world_cleanup(&w);
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"c\",\"primary_key\":[\"a\",\"b\"],"
                                "\"lag\":2.5,\"last_value_func\":\"min\"}"),
                 SLUICE_OK);
    CHECK(w.cfg.pk_set && w.cfg.n_pk == 2 && w.cfg.pk_is_list);
    CHECK(w.cfg.has_lag && w.cfg.lag == 2.5 && w.cfg.func == SL_INC_MIN);
    CHECK(w.cfg.row_order == SL_INC_ORDER_NONE);
    world_cleanup(&w);

    /* --start/--end are checked at bind like the configured values */
    CHECK_EQ_INT(world_init(&w, "{\"cursor_path\":\"c\"}"), SLUICE_OK);
    char mask[8];
    CHECK_EQ_INT(run_items(&w, NULL, "[]", "50", "40", mask, sizeof(mask)), SLUICE_ERR_CONFIG);
    CHECK_EQ_STR(w.ctx.message, "initial_value=50 is higher than end_value=40: end_value must be "
                                "higher than initial_value");
    sl_ctx_clear(&w.ctx);
    CHECK_EQ_INT(run_items(&w, NULL, "[]", NULL, "40", mask, sizeof(mask)), SLUICE_ERR_CONFIG);
    sl_ctx_clear(&w.ctx);
    CHECK_STATE(&w, "{}");
    world_cleanup(&w);
}

static const struct test_case incremental_tests[] = {
    {"dlt_scenarios_match", dlt_scenarios_match},
    {"hash_bytes_match_dlt", hash_bytes_match_dlt},
    {"legacy_hashes", legacy_hashes},
    {"custom_last_value_func", custom_last_value_func},
    {"end_value_is_stateless", end_value_is_stateless},
    {"row_order_can_close", row_order_can_close},
    {"missing_cursor_raises", missing_cursor_raises},
    {"naive_and_aware_datetimes", naive_and_aware_datetimes},
    {"offsets_compare_as_instants", offsets_compare_as_instants},
    {"decimals_beyond_int64", decimals_beyond_int64},
    {"cursor_type_change_is_an_error", cursor_type_change_is_an_error},
    {"hash_cap", hash_cap},
    {"untouched_slot_is_byte_identical", untouched_slot_is_byte_identical},
    {"invalid_state", invalid_state},
    {"lag_values", lag_values},
    {"config_errors", config_errors},
};
TEST_SUITE(incremental, incremental_tests)
