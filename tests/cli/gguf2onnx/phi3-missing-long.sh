# phi3 with the short LongRoPE factors but not the long ones (the tensor
# renamed in place): exit 2 naming it, no OUTDIR.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch phi3 --layers 2 --embd 64 --ff 128 --heads 2 --kv-heads 2 --vocab 300 --ctx 16 hf
"$BUILD/bin/hf2gguf" -q --outtype f16 hf -o m.gguf
python3 -c "
d = open('m.gguf', 'rb').read()
k = b'rope_factors_long.weight'
assert d.count(k) == 1
open('x.gguf', 'wb').write(d.replace(k, b'rope_factors_lonX.weight'))
"
gguf2onnx x.gguf out || { s=$?; assert_no_file out out.tmp.*; exit $s; }
