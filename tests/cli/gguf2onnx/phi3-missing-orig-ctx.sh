# phi3 LongRoPE factors without the original context length key (renamed
# in place): exit 2 naming the key, no OUTDIR.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch phi3 --layers 2 --embd 64 --ff 128 --heads 2 --kv-heads 2 --vocab 300 --ctx 16 hf
"$BUILD/bin/hf2gguf" -q --outtype f16 hf -o m.gguf
python3 -c "
d = open('m.gguf', 'rb').read()
k = b'phi3.rope.scaling.original_context_length'
assert d.count(k) == 1
open('x.gguf', 'wb').write(d.replace(k, b'phi3.rope.scaling.original_context_lengtX'))
"
gguf2onnx x.gguf out || { s=$?; assert_no_file out out.tmp.*; exit $s; }
