# An adapter made for qwen3 (head_dim 32: q_proj has 128 rows) on a llama base: exit 2.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch llama llama
"$BUILD/fixtures/make_hf" --arch qwen3 --head-dim 32 qwen3
python3 "$SRC/tests/cli/hf2gguf/lora_make.py" qwen3 a
hf2gguf --lora a --base llama -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
