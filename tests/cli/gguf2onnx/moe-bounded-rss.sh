# Experts stream too: a 218 MB F16 mixture of experts (8 experts of 2048 x
# 1024 per block) converts to f32 MoE experts (417 MB out) with a peak RSS
# well under the model size (measured 70 MB).
case "$PATH" in *asan*) exit 0 ;; esac # ASan's own memory would dominate
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_gguf" --layers 2 --embd 1024 --ff 2048 --heads 8 --kv-heads 4 --vocab 1000 \
    --experts 8 --experts-used 2 m.gguf
size=$(stat -c %s m.gguf)
/usr/bin/time -f '%M' -o rss.txt gguf2onnx -q m.gguf out
rss_kb=$(tail -n1 rss.txt)
grep -q -a MoE out/model.onnx || fail "no MoE node"
[ $((rss_kb * 1024)) -lt $((size / 2)) ] || fail "peak RSS ${rss_kb} kB for a $size-byte model"
