#!/bin/sh
# bench/targets.sh -- the speed targets of issue 22 (docs/performance.md,
# "Targets"), each as one ratio computed in this run against its peer or
# physical limit on the same machine. Warm page cache; every time is the best
# of BENCH_RUNS runs (default 3), or for commands of a few milliseconds the
# mean of 20. Peers are optional, built outside the repository:
#   LLAMA_QUANTIZE=/path/to/llama-quantize    requant Q4_K_M vs llama-quantize
#   LLAMA_GGUF_HASH=/path/to/llama-gguf-hash  gguf-verify hash vs llama-gguf-hash
# A row whose peer is not given says so. Rows (goal in brackets):
#   requant Q4_K_M, ~630 MB F16, all cores: llama-quantize's time / ours  [>= 3]
#     (and the two outputs compared byte for byte)
#   gguf-inspect --json, 129280-token vocabulary: ms with process start  [<= 100]
#   gguf-inspect text view / head -c HEADER_BYTES                        [<= 1.2]
#   gguf-verify hash --xxh64 (all cores), same file: ours / xxhsum -H1     [<= 1.0]
#     and llama-gguf-hash --xxh64's time / ours                          [>= 4]
#   hf2gguf --outtype bf16, 600 MB in 2 shards, + sync: / cat + sync     [<= 1.2]
#     with its peak RSS                                                  [<= 64 MB]
# make check's time (<= 10 min from a clean clone) is measured separately
# (docs/performance.md): it is longer than this whole bench.
set -eu
BUILD=${BUILD:-build}
N=${BENCH_RUNS:-3}
bin=$BUILD/bin
fx=$BUILD/fixtures
shared=${GGUFKIT_SHARED:-$(dirname "$0")/../../shared}
[ -x /usr/bin/time ] || { echo "bench/targets.sh: /usr/bin/time (GNU time) needed" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/targets-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# best COMMAND...: "SECONDS PEAK_KB" of the fastest of N runs
best() {
    b=
    i=0
    while [ $i -lt "$N" ]; do
        /usr/bin/time -f '%e %M' -o "$tmp/time" "$@" > /dev/null 2>&1
        t=$(cat "$tmp/time")
        if [ -z "$b" ] || awk -v a="${t% *}" -v c="${b% *}" 'BEGIN { exit !(a < c) }'; then b=$t; fi
        i=$((i + 1))
    done
    echo "$b"
}
# mean_s COMMAND...: mean wall seconds of 20 runs (for commands of a few ms,
# below GNU time's 10 ms resolution)
mean_s() {
    start=$(date +%s%N)
    i=0
    while [ $i -lt 20 ]; do
        "$@" > /dev/null
        i=$((i + 1))
    done
    end=$(date +%s%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", (b - a) / 20 / 1e9 }'
}
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
row() { printf '%-58s %8s %8s %7s  %s\n' "$@"; }

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), best of $N runs"
row "target" "ours s" "ref s" "ratio" "goal"

# requant: a ~630 MB llama F16 (make_gguf, the 1B preset shape cut to 3 layers)
m=$tmp/m.gguf
"$fx/make_gguf" --preset 1b --layers 3 --type f16 "$m" > /dev/null
cat "$m" > /dev/null
r=$(best "$bin/requant" -q -f "$m" "$tmp/ours.gguf" Q4_K_M)
if [ -n "${LLAMA_QUANTIZE:-}" ]; then
    p=$(best "$LLAMA_QUANTIZE" "$m" "$tmp/ref.gguf" Q4_K_M "$(nproc)")
    same=$(cmp -s "$tmp/ours.gguf" "$tmp/ref.gguf" && echo "same bytes" || echo "BYTES DIFFER")
    row "requant Q4_K_M $(($(stat -c %s "$m") / 1000000)) MB F16 ($same)" "${r% *}" "${p% *}" \
        "$(div "${p% *}" "${r% *}")" ">= 3 (llama-quantize / ours)"
else
    row "requant Q4_K_M (set LLAMA_QUANTIZE for the ratio)" "${r% *}" - - ">= 3"
fi
rm -f "$tmp/ours.gguf" "$tmp/ref.gguf"

# gguf-verify hash on the same file
# (the manifest: every tensor's XXH64 and the whole-model stream, so every
# byte twice; by default one thread per stream)
x=$(best xxhsum -H1 "$m")
r1=$(best "$bin/gguf-verify" hash --xxh64 -j 1 "$m")
row "gguf-verify hash --xxh64 -j 1 / xxhsum -H1" "${r1% *}" "${x% *}" "$(div "${r1% *}" "${x% *}")" "(information)"
r=$(best "$bin/gguf-verify" hash --xxh64 "$m")
row "gguf-verify hash --xxh64 / xxhsum -H1" "${r% *}" "${x% *}" "$(div "${r% *}" "${x% *}")" "<= 1.0 (ours / xxhsum)"
if [ -n "${LLAMA_GGUF_HASH:-}" ]; then
    p=$(best "$LLAMA_GGUF_HASH" --xxh64 "$m")
    row "llama-gguf-hash --xxh64 / gguf-verify hash --xxh64" "${r% *}" "${p% *}" "$(div "${p% *}" "${r% *}")" ">= 4 (llama-gguf-hash / ours)"
else
    row "llama-gguf-hash (set LLAMA_GGUF_HASH for the ratio)" "${r% *}" - - ">= 4"
fi
rm -f "$m"

# gguf-inspect on the DeepSeek-V3 vocabulary (129280 tokens): ../shared's
# tiny deepseek3-moe checkpoint with its real tokenizer, converted here
ds=$shared/fixtures/hf-2026/deepseek3-moe
if [ -d "$ds" ]; then
    v=$tmp/ds.gguf
    mkdir "$tmp/ds"
    cp "$ds"/* "$tmp/ds/"
    gzip -dc "$ds/../tokenizers-moe/deepseek_v3.tokenizer.json.gz" > "$tmp/ds/tokenizer.json"
    "$bin/hf2gguf" -q --outtype f16 "$tmp/ds" -o "$v"
    j=$(mean_s "$bin/gguf-inspect" --json "$v")
    row "gguf-inspect --json, 129280 tokens (with process start)" "$j" - \
        "$(awk -v t="$j" 'BEGIN { printf "%.0f ms", t * 1000 }')" "<= 100 ms"
    # the header: everything before the tensor data
    hb=$("$bin/gguf-inspect" --json --no-kv --no-tensors "$v" | jq '.summary.file_size - .summary.tensor_bytes')
    t=$(mean_s "$bin/gguf-inspect" "$v")
    h=$(mean_s head -c "$hb" "$v")
    row "gguf-inspect text view / head -c $hb" "$t" "$h" "$(div "$t" "$h")" "<= 1.2"
else
    row "gguf-inspect rows: $ds not found" - - - -
fi

# hf2gguf bf16 -> bf16: ~600 MB in 2 shards, to a file with sync, vs cat + sync
"$fx/make_hf" --arch llama --layers 5 --embd 2048 --ff 5632 --heads 16 --kv-heads 8 \
    --vocab 32000 --dtype bf16 --shards 2 "$tmp/hf" > /dev/null
cat "$tmp"/hf/*.safetensors > /dev/null
c=$(best sh -c "cat '$tmp'/hf/*.safetensors > '$tmp/cat.out'; sync '$tmp/cat.out'")
rm -f "$tmp/cat.out"
r=$(best sh -c "'$bin/hf2gguf' -q -f --outtype bf16 '$tmp/hf' -o '$tmp/o.gguf'; sync '$tmp/o.gguf'")
row "hf2gguf --outtype bf16 $(($(cat "$tmp"/hf/*.safetensors | wc -c) / 1000000)) MB, 2 shards, + sync / cat + sync" \
    "${r% *}" "${c% *}" "$(div "${r% *}" "${c% *}")" "<= 1.2"
rss=$(best "$bin/hf2gguf" -q -f --outtype bf16 "$tmp/hf" -o "$tmp/o.gguf")
row "hf2gguf --outtype bf16 peak RSS (MB)" - - "$((${rss#* } / 1024))" "<= 64 MB"
