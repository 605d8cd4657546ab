# An architecture outside the tables: exit 2, the supported list, no OUTDIR.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_gguf" --preset tiny m.gguf
"$BUILD/bin/requant" -q --pure --allow-requantize --override-kv general.architecture=str:gptneox m.gguf x.gguf Q8_0
gguf2onnx x.gguf out || { s=$?; assert_no_file out out.tmp.*; exit $s; }
