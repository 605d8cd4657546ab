# hash --whole prints sha256sum lines: sha256sum -c and our check accept them
. "$SRC/tests/cli/lib.sh"
need_shared
cp "$SHARED/fixtures/ref-llama-f16.gguf" m.gguf
zstd -q m.gguf -o 'odd name.gguf.zst'
gguf-verify hash --whole m.gguf 'odd name.gguf.zst' > SHA256SUMS
sha256sum m.gguf 'odd name.gguf.zst' > want
cmp SHA256SUMS want || fail "differs from sha256sum"
sha256sum -c --quiet SHA256SUMS || fail "sha256sum -c"
gguf-verify check SHA256SUMS > out.txt || fail "our check"
printf 'm.gguf: OK\nodd name.gguf.zst: OK\n' | cmp - out.txt || fail "check output"
echo x >> m.gguf
gguf-verify check SHA256SUMS > out.txt && fail "changed file passed"
grep -qx 'm.gguf: FAILED' out.txt || fail "FAILED line"
gguf-verify hash --whole --xxh64 m.gguf 2>&1 | grep -q 'SHA-256 only' || fail "--whole with xxh64"
