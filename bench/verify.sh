#!/bin/sh
# bench/verify.sh -- gguf-verify hashing throughput on a generated >= 2 GB
# GGUF (make_gguf --preset 1b --type f16), next to xxhsum -H1 (XXH64),
# -H3 (XXH3-64), -H2 (XXH128) and sha256sum/sha1sum over the same file, all
# from the page cache (the file is read once before timing). Each figure is
# the run with the least CPU time of BENCH_RUNS runs (default 2).
# gguf-verify's default manifest hashes every byte twice (per tensor, and the
# whole-model stream llama-gguf-hash defines), so its CPU time per byte is
# about twice a whole-file hash; --no-layer rows hash once. The pipe rows
# include cat's CPU time.
set -eu
BUILD=${BUILD:-build}
N=${BENCH_RUNS:-2}
gv=$BUILD/bin/gguf-verify
tmp=${BENCH_TMP:-${TMPDIR:-/tmp}}/ggufkit-bench-verify.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT INT TERM
f=$tmp/model-1b-f16.gguf
"$BUILD/fixtures/make_gguf" --preset 1b --type f16 "$f" >/dev/null
size=$(stat -c %s "$f")
[ "$size" -ge 2000000000 ] || { echo "bench/verify: $f is only $size bytes" >&2; exit 1; }
cat "$f" >/dev/null
cores=$(nproc)

# best_ms command... -> "WALL_MS CPU_MS" of the run with the least CPU time
# (user + sys: robust against other load on the machine; for one thread it
# is what the wall time would be on an idle core).
best_ms() {
    best=
    i=0
    while [ $i -lt "$N" ]; do
        /usr/bin/time -f '%e %U %S' -o "$tmp/time" "$@" >/dev/null 2>&1
        t=$(awk '{ printf "%d %d", $1 * 1000, ($2 + $3) * 1000 }' "$tmp/time")
        if [ -z "$best" ] || [ "${t#* }" -lt "${best#* }" ]; then best=$t; fi
        i=$((i + 1))
    done
    echo "$best"
}
gbs() { awk "BEGIN{ printf \"%.2f\", $size / ($1 > 0 ? $1 : 1) / 1e6 }"; }

echo "file: $size bytes ($(awk "BEGIN{printf \"%.2f\", $size/1e9}") GB), $cores cores, $(uname -m), load $(cut -d' ' -f1 /proc/loadavg)"
echo "GB/s = bytes / wall time; GB/cpu-s = bytes / (user + sys) time; ratio = GB/cpu-s of gguf-verify / GB/cpu-s of the reference"
printf '%-36s %8s %8s %6s %9s  %-11s %9s %6s\n' tool wall_ms cpu_ms GB/s GB/cpu-s reference GB/cpu-s ratio
row() { # label ref_label "ref_wall ref_cpu" command...
    label=$1 rlabel=$2 ref=$3
    shift 3
    r=$(best_ms "$@")
    w=${r% *} c=${r#* } rc=${ref#* }
    printf '%-36s %8s %8s %6s %9s  %-11s %9s %6s\n' "$label" "$w" "$c" "$(gbs "$w")" "$(gbs "$c")" \
        "$rlabel" "$(gbs "$rc")" "$(awk "BEGIN{ printf \"%.2f\", $rc / ($c > 0 ? $c : 1) }")"
}
x1=$(best_ms xxhsum -H1 "$f")
x3=$(best_ms xxhsum -H3 "$f")
x2=$(best_ms xxhsum -H2 "$f")
s256=$(best_ms sha256sum "$f")
s1=$(best_ms sha1sum "$f")
for r in "xxhsum -H1:$x1" "xxhsum -H3:$x3" "xxhsum -H2:$x2" "sha256sum:$s256" "sha1sum:$s1"; do
    v=${r#*:} w=${v% *} c=${v#* }
    printf '%-36s %8s %8s %6s %9s  %-11s\n' "${r%%:*}" "$w" "$c" "$(gbs "$w")" "$(gbs "$c")" "(reference)"
done
for j in 1 "$cores"; do
    row "hash --xxh64 -j $j (manifest)" "xxhsum -H1" "$x1" "$gv" hash --xxh64 -j "$j" "$f"
    row "hash --xxh64 --no-layer -j $j" "xxhsum -H1" "$x1" "$gv" hash --xxh64 --no-layer -j "$j" "$f"
    row "hash --xxh3 -j $j (manifest)" "xxhsum -H3" "$x3" "$gv" hash --xxh3 -j "$j" "$f"
    row "hash --xxh128 -j $j (manifest)" "xxhsum -H2" "$x2" "$gv" hash --xxh128 -j "$j" "$f"
    row "hash --sha1 -j $j (manifest)" "sha1sum" "$s1" "$gv" hash --sha1 -j "$j" "$f"
    row "hash --sha256 -j $j (manifest)" "sha256sum" "$s256" "$gv" hash --sha256 -j "$j" "$f"
    row "hash --sha256 --no-layer -j $j" "sha256sum" "$s256" "$gv" hash --sha256 --no-layer -j "$j" "$f"
done
row "hash --whole (file SHA-256)" "sha256sum" "$s256" "$gv" hash --whole "$f"
for j in 1 "$cores"; do
    row "cat | hash --xxh64 -j $j - (pipe)" "xxhsum -H1" "$x1" sh -c "cat '$f' | '$gv' hash --xxh64 -j $j -"
done
row "validate -j $cores" "xxhsum -H1" "$x1" "$gv" validate -j "$cores" "$f"
