# Dequantized weights stream like stored ones: their source pages are
# dropped once written (fmt_dq_release), so peak RSS stays well under the
# checkpoint's size for FP8 and GPTQ (an FP8 conversion used to keep the
# whole checkpoint mapped in).
case "$PATH" in *asan*) exit 0 ;; esac # ASan's own memory would dominate
. "$SRC/tests/cli/lib.sh"
shape="--embd 1024 --ff 4096 --heads 8 --kv-heads 2 --vocab 512"
# shellcheck disable=SC2086 # $shape is a list of options
"$BUILD/fixtures/make_hf" --quant fp8 --layers 8 $shape f > /dev/null
# shellcheck disable=SC2086
"$BUILD/fixtures/make_hf" --quant gptq --layers 16 $shape g > /dev/null
for m in f g; do
    size=$(stat -c %s $m/model.safetensors)
    /usr/bin/time -f '%M' -o rss.txt hf2gguf -q --outtype bf16 $m -o out.gguf
    rss_kb=$(tail -n1 rss.txt)
    [ -s out.gguf ] || fail "no output"
    [ $((rss_kb * 1024)) -lt $((size / 2)) ] || fail "$m: peak RSS ${rss_kb} kB for a $size-byte checkpoint"
    rm out.gguf
done
