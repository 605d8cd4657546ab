# A phi3 adapter (fused qkv_proj) on a llama base: exit 2, the module named.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch llama llama
"$BUILD/fixtures/make_hf" --arch phi3 phi3
python3 "$SRC/tests/cli/hf2gguf/lora_make.py" phi3 a
hf2gguf --lora a --base llama -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
