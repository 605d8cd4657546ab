# -j 1, -j 3, stdin (pipe and redirect) and zstd input give the same digests
. "$SRC/tests/cli/lib.sh"
need_shared
m=$SHARED/fixtures/ref-llama-f16.gguf
k="--all --uuid --xxh128"
gguf-verify hash $k -j 1 "$m" > j1.txt
gguf-verify hash $k -j 3 "$m" > j3.txt
cmp j1.txt j3.txt || fail "-j 3 differs"
sed "s|  $m|  -|" j1.txt > want.txt
gguf-verify hash $k - < "$m" > redirect.txt
cat "$m" | gguf-verify hash $k - > pipe.txt
cat "$m" | gguf-verify hash $k -j 1 - > pipe1.txt
cat "$m" | gguf-verify hash $k -j 3 - > pipe3.txt
zstd -q -c "$m" | gguf-verify hash $k - > zstd.txt
cmp want.txt redirect.txt || fail "redirected stdin differs"
cmp want.txt pipe.txt || fail "pipe differs"
cmp want.txt pipe1.txt || fail "pipe -j 1 differs"
cmp want.txt pipe3.txt || fail "pipe -j 3 differs"
cmp want.txt zstd.txt || fail "zstd pipe differs"
[ "$(wc -l < j1.txt)" = $((75 * 5 + 6)) ] || fail "line count $(wc -l < j1.txt)"
gguf-verify hash --no-layer --sha256 "$m" > nl.txt
[ "$(wc -l < nl.txt)" = 1 ] || fail "--no-layer"
grep "^sha256    [0-9a-f]\{64\}  $m\$" nl.txt >/dev/null || fail "--no-layer line"
