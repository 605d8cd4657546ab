#!/bin/sh
# bench/hf2gguf.sh -- hf2gguf throughput and peak memory on a generated bf16
# checkpoint (~2 GB by default; HF2GGUF_BENCH_LAYERS scales it, 1 layer ~
# 100 MB), next to cp and cat of the same bytes. Output: one line per run,
# "what  seconds  MB/s  peak-RSS-MB". CONVERT_HF_TO_GGUF="python3 /path/to/
# convert_hf_to_gguf.py" adds llama.cpp's converter on the same checkpoint
# (to a file and to /dev/null) and checks that both outputs are identical.
# HF2GGUF_BENCH_ARCH=gemma3 makes a ~600 MB Gemma-3-shaped checkpoint instead
# (n_embd 1152, head_dim 256, one KV head, 65536-token vocabulary; layers
# scale it, 1 layer ~ 54 MB; untied lm_head). Every output is also timed with its `sync`,
# next to `cat` + `sync`: the physical limit on a machine whose disk is
# slower than its page cache.
# HF2GGUF_BENCH_QUANT=fp8|gptq|awq makes the decoder's linear weights
# pre-quantized (make_hf --quant: FP8 with 128x128 block scales, 4-bit GPTQ
# or AWQ with groups of 128), the rest bf16; MB/s are of the checkpoint's bytes.
# With gptq or awq it also times --keep-quant (the 4-bit weights copied as
# Q4_0/Q4_1 blocks, the rest bf16) next to the default path to those blocks'
# type (--outtype Q4_0: dequantize, f16, quantize again).
set -eu
BUILD=${BUILD:-build}
bin="$BUILD/bin/hf2gguf"
gen="$BUILD/fixtures/make_hf"
[ -x "$bin" ] && [ -x "$gen" ] || { echo "hf2gguf.sh: build $bin and $gen first" >&2; exit 2; }
arch=${HF2GGUF_BENCH_ARCH:-llama}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hf2gguf-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
case $arch in
llama)
    layers=${HF2GGUF_BENCH_LAYERS:-18}
    shape="--embd 2048 --ff 5632 --heads 16 --kv-heads 8 --vocab 32000"
    ;;
gemma3)
    layers=${HF2GGUF_BENCH_LAYERS:-6}
    shape="--embd 1152 --ff 6912 --heads 4 --kv-heads 1 --head-dim 256 --vocab 65536"
    ;;
*) echo "hf2gguf.sh: HF2GGUF_BENCH_ARCH is llama or gemma3" >&2; exit 2 ;;
esac
quant=${HF2GGUF_BENCH_QUANT:-}
[ -n "$quant" ] && shape="$shape --quant $quant"
# shellcheck disable=SC2086 # $shape is a list of options
"$gen" --arch "$arch" --layers "$layers" $shape --dtype bf16 "$tmp/m"
bytes=$(stat -c %s "$tmp/m/model.safetensors")
echo "checkpoint: $arch, $((bytes / 1000000)) MB ${quant:-bf16}, $layers layers, $(nproc) cores"
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
        'BEGIN { t = e - s; printf "%-34s %7.2f s %8.0f MB/s %6s MB\n", l, t, b / t / 1e6, r }'
    rm -f "$tmp/out"
}
run "cp" cp "$tmp/m/model.safetensors" "$tmp/out"
run "cat > file" sh -c "cat '$tmp/m/model.safetensors' > '$tmp/out'"
run "cat > file; sync file" sh -c "cat '$tmp/m/model.safetensors' > '$tmp/out'; sync '$tmp/out'"
status=0
for t in bf16 f16 q8_0; do
    # the timed file outputs are kept (run removes only $tmp/out) and compared
    run "hf2gguf --outtype $t" "$bin" -q -f --outtype "$t" "$tmp/m" -o "$tmp/our.gguf"
    run "hf2gguf --outtype $t; sync file" sh -c "'$bin' -q -f --outtype $t '$tmp/m' -o '$tmp/our.gguf'; sync '$tmp/our.gguf'"
    run "hf2gguf --outtype $t > null" sh -c "'$bin' -q --outtype $t '$tmp/m' -o - > /dev/null"
    if [ -n "${CONVERT_HF_TO_GGUF:-}" ]; then
        run "convert_hf_to_gguf.py $t" sh -c "$CONVERT_HF_TO_GGUF '$tmp/m' --outtype $t --outfile '$tmp/py.gguf' > /dev/null 2>&1"
        run "convert_hf_to_gguf.py $t > null" sh -c "$CONVERT_HF_TO_GGUF '$tmp/m' --outtype $t --outfile /dev/null > /dev/null 2>&1"
        if cmp -s "$tmp/py.gguf" "$tmp/our.gguf"; then
            echo "  $t: hf2gguf output identical to convert_hf_to_gguf.py's"
        else
            echo "  $t: hf2gguf output DIFFERS from convert_hf_to_gguf.py's" >&2
            status=1
        fi
    fi
    rm -f "$tmp/py.gguf" "$tmp/our.gguf"
done
case $quant in
gptq | awq)
    run "hf2gguf --keep-quant" "$bin" -q -f --keep-quant "$tmp/m" -o "$tmp/our.gguf"
    run "hf2gguf --keep-quant > null" sh -c "'$bin' -q --keep-quant '$tmp/m' -o - > /dev/null"
    run "hf2gguf --outtype Q4_0 > null" sh -c "'$bin' -q --outtype Q4_0 '$tmp/m' -o - > /dev/null"
    rm -f "$tmp/our.gguf"
    ;;
esac
exit $status
