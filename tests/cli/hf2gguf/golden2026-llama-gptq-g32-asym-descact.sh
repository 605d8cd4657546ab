# llama-gptq-g32-asym-descact equals ec562eb's convert_hf_to_gguf.py output (f16, bf16, q8_0):
# see the checkpoint's notes in ../shared/golden/convert-2026/README.md.
. "$SRC/tests/cli/lib.sh"
need_shared
. "$SRC/tests/cli/hf2gguf/golden2026.inc"
golden2026 llama-gptq-g32-asym-descact
echo ok
