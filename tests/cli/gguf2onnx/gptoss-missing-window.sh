# gpt-oss without its sliding window key (renamed in place): exit 2 naming
# the key, no OUTDIR.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch gptoss --layers 2 --embd 64 --ff 64 --heads 4 --kv-heads 2 \
    --head-dim 16 --experts 4 --topk 2 --vocab 300 hf
"$BUILD/bin/hf2gguf" -q --pre gpt-4o --outtype f16 hf -o m.gguf 2> /dev/null
python3 -c "
d = open('m.gguf', 'rb').read()
k = b'gpt-oss.attention.sliding_window'
assert d.count(k) == 1
open('x.gguf', 'wb').write(d.replace(k, b'gpt-oss.attention.sliding_windoX'))
"
gguf2onnx x.gguf out || { s=$?; assert_no_file out out.tmp.*; exit $s; }
