# --html: the error report as one self-contained page with a point per layer
# and tensor kind; an existing page is refused before any work is done
. "$SRC/tests/cli/lib.sh"
need_shared
m=$SHARED/fixtures/ref-llama-f16.gguf
requant -q --html r.html "$m" out.gguf Q4_K_M
[ -s out.gguf ] || fail "no model"
n=$(grep -o 'data-kind="[a-z_]*" data-layer="[0-9]*"' r.html | sort -u | wc -l)
[ "$n" = 56 ] || fail "expected 7 kinds x 8 layers = 56 points, got $n"
grep -q 'http' r.html && fail "page refers to the network"
grep -q 'blk.7.ffn_down.weight' r.html || fail "tensor table"
requant -q --html r.html "$m" out2.gguf Q4_K_M 2>err.txt && fail "existing page overwritten"
grep -q "already exists" err.txt || fail "refusal message"
assert_no_file out2.gguf
requant -q --html r.html --no-metrics "$m" out3.gguf Q8_0 2>/dev/null && fail "--html with --no-metrics"
assert_no_file out3.gguf
