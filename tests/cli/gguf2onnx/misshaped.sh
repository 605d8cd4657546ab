# embedding_length disagrees with the tensors: the shape error names both.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_gguf" --preset tiny m.gguf
"$BUILD/bin/requant" -q --pure --allow-requantize --override-kv llama.embedding_length=int:96 m.gguf x.gguf Q8_0
gguf2onnx x.gguf out || { s=$?; assert_no_file out out.tmp.*; exit $s; }
