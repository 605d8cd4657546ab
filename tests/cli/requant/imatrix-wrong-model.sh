# An imatrix whose entry sizes do not fit the model is refused.
. "$SRC/tests/cli/requant/_common.inc"
"$HASHES" "$REF" > ref.tsv
python3 "$HERE/mkimatrix.py" dat wrong.dat wrong < ref.tsv
rc=0
requant --imatrix wrong.dat "$REF" out.gguf Q4_K_M 2>err.txt || rc=$?
grep -q 'imatrix entry for .blk\.0\.attn_q\.weight. has 257 values, the tensor needs 256' err.txt || fail "$(cat err.txt)"
assert_no_file out.gguf
exit $rc
