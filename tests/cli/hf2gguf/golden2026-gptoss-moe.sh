# gptoss-moe: hf2gguf against ec562eb (f16, bf16, q8_0)
. "$SRC/tests/cli/lib.sh"
need_shared
. "$SRC/tests/cli/hf2gguf/golden2026.inc"
golden2026 gptoss-moe
echo ok
