# phi3 LongRoPE factors of the wrong length (rope.dimension_count halved, so
# rope_dim/2 = 8 for 16 factors): exit 2 naming the tensor, no OUTDIR.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch phi3 --layers 2 --embd 64 --ff 128 --heads 2 --kv-heads 2 --vocab 300 --ctx 16 hf
"$BUILD/bin/hf2gguf" -q --outtype f16 hf -o m.gguf
"$BUILD/bin/requant" -q --pure --allow-requantize --override-kv phi3.rope.dimension_count=int:16 m.gguf x.gguf Q8_0
gguf2onnx x.gguf out || { s=$?; assert_no_file out out.tmp.*; exit $s; }
