# stdin and zstd input give the same JSON as the file itself (apart from paths/sizes)
. "$SRC/tests/cli/lib.sh"
need_shared
m=$SHARED/fixtures/ref-llama-f16.gguf
strip() { grep -v '"path"\|"size"\|"file_size"'; }
gguf-inspect --json "$m" | strip > a.json
gguf-inspect --json - < "$m" | strip > b.json
zstd -q -c "$m" > m.gguf.zst
gguf-inspect --json m.gguf.zst | strip > c.json
cat "$m" | zstd -q -c | gguf-inspect --json - | strip > d.json
cmp a.json b.json || fail "stdin differs"
cmp a.json c.json || fail "zstd file differs"
cmp a.json d.json || fail "zstd stdin differs"
[ "$(head -c 1 a.json)" = "{" ] || fail "not JSON"
