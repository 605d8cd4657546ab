# deepseek2 from an FP8 checkpoint as DeepSeek-V3 ships it (moe2_fp8.py:
# kv_b_proj and the routed experts F8_E4M3 with 128x128 block scales): the
# dequantized kv_b_proj is cut into attn_k_b/attn_v_b and the dequantized
# experts stacked exactly as the same values stored as F32 are (every
# tensor of --outtype f32 equal, xxh64).
. "$SRC/tests/cli/lib.sh"
need_shared
mkdir src
for f in "$SHARED/fixtures/hf-2026/deepseek3-moe"/*; do cp "$f" src/; done
gunzip -c "$SHARED/fixtures/hf-2026/tokenizers-moe/deepseek_v3.tokenizer.json.gz" > src/tokenizer.json
python3 "$SRC/tests/cli/hf2gguf/moe2_fp8.py" src fp8 ref
hf2gguf -q --outtype f32 -o fp8.gguf fp8
hf2gguf -q --outtype f32 -o ref.gguf ref
python3 "$SRC/tests/cli/hf2gguf/gguf_tables.py" fp8.gguf fm.tsv ft.tsv
python3 "$SRC/tests/cli/hf2gguf/gguf_tables.py" ref.gguf rm.tsv rt.tsv
grep -q '^blk.0.attn_k_b.weight	F32	16x32x2	' ft.tsv || fail "no attn_k_b"
grep -q '^blk.1.ffn_up_exps.weight	F32	16x32x8	' ft.tsv || fail "no stacked experts"
diff rt.tsv ft.tsv >&2 || fail "the FP8 conversion differs from its dequantized values"
echo ok
