# olmo2 without block 1's post-MLP norm (its name changed in place): exit 2
# naming the tensor, no OUTDIR.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch olmo2 --layers 2 --embd 64 --ff 128 --heads 2 --kv-heads 1 --vocab 300 hf
"$BUILD/bin/hf2gguf" -q --pre qwen2 --outtype f16 hf -o m.gguf
python3 -c "
d = open('m.gguf', 'rb').read()
k = b'blk.1.post_ffw_norm.weight'
assert d.count(k) == 1
open('x.gguf', 'wb').write(d.replace(k, b'blk.1.post_ffw_norm.weighX'))
"
gguf2onnx x.gguf out || { s=$?; assert_no_file out out.tmp.*; exit $s; }
