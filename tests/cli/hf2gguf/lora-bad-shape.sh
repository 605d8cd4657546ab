# An adapter whose lora_B has a row more than the base weight: exit 2, nothing written.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch llama llama
python3 "$SRC/tests/cli/hf2gguf/lora_make.py" llama a --bad-shape layers.1.self_attn.v_proj
hf2gguf --lora a --base llama -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
