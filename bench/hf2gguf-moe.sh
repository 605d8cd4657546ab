#!/bin/sh
# bench/hf2gguf-moe.sh -- hf2gguf on a generated mixture of experts: a
# Qwen3-MoE-shaped bf16 checkpoint of 64 experts per block (n_embd 1024,
# expert width 512, 12 blocks, ~2.4 GB; HF2GGUF_MOE_LAYERS scales it, 1
# block ~ 200 MB; HF2GGUF_MOE_EXPERTS changes the expert count), next to cp
# and cat + sync of the same bytes. Output: one line per run, "what  seconds
# MB/s  peak-RSS-MB". The experts are stacked into one tensor per block
# without being materialised (formats/stack), so peak RSS stays at the
# chunk pipeline's size whatever the expert count and the model size; the
# -j 1 line shows the floor. CONVERT_HF_TO_GGUF="python3 /path/to/
# convert_hf_to_gguf.py" adds llama.cpp's converter (which stacks every
# block's experts in memory) and checks that the outputs are identical.
set -eu
BUILD=${BUILD:-build}
bin="$BUILD/bin/hf2gguf"
gen="$BUILD/fixtures/make_hf"
[ -x "$bin" ] && [ -x "$gen" ] || { echo "hf2gguf-moe.sh: build $bin and $gen first" >&2; exit 2; }
layers=${HF2GGUF_MOE_LAYERS:-12}
experts=${HF2GGUF_MOE_EXPERTS:-64}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hf2gguf-moe.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
"$gen" --arch qwen3moe --layers "$layers" --embd 1024 --ff 3072 --moe-ff 512 --heads 16 \
    --kv-heads 4 --head-dim 64 --vocab 4096 --experts "$experts" --topk 8 --dtype bf16 "$tmp/m"
bytes=$(stat -c %s "$tmp/m/model.safetensors")
echo "checkpoint: qwen3moe, $((bytes / 1000000)) MB bf16, $layers blocks of $experts experts (1024x512), $(nproc) cores"
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
        'BEGIN { t = e - s; printf "%-36s %7.2f s %8.0f MB/s %6s MB\n", l, t, b / t / 1e6, r }'
    rm -f "$tmp/out"
}
run "cp" cp "$tmp/m/model.safetensors" "$tmp/out"
run "cat > file; sync file" sh -c "cat '$tmp/m/model.safetensors' > '$tmp/out'; sync '$tmp/out'"
status=0
for t in bf16 f16 q8_0; do
    run "hf2gguf --outtype $t" "$bin" -q -f --pre qwen2 --outtype "$t" "$tmp/m" -o "$tmp/our.gguf"
    run "hf2gguf --outtype $t; sync file" sh -c "'$bin' -q -f --pre qwen2 --outtype $t '$tmp/m' -o '$tmp/our.gguf'; sync '$tmp/our.gguf'"
    if [ "$t" = bf16 ]; then
        run "hf2gguf --outtype bf16 -j 1" "$bin" -q -f -j 1 --pre qwen2 --outtype bf16 "$tmp/m" -o "$tmp/our.gguf"
    fi
    if [ -n "${CONVERT_HF_TO_GGUF:-}" ]; then
        run "convert_hf_to_gguf.py $t" sh -c "$CONVERT_HF_TO_GGUF '$tmp/m' --outtype $t --outfile '$tmp/py.gguf' > /dev/null 2>&1"
        if cmp -s "$tmp/py.gguf" "$tmp/our.gguf"; then
            echo "  $t: hf2gguf output identical to convert_hf_to_gguf.py's"
        else
            echo "  $t: hf2gguf output DIFFERS from convert_hf_to_gguf.py's" >&2
            status=1
        fi
    fi
    rm -f "$tmp/py.gguf" "$tmp/our.gguf"
done
exit $status
