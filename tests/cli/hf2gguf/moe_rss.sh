# Stacked experts stream: each expert's rows are read from its own tensor as
# the stack is written, and their pages are dropped once converted
# (formats/stack), so peak RSS follows the chunk pipeline (with -j 2: four
# 4 MB output buffers and the source of the two chunks being filled), not
# the expert count or the model size. 512 experts of 128x128 per block, 4
# blocks: a ~200 MB checkpoint converts in under 64 MB (measured ~48 MB; a
# stack kept in memory would need the whole checkpoint mapped in).
case "$PATH" in *asan*) exit 0 ;; esac # ASan's own memory would dominate
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch qwen3moe --layers 4 --embd 128 --ff 256 --moe-ff 128 \
    --heads 4 --vocab 512 --experts 512 m > /dev/null
size=$(stat -c %s m/model.safetensors)
/usr/bin/time -f '%M' -o rss hf2gguf -q -j 2 --pre qwen2 --outtype f16 m -o out.gguf
[ -s out.gguf ] || fail "no output"
gguf-inspect out.gguf | grep -q 'blk.3.ffn_up_exps.weight' || fail "no stacked experts"
rss_kb=$(tail -n1 rss)
echo "peak RSS ${rss_kb} kB for a $size-byte checkpoint of 512 experts" >&2
[ "$rss_kb" -lt $((64 * 1024)) ] || fail "peak RSS ${rss_kb} kB (bound 64 MB)"
[ $((rss_kb * 1024)) -lt $((size / 3)) ] || fail "peak RSS ${rss_kb} kB for a $size-byte checkpoint"
