# A valid GGUF cut at every header field edge (and one byte into each
# field): every GGUF reader refuses each cut with exit 2, naming the file.
. "$SRC/tests/cli/hostile/_hostile.inc"
mkdir cuts
$MK gguf-cuts cuts
n=0
for f in cuts/*.gguf; do
    gguf_refused "$f: " "$f"
    n=$((n + 1))
done
[ "$n" -gt 40 ] || fail "only $n cuts"
