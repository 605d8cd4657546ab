# block_count says 3 but the file has 2 layers: a clear error, exit 2, no OUTDIR.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_gguf" --preset tiny m.gguf
"$BUILD/bin/requant" -q --pure --allow-requantize --override-kv llama.block_count=int:3 m.gguf x.gguf Q8_0
gguf2onnx x.gguf out || { s=$?; assert_no_file out out.tmp.*; exit $s; }
