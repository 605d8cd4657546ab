# lora_alpha NaN (Python's json writes it; it is not JSON): exit 2, the file named.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch llama llama
python3 "$SRC/tests/cli/hf2gguf/lora_make.py" llama a --alpha NaN
hf2gguf --lora a --base llama -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
