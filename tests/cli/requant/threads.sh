# Output bytes do not depend on the thread count.
. "$SRC/tests/cli/requant/_common.inc"
"$HASHES" "$REF" > ref.tsv
python3 "$HERE/mkimatrix.py" dat im.dat < ref.tsv
for p in Q4_K_M IQ4_XS; do
    requant -q -j 1 "$REF" j1.gguf "$p"
    requant -q -j 4 "$REF" j4.gguf "$p"
    cmp j1.gguf j4.gguf || fail "$p: -j 1 and -j 4 differ"
    rm j1.gguf j4.gguf
done
requant -q -j 1 --imatrix im.dat "$REF" j1.gguf IQ2_XS
requant -q -j 3 --imatrix im.dat "$REF" j3.gguf IQ2_XS
cmp j1.gguf j3.gguf || fail "IQ2_XS with imatrix: -j 1 and -j 3 differ"
