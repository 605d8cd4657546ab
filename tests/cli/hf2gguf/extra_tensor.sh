# A tensor the architecture table does not know: exit 2, file and tensor named.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --extra model.layers.0.mlp.extra_proj.weight m
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
