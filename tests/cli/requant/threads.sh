# Output bytes do not depend on the thread count.
. "$SRC/tests/cli/requant/_common.inc"
requant -q -j 1 "$REF" j1.gguf Q4_K_M
requant -q -j 4 "$REF" j4.gguf Q4_K_M
cmp j1.gguf j4.gguf || fail "Q4_K_M: -j 1 and -j 4 differ"
[ "$ASAN" = 1 ] && exit 0
requant -q -j 1 "$REF" j1.gguf IQ4_XS -f
requant -q -j 3 "$REF" j3.gguf IQ4_XS
cmp j1.gguf j3.gguf || fail "IQ4_XS: -j 1 and -j 3 differ"
# IQ2_XS with an imatrix; layers 1..7 as Q8_0 to keep the case fast
"$HASHES" "$REF" > ref.tsv
python3 "$HERE/mkimatrix.py" dat im.dat < ref.tsv
fast='blk\.[1-7]\.=q8_0'
requant -q -f -j 1 --imatrix im.dat --tensor-type "$fast" "$REF" j1.gguf IQ2_XS
requant -q -f -j 4 --imatrix im.dat --tensor-type "$fast" "$REF" j4.gguf IQ2_XS
"$HASHES" j1.gguf | grep -q '^blk.0.ffn_up.weight	IQ2_XS	' || fail "types"
cmp j1.gguf j4.gguf || fail "IQ2_XS with imatrix: -j 1 and -j 4 differ"
