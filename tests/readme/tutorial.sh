#!/bin/sh
# tutorial.sh TB — run the README's tutorial exactly as it is written, and check that every
# output it shows is what the commands print (so the README cannot drift).
#
# The tutorial is the part of README.md from "## Five-minute tutorial" to the next "## "
# heading. Its fenced blocks, in order:
#   ```sh     commands, run one by one in one shell (cd and export carry over); each must
#             succeed; their stdout is kept for the next output block
#   ```       (no language) the stdout of the sh block before it, compared line by line
#   ```yaml   a file the tutorial names: the line `<!-- file: PATH -->` before it gives the
#             file in the repository, which must hold exactly this text
# Before comparing, both sides have the run-dependent parts replaced: durations ("0.08 s"),
# load and run ids (1764441600.123456), ISO timestamps and the home folder of the pipelines.
#
# The commands run in a scratch folder standing in for a fresh checkout: `examples` links to
# the repository's, `build/sluice` to the binary under test (TB/sluice), `make` is a no-op
# (the binary is built already), and HOME is a scratch folder (the tutorial's own pipelines
# dir, ~/.sluice/pipelines, lands there). Prints `readme: N passed, N failed` (one test per
# block compared) and exits 1 on a failure, showing a diff.
set -u

if [ $# -ne 1 ]; then
    echo "usage: sh tests/readme/tutorial.sh BUILD_DIR" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")/../.." && pwd)
case "$1" in
    /*) tb=$1 ;;
    *) tb=$(pwd)/$1 ;;
esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-readme-XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/root/build" "$tmp/home" "$tmp/blocks"
ln -s "$here/examples" "$tmp/root/examples"
ln -s "$tb/sluice" "$tmp/root/build/sluice"

# 1. the tutorial's blocks, as files: blocks/N.sh, blocks/N.out (expected), blocks/N.yaml
#    with blocks/N.path; N counts every block in order
awk -v dir="$tmp/blocks" '
    /^## Five-minute tutorial/ { on = 1; next }
    on && /^## / { on = 0 }
    !on { next }
    /<!-- file: / { path = $0; sub(/.*<!-- file: /, "", path); sub(/ -->.*/, "", path); next }
    !inblock && /^ *```/ {
        line = $0; indent = index(line, "`") - 1; lang = substr(line, indent + 4)
        n++; inblock = 1
        kind = lang == "sh" ? "sh" : lang == "yaml" ? "yaml" : lang == "" ? "out" : "other"
        file = dir "/" n "." kind
        printf "" > file
        if (kind == "yaml") { print path > (dir "/" n ".path"); path = "" }
        next
    }
    inblock && /^ *```$/ { inblock = 0; close(file); next }
    inblock { l = $0; if (substr(l, 1, indent) ~ /^ *$/) l = substr(l, indent + 1); print l >> file }
' "$here/README.md"

passed=0
failed=0
norm() {
    sed -E -e 's/[0-9]+\.[0-9]+ s\b/T s/g' \
        -e 's/[0-9]{10}\.[0-9]{6}/ID/g' \
        -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]+Z?/TIME/g' \
        -e 's#/[^ ]*/\.sluice/pipelines#~/.sluice/pipelines#g' "$1"
}

# 2. the files it shows are the repository's
for y in "$tmp"/blocks/*.yaml; do
    [ -e "$y" ] || continue
    path=$(cat "${y%.yaml}.path")
    if [ -z "$path" ] || ! cmp -s "$y" "$here/$path"; then
        echo "FAIL readme: the yaml block ${y##*/} is not the file '${path:-?}' (a <!-- file: --> line names it)"
        [ -n "$path" ] && diff "$here/$path" "$y" | sed 's/^/    /'
        failed=$((failed + 1))
    else
        echo "ok readme: $path"
        passed=$((passed + 1))
    fi
done

# 3. one script: every command on its own, stdout per sh block, stop at the first failure
script=$tmp/tutorial.run
{
    echo 'make() { :; }'
    echo 'cd "$ROOT" || exit 1'
    for f in $(cd "$tmp/blocks" && ls *.sh 2>/dev/null | sort -n); do
        n=${f%.sh}
        k=0
        : > "$tmp/blocks/$n.got"
        while IFS= read -r line; do
            k=$((k + 1))
            case "$line" in ''|'#'*) continue ;; esac
            printf '%s\n' "$line" > "$tmp/blocks/$n.cmd$k"
            printf '%s >> "%s" 2>> "%s" || { echo "FAIL readme: this command (block %s) exited $?:"; cat "%s" "%s"; exit 1; }\n' \
                "$line" "$tmp/blocks/$n.got" "$tmp/blocks/$n.err" "$n" \
                "$tmp/blocks/$n.cmd$k" "$tmp/blocks/$n.err"
        done < "$tmp/blocks/$f"
    done
} > "$script"
if ! (HOME=$tmp/home ROOT=$tmp/root SLUICE_PIPELINES_DIR= sh "$script"); then
    failed=$((failed + 1))
fi

# 4. each output block against the stdout of the sh block before it
last=
for f in $(cd "$tmp/blocks" && ls *.sh *.out 2>/dev/null | sort -n); do
    n=${f%%.*}
    case "$f" in
        *.sh) last=$n ;;
        *.out)
            if [ -z "$last" ] || [ ! -e "$tmp/blocks/$last.got" ]; then
                echo "FAIL readme: output block $n has no command before it"
                failed=$((failed + 1))
                continue
            fi
            norm "$tmp/blocks/$n.out" > "$tmp/want"
            norm "$tmp/blocks/$last.got" > "$tmp/got"
            if cmp -s "$tmp/want" "$tmp/got"; then
                echo "ok readme: output of block $last"
                passed=$((passed + 1))
            else
                echo "FAIL readme: output of block $last differs (- README, + printed):"
                diff "$tmp/want" "$tmp/got" | sed 's/^/    /'
                failed=$((failed + 1))
            fi
            last= ;;
    esac
done
echo "readme: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
