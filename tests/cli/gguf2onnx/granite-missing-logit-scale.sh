# granite without its logit scale (llama.cpp requires the key; renamed in
# place): exit 2 naming the key, no OUTDIR.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch granite --layers 2 --embd 64 --ff 128 --heads 2 --kv-heads 1 --vocab 300 hf
"$BUILD/bin/hf2gguf" -q --outtype f16 hf -o m.gguf
python3 -c "
d = open('m.gguf', 'rb').read()
k = b'granite.logit_scale'
assert d.count(k) == 1
open('x.gguf', 'wb').write(d.replace(k, b'granite.logit_scalX'))
"
gguf2onnx x.gguf out || { s=$?; assert_no_file out out.tmp.*; exit $s; }
