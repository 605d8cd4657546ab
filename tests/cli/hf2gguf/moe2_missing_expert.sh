# deepseek2: n_routed_experts 9 where the checkpoint has 8 experts: the
# first missing expert tensor is named; num_experts_per_tok above the
# expert count is refused too.
. "$SRC/tests/cli/lib.sh"
need_shared
python3 "$SRC/tests/cli/hf2gguf/moe2_reshape.py" "$SHARED/fixtures/hf-2026/deepseek3-moe" m - - \
    n_routed_experts=9
python3 "$SRC/tests/cli/hf2gguf/moe2_reshape.py" "$SHARED/fixtures/hf-2026/deepseek3-moe" u - - \
    num_experts_per_tok=9
if hf2gguf u -o u.gguf 2> u.err; then fail "num_experts_per_tok 9 of 8 accepted"; fi
grep -q "num_experts_per_tok' = 9 is greater than the number of experts (n_routed_experts = 8)" u.err ||
    fail "unexpected message: $(cat u.err)"
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
