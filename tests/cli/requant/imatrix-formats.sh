# The legacy .dat and the GGUF imatrix give the same tensors, and the
# quantize.imatrix.* keys are appended as llama-quantize does.
. "$SRC/tests/cli/requant/_common.inc"
"$HASHES" "$REF" > ref.tsv
python3 "$HERE/mkimatrix.py" dat im.dat < ref.tsv
python3 "$HERE/mkimatrix.py" gguf im.gguf < ref.tsv
# layers 1..7 as Q8_0 to keep the case fast
fast='blk\.[1-7]\.=q8_0'
requant -q --imatrix im.dat --tensor-type "$fast" "$REF" a.gguf IQ2_XXS
requant -q --imatrix im.gguf --tensor-type "$fast" "$REF" b.gguf IQ2_XXS
"$HASHES" a.gguf > a.tsv
"$HASHES" b.gguf > b.tsv
cmp a.tsv b.tsv || fail "legacy and GGUF imatrix differ"
grep -q 'blk.0.attn_q.weight	IQ2_XXS' a.tsv || fail "types"
python3 "$HERE/gguf_kv.py" a.gguf | tail -n 6 > kv.txt
printf '%s\n' 'general.quantization_version	u32	2' 'general.file_type	u32	19' \
    'quantize.imatrix.file	str	im.dat' 'quantize.imatrix.dataset	str	test-data.txt' \
    'quantize.imatrix.entries_count	u32	56' 'quantize.imatrix.chunks_count	u32	10' > want.txt
diff kv.txt want.txt || fail "imatrix keys"
# an imatrix changes Q4_K_M's bytes, and --exclude-weights all of it does not
requant -q --imatrix im.dat "$REF" c.gguf Q4_K_M
"$HASHES" c.gguf | cmp -s - "$GOLD/Q4_K_M.tsv" && fail "imatrix had no effect"
requant -q --imatrix im.dat --exclude-weights blk. "$REF" d.gguf Q4_K_M
"$HASHES" d.gguf | cmp - "$GOLD/Q4_K_M.tsv" || fail "--exclude-weights blk. should equal no imatrix"
requant -q --imatrix im.dat --include-weights ffn_down "$REF" e.gguf Q4_K_M
python3 "$HERE/gguf_kv.py" e.gguf | grep -q 'entries_count	u32	8' || fail "--include-weights count"
