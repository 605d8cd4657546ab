# malformed lines are counted, named with --warn (MANIFEST:LINE), fail with
# --strict; a manifest with no well-formed line fails
. "$SRC/tests/cli/lib.sh"
need_shared
cp "$SHARED/fixtures/ref-llama-f16.gguf" m.gguf # a link leaving the directory is refused
gguf-verify hash --no-layer m.gguf > m.manifest
printf 'xxh64 zz m.gguf\n\nnot a checksum line\n' >> m.manifest
gguf-verify check m.manifest > out.txt 2> err.txt || fail "malformed lines alone must not fail"
grep -q 'WARNING: 2 lines are improperly formatted' err.txt || fail "count"
grep -q 'm.manifest:2:' err.txt && fail "named without --warn"
gguf-verify check --warn m.manifest 2> err.txt >/dev/null || fail "--warn fails"
grep -q '^gguf-verify: m.manifest:2: improperly formatted checksum line$' err.txt || fail "line 2"
grep -q '^gguf-verify: m.manifest:4: improperly formatted checksum line$' err.txt || fail "line 4"
gguf-verify check --strict m.manifest >/dev/null 2>&1 && fail "--strict passed"
printf 'hello\nworld\n' > junk.manifest
gguf-verify check junk.manifest 2> err.txt && fail "no well-formed line passed"
grep -q 'no properly formatted checksum lines found' err.txt || fail "message"
gguf-verify check no-such.manifest
