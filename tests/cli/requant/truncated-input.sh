# Input that ends inside the tensor data, found only while converting (a
# zstd stream and a pipe are read forward): exit 2, the message names the
# input, not the output, and nothing is left behind.
. "$SRC/tests/cli/requant/_common.inc"
head -c 3000000 "$REF" | zstd -q > cut.gguf.zst
rc=0
requant -q cut.gguf.zst out.gguf Q8_0 2>err.txt || rc=$?
[ "$rc" = 2 ] || fail "zstd: exit $rc"
[[ "$(cat err.txt)" == "requant: cut.gguf.zst: tensor '"*"': unexpected end of file"* ]] ||
    fail "zstd: message $(cat err.txt)"
assert_no_file out.gguf out.gguf.tmp.*
zstd -qdc cut.gguf.zst | requant -q - out.gguf Q8_0 2>err.txt && fail "pipe: accepted"
[[ "$(cat err.txt)" == "requant: -: tensor '"*"': unexpected end of file"* ]] ||
    fail "pipe: message $(cat err.txt)"
assert_no_file out.gguf out.gguf.tmp.*
