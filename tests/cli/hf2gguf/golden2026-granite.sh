# granite equals ec562eb's convert_hf_to_gguf.py output (f16, bf16, q8_0):
# the four multipliers as keys, no key_length/value_length, no rope_freqs.
. "$SRC/tests/cli/lib.sh"
need_shared
. "$SRC/tests/cli/hf2gguf/golden2026.inc"
golden2026 granite
echo ok
