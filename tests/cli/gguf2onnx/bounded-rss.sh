# conversion streams: source pages are dropped once converted, so peak RSS
# stays well under the model size (it used to map the whole model in)
case "$PATH" in *asan*) exit 0 ;; esac # ASan's own memory would dominate
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_gguf" --layers 2 --embd 1024 --ff 4096 --heads 8 --kv-heads 2 --vocab 32000 m.gguf
size=$(stat -c %s m.gguf)
/usr/bin/time -f '%M' -o rss.txt gguf2onnx -q --weights int8 m.gguf out
rss_kb=$(tail -n1 rss.txt)
[ -f out/model.onnx.data ] || fail "no output"
[ $((rss_kb * 1024)) -lt $((size / 2)) ] || fail "peak RSS ${rss_kb} kB for a $size-byte model"
