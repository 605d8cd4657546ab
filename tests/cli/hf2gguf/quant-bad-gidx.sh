# A GPTQ g_idx entry that is not a group (act-order checkpoint): exit 2 naming index and value.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --quant gptq --gptq-group 32 --gptq-desc-act --nan model.layers.0.self_attn.k_proj.g_idx m
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
