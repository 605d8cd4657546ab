#!/bin/sh
# bench/lora-merge.sh -- requant --lora on a generated llama-shaped F16 model
# (n_embd 2048, ff 5632, vocab 32000, LORA_BENCH_LAYERS blocks, default 6:
# ~0.9 GB) with a rank-16 adapter on every linear layer of the blocks, next
# to cat + sync of the base. Output: one line per run, "what  seconds  MB/s
# peak-RSS-MB", and the largest tensor's size: the merge keeps the resident
# set at about one tensor in flight (the output tensor, its base rows in f32
# per job, the adapter), not the model. LLAMA_EXPORT_LORA and LLAMA_QUANTIZE
# (llama.cpp ec562eb builds) add the two-pass peer, export-lora to an F16
# temporary file then llama-quantize, and check that the outputs are
# identical.
set -eu
BUILD=${BUILD:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
for p in requant hf2gguf; do
    [ -x "$BUILD/bin/$p" ] || { echo "lora-merge.sh: build $BUILD/bin/$p first" >&2; exit 2; }
done
layers=${LORA_BENCH_LAYERS:-6}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lora-merge.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
"$BUILD/fixtures/make_hf" --arch llama --dtype f16 --layers "$layers" --embd 2048 --ff 5632 \
    --heads 16 --kv-heads 4 --vocab 32000 "$tmp/hf" > /dev/null
python3 "$here/tests/cli/hf2gguf/lora_make.py" "$tmp/hf" "$tmp/ad" --rank 16 --alpha 32 \
    --targets all
"$BUILD/bin/hf2gguf" -q --outtype f16 -o "$tmp/base.gguf" "$tmp/hf"
"$BUILD/bin/hf2gguf" -q --lora "$tmp/ad" --base-gguf "$tmp/base.gguf" -o "$tmp/ad.gguf"
rm -rf "$tmp/hf"
bytes=$(stat -c %s "$tmp/base.gguf")
echo "base: llama F16, $((bytes / 1000000)) MB, $layers blocks; adapter rank 16, $(($(stat -c %s "$tmp/ad.gguf") / 1000000)) MB; largest tensor $((32000 * 2048 * 2 / 1000000)) MB; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
run() { # label command...
    label=$1
    shift
    sync
    start=$(date +%s.%N)
    /usr/bin/time -f %M -o "$tmp/rss" "$@"
    end=$(date +%s.%N)
    rss=$(($(tail -n1 "$tmp/rss") / 1024))
    awk -v l="$label" -v s="$start" -v e="$end" -v b="$bytes" -v r="$rss" \
        'BEGIN { t = e - s; printf "%-44s %7.2f s %8.0f MB/s %6s MB\n", l, t, b / t / 1e6, r }'
}
run "cat > file; sync file" sh -c "cat '$tmp/base.gguf' > '$tmp/out'; sync '$tmp/out'"
for t in F16 Q4_K_M; do
    run "requant --lora $t" "$BUILD/bin/requant" -q -f --no-metrics --lora "$tmp/ad.gguf" \
        "$tmp/base.gguf" "$tmp/our-$t.gguf" "$t"
done
run "requant --lora F16 -j 1" "$BUILD/bin/requant" -q -f -j 1 --lora "$tmp/ad.gguf" \
    "$tmp/base.gguf" "$tmp/our-j1.gguf" F16
cmp -s "$tmp/our-j1.gguf" "$tmp/our-F16.gguf" || { echo "lora-merge.sh: -j 1 differs" >&2; exit 1; }
status=0
if [ -n "${LLAMA_EXPORT_LORA:-}" ]; then
    run "llama-export-lora (F16)" sh -c "'$LLAMA_EXPORT_LORA' -m '$tmp/base.gguf' --lora '$tmp/ad.gguf' -o '$tmp/el.gguf' > /dev/null 2>&1"
    cmp -s "$tmp/el.gguf" "$tmp/our-F16.gguf" && echo "  F16: identical to llama-export-lora's" ||
        { echo "  F16: DIFFERS from llama-export-lora's" >&2; status=1; }
    if [ -n "${LLAMA_QUANTIZE:-}" ]; then
        run "llama-export-lora + llama-quantize Q4_K_M" sh -c "'$LLAMA_EXPORT_LORA' -m '$tmp/base.gguf' --lora '$tmp/ad.gguf' -o '$tmp/el.gguf' > /dev/null 2>&1 && '$LLAMA_QUANTIZE' '$tmp/el.gguf' '$tmp/elq.gguf' Q4_K_M > /dev/null 2>&1"
        cmp -s "$tmp/elq.gguf" "$tmp/our-Q4_K_M.gguf" && echo "  Q4_K_M: identical to export-lora + llama-quantize" ||
            { echo "  Q4_K_M: DIFFERS from export-lora + llama-quantize" >&2; status=1; }
    fi
fi
exit $status
