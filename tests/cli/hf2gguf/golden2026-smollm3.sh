# smollm3 equals ec562eb's convert_hf_to_gguf.py output (f16, bf16, q8_0):
# LlamaModel under another name; the NoPE layer keys are not written.
. "$SRC/tests/cli/lib.sh"
need_shared
. "$SRC/tests/cli/hf2gguf/golden2026.inc"
golden2026 smollm3
echo ok
