# A lora_A without its lora_B: exit 2.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch llama llama
python3 "$SRC/tests/cli/hf2gguf/lora_make.py" llama a --omit layers.1.self_attn.q_proj.lora_B
hf2gguf --lora a --base llama -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
