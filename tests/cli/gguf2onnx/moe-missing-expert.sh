# A mixture of experts without block 0's ffn_up_exps (its name changed in
# place): exit 2 naming the tensor, no OUTDIR.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_gguf" --layers 1 --embd 64 --ff 64 --heads 2 --kv-heads 1 --vocab 300 \
    --experts 4 --experts-used 2 m.gguf
python3 -c "
d = open('m.gguf', 'rb').read()
k = b'blk.0.ffn_up_exps.weight'
assert d.count(k) == 1
open('x.gguf', 'wb').write(d.replace(k, b'blk.0.ffn_up_exps.weighX'))
"
gguf2onnx x.gguf out || { s=$?; assert_no_file out out.tmp.*; exit $s; }
