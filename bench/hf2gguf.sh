#!/bin/sh
# bench/hf2gguf.sh -- hf2gguf throughput and peak memory on a generated bf16
# checkpoint (~2 GB by default; HF2GGUF_BENCH_LAYERS scales it, 1 layer ~
# 100 MB), next to cp and cat of the same bytes. Output: one line per run,
# "what  seconds  MB/s  peak-RSS-MB".
set -eu
BUILD=${BUILD:-build}
bin="$BUILD/bin/hf2gguf"
gen="$BUILD/fixtures/make_hf"
[ -x "$bin" ] && [ -x "$gen" ] || { echo "hf2gguf.sh: build $bin and $gen first" >&2; exit 2; }
layers=${HF2GGUF_BENCH_LAYERS:-18}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hf2gguf-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
"$gen" --layers "$layers" --embd 2048 --ff 5632 --heads 16 --kv-heads 8 --vocab 32000 \
    --dtype bf16 "$tmp/m"
bytes=$(stat -c %s "$tmp/m/model.safetensors")
echo "checkpoint: $((bytes / 1000000)) MB bf16, $layers layers, $(nproc) cores"
have_time=0
[ -x /usr/bin/time ] && have_time=1
run() { # label command...
    label=$1
    shift
    sync
    start=$(date +%s.%N)
    if [ "$have_time" = 1 ]; then
        /usr/bin/time -f %M -o "$tmp/rss" "$@"
        rss=$(($(tail -n1 "$tmp/rss") / 1024))
    else
        "$@"
        rss=-
    fi
    end=$(date +%s.%N)
    awk -v l="$label" -v s="$start" -v e="$end" -v b="$bytes" -v r="$rss" \
        'BEGIN { t = e - s; printf "%-28s %7.2f s %8.0f MB/s %6s MB\n", l, t, b / t / 1e6, r }'
    rm -f "$tmp/out"
}
run "cp" cp "$tmp/m/model.safetensors" "$tmp/out"
run "cat > file" sh -c "cat '$tmp/m/model.safetensors' > '$tmp/out'"
for t in bf16 f16 q8_0; do
    run "hf2gguf --outtype $t" "$bin" -q --outtype "$t" "$tmp/m" -o "$tmp/out"
    run "hf2gguf --outtype $t > null" sh -c "'$bin' -q --outtype $t '$tmp/m' -o - > /dev/null"
done
