# A target module the base family does not have: exit 2, named.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch llama llama
python3 "$SRC/tests/cli/hf2gguf/lora_make.py" llama a --extra base_model.model.model.layers.0.self_attn.foo_proj.lora_A.weight:4:64 --extra base_model.model.model.layers.0.self_attn.foo_proj.lora_B.weight:64:4
hf2gguf --lora a --base llama -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
