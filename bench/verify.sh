#!/bin/sh
# bench/verify.sh -- gguf-verify hashing throughput on a generated >= 2 GB
# GGUF (make_gguf --preset 1b --type f16), next to xxhsum -H1 (XXH64),
# -H3 (XXH3-64), -H2 (XXH128) and sha256sum/sha1sum over the same file, all
# from the page cache (the file is read once before timing). Each figure is
# the best of BENCH_RUNS runs (default 2). gguf-verify's default manifest
# hashes every byte twice (per tensor and the whole-model stream that
# llama-gguf-hash defines), so "ratio" compares wall time for the complete
# job; --no-layer rows hash once.
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

best_ms() { # command... ; best wall time of N runs in ms
    best=
    i=0
    while [ $i -lt "$N" ]; do
        start=$(date +%s%N)
        "$@" >/dev/null 2>&1
        end=$(date +%s%N)
        t=$(((end - start) / 1000000))
        if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
        i=$((i + 1))
    done
    echo "$best"
}

echo "file: $size bytes ($(awk "BEGIN{printf \"%.2f\", $size/1e9}") GB), $cores cores, $(uname -m)"
printf '%-44s %9s %8s %-18s %9s %7s\n' tool ms GB/s reference ref_GB/s ratio
row() { # label ref_label ref_ms command...
    label=$1 rlabel=$2 rms=$3
    shift 3
    ms=$(best_ms "$@")
    printf '%-44s %9s %8s %-18s %9s %7s\n' "$label" "$ms" \
        "$(awk "BEGIN{printf \"%.2f\", $size/$ms/1e6}")" "$rlabel" \
        "$(awk "BEGIN{printf \"%.2f\", $size/$rms/1e6}")" "$(awk "BEGIN{printf \"%.2f\", $rms/$ms}")"
}
x1=$(best_ms xxhsum -H1 "$f")
x3=$(best_ms xxhsum -H3 "$f")
x2=$(best_ms xxhsum -H2 "$f")
s256=$(best_ms sha256sum "$f")
s1=$(best_ms sha1sum "$f")
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
row "hash --xxh64 - (pipe, cat |)" "xxhsum -H1" "$x1" sh -c "cat '$f' | '$gv' hash --xxh64 -"
row "validate -j $cores" "xxhsum -H1" "$x1" "$gv" validate -j "$cores" "$f"
