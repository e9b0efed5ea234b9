# gen.awk — the deterministic items of the fault harness (crash.sh, kill9.sh).
#   awk -v from=F -v k=K -v m=M -f gen.awk
# prints one JSON item per line for seq = from..k:
#   {"id": ID, "seq": S, "name": "item-S", "tags": [...], "parts": [{"p": .., "subs": [..]}, ..]}
# ID = S, or (S-1) % M + 1 when M > 0 (so later seqs update earlier ids under merge).
# tags: S % 4 values S*10+j; parts: S % 3 objects with p = S*10+j, each with (S+j) % 3 subs
# S*100+j*10+q. expect.awk computes the tables these items must produce.
BEGIN {
    if (from < 1)
        from = 1
    for (s = from; s <= k; s++) {
        id = m > 0 ? (s - 1) % m + 1 : s
        printf "{\"id\":%d,\"seq\":%d,\"name\":\"item-%d\",\"tags\":[", id, s, s
        for (j = 0; j < s % 4; j++)
            printf "%s%d", (j ? "," : ""), s * 10 + j
        printf "],\"parts\":["
        for (j = 0; j < s % 3; j++) {
            printf "%s{\"p\":%d,\"subs\":[", (j ? "," : ""), s * 10 + j
            for (q = 0; q < (s + j) % 3; q++)
                printf "%s%d", (q ? "," : ""), s * 100 + j * 10 + q
            printf "]}"
        }
        printf "]}\n"
    }
}
