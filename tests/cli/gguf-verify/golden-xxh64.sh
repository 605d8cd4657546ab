# per-tensor XXH64 agrees with the llama-quantize golden table (which lists
# XXH64 of every tensor's data), and the default kind is xxh64
. "$SRC/tests/cli/lib.sh"
need_shared
gguf-verify hash "$SHARED/fixtures/ref-llama-f16.gguf" > m.txt
awk '$3 ~ /:/ { n = $3; sub(/.*:/, "", n); print n "\t" $2 }' m.txt | sort > ours.tsv
awk -F'\t' '{ print $1 "\t" $4 }' "$SHARED/golden/llama-quantize/F16.tsv" | sort > golden.tsv
[ "$(wc -l < golden.tsv)" -gt 70 ] || fail "golden table too short"
cmp ours.tsv golden.tsv || fail "xxh64 differs from golden: $(diff ours.tsv golden.tsv | head -3)"
[ "$(grep -c '^xxh64     ' m.txt)" = "$(wc -l < m.txt)" ] || fail "default kind is not xxh64"
