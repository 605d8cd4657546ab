# deepseek2: MLA ranks in config.json that disagree with kv_b_proj's shape
# (kv_lora_rank 16 where the tensors have 32) are refused naming the tensor
# and the ranks.
. "$SRC/tests/cli/lib.sh"
need_shared
python3 "$SRC/tests/cli/hf2gguf/moe2_reshape.py" "$SHARED/fixtures/hf-2026/deepseek3-moe" m - - \
    kv_lora_rank=16
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
