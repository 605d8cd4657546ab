# Truncated or hostile imatrix files are bad input (exit 2), not crashes.
. "$SRC/tests/cli/requant/_common.inc"
"$HASHES" "$REF" > ref.tsv
python3 "$HERE/mkimatrix.py" dat im.dat < ref.tsv
python3 "$HERE/mkimatrix.py" gguf im.gguf < ref.tsv
head -c 1000 im.dat > cut.dat
head -c 5000 im.gguf > cut.gguf
printf '\377\377\377\177\001\000\000\000' > huge.dat
for f in cut.dat cut.gguf huge.dat missing.dat; do
    rc=0
    requant --imatrix "$f" "$REF" out.gguf Q4_K_M 2>err.txt || rc=$?
    [ "$rc" = 2 ] || fail "$f: exit $rc"
    grep -q "^requant: $f: " err.txt || fail "$f: message $(cat err.txt)"
done
assert_no_file out.gguf
exit 2
