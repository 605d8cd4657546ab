# --keep-quant=strict refuses an act-order GPTQ checkpoint (inputs of one
# 32-block in different groups cannot be one Q4_0 block): exit 2 naming the
# weight and why, before anything is written.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --quant gptq --gptq-group 32 --gptq-desc-act m
hf2gguf --keep-quant=strict m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
