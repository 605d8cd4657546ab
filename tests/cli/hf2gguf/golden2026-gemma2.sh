# gemma2 equals ec562eb's convert_hf_to_gguf.py output (f16, bf16, q8_0): its
# own keys, norm weights +1, the tied output as upstream handles it.
. "$SRC/tests/cli/lib.sh"
need_shared
. "$SRC/tests/cli/hf2gguf/golden2026.inc"
golden2026 gemma2
echo ok
