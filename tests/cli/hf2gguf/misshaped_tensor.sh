# A tensor whose shape disagrees with config.json.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --bad-shape model.layers.0.self_attn.k_proj.weight m
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
