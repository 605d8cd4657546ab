# glm4 equals ec562eb's convert_hf_to_gguf.py output (f16, bf16, q8_0):
# q/k/v biases, fused gate_up kept as ffn_up, rope.dimension_count = half
# the head after general.file_type, eot/unk/bos set from added tokens.
. "$SRC/tests/cli/lib.sh"
need_shared
. "$SRC/tests/cli/hf2gguf/golden2026.inc"
golden2026 glm4
echo ok
