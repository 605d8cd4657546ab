#!/bin/sh
# bench/requant.sh -- requant throughput on a generated 1B-class llama F16
# model (fixtures/make_gguf --preset 1b, 2.2 GB) next to `cat` of the same
# file, for Q8_0, Q4_K_M and Q6_K with all cores, plus peak RSS (must stay
# <= 300 MB: memory is bounded by buffers, not by the model size).
#   BUILD=build bench/requant.sh [make_gguf options, default --preset 1b]
# LLAMA_QUANTIZE=/path/to/llama-quantize adds llama.cpp's time per type.
# REQUANT_BENCH_TYPES overrides the type list.
set -eu
BUILD=${BUILD:-build}
bin="$BUILD/bin/requant"
gen="$BUILD/fixtures/make_gguf"
for p in "$bin" "$gen"; do
    [ -x "$p" ] || { echo "bench/requant.sh: $p not built" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "bench/requant.sh: /usr/bin/time (GNU time) needed" >&2; exit 2; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/requant-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
model="$dir/model.gguf"
[ $# -gt 0 ] || set -- --preset 1b
"$gen" "$@" "$model"
size=$(stat -c %s "$model")
nproc=$(nproc)
echo "model: $(awk -v s="$size" 'BEGIN { printf "%.2f GB", s / 1e9 }') F16, $nproc threads, $("$bin" --version)"
cat "$model" > /dev/null # warm the page cache for both sides
rate() { awk -v s="$size" -v t="$1" 'BEGIN { printf "%.3f GB/s", s / 1e9 / t }'; }
t0=$(date +%s.%N)
cat "$model" > /dev/null
t1=$(date +%s.%N)
ct=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
echo "cat                 $(printf '%8.2f' "$ct") s  $(rate "$ct")"
status=0
for type in ${REQUANT_BENCH_TYPES:-Q8_0 Q4_K_M Q6_K}; do
    # output to /dev/null through stdout: measures requant, not the disk
    /usr/bin/time -f '%e %M' -o "$dir/time" "$bin" -q "$model" - "$type" > /dev/null
    read -r secs rss < "$dir/time"
    echo "requant $(printf '%-8s' "$type") $(printf '%11.2f' "$secs") s  $(rate "$secs")  peak RSS $((rss / 1024)) MB"
    [ "$rss" -le 307200 ] || { echo "  peak RSS above 300 MB" >&2; status=1; }
    if [ -n "${LLAMA_QUANTIZE:-}" ]; then
        /usr/bin/time -f '%e %M' -o "$dir/time" "$LLAMA_QUANTIZE" "$model" /dev/null "$type" "$nproc" > /dev/null 2>&1
        read -r secs rss < "$dir/time"
        echo "llama-quantize $(printf '%-8s' "$type") $(printf '%4.2f' "$secs") s  $(rate "$secs")  peak RSS $((rss / 1024)) MB"
    fi
done
exit $status
