# adapter_config.json with r 0: exit 2.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch llama llama
python3 "$SRC/tests/cli/hf2gguf/lora_make.py" llama a --set r=0
hf2gguf --lora a --base llama -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
