# expect.awk — the aggregates the destination must hold for a set of gen.awk items.
#   awk -v from=F -v k=K -v m=M -f expect.awk
# The item set: seq from..k (each once) when M = 0; with M > 0 (merge on id), for each id the
# item with the largest seq <= k (the last version wins). Prints the CSV data line of
# check.sql's first ten columns: n,ids,sseq,mseq,tags,stags,parts,sparts,subs,ssubs
function add(s,   j, q) {
    n++; sseq += s; if (s > mseq) mseq = s
    for (j = 0; j < s % 4; j++) { tags++; stags += s * 10 + j }
    for (j = 0; j < s % 3; j++) {
        parts++; sparts += s * 10 + j
        for (q = 0; q < (s + j) % 3; q++) { subs++; ssubs += s * 100 + j * 10 + q }
    }
}
BEGIN {
    if (from < 1)
        from = 1
    if (m > 0) {
        for (id = 1; id <= m && id <= k; id++)
            add(id + m * int((k - id) / m))
    } else {
        for (s = from; s <= k; s++)
            add(s)
    }
    printf "%d,%d,%.0f,%d,%d,%.0f,%d,%.0f,%d,%.0f\n", n, n, sseq, mseq, tags, stags, parts, sparts, subs, ssubs
}
