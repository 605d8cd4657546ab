# config.json promises 2 layers but a tensor of layer 1 is absent.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --omit model.layers.1.mlp.up_proj.weight m
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
