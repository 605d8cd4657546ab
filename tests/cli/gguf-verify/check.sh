# check: OK/FAILED lines, counts, exit 1 on a mismatch, missing or extra
# tensor; --quiet, --status, -c alias
. "$SRC/tests/cli/lib.sh"
need_shared
cp "$SHARED/fixtures/ref-llama-f16.gguf" m.gguf
gguf-verify hash --sha256 m.gguf > m.manifest
gguf-verify check m.manifest > out.txt 2> err.txt
[ "$(grep -c ': OK$' out.txt)" = 76 ] || fail "OK lines"
head -1 out.txt | grep -qx 'm.gguf:token_embd.weight: OK' || fail "first line: $(head -1 out.txt)"
grep -q 'm.manifest: 76 OK, 0 failed' err.txt || fail "counts"
gguf-verify -c m.manifest --quiet > q.txt || fail "-c --quiet"
[ ! -s q.txt ] || fail "--quiet printed OK lines"
# flip one byte of the last tensor's data
size=$(stat -c %s m.gguf)
printf '\377' | dd of=m.gguf bs=1 seek=$((size - 100)) conv=notrunc 2>/dev/null
gguf-verify check m.manifest > out.txt 2> err.txt && fail "tampered file passed"
[ $? = 1 ] || fail "exit status"
grep -qx 'm.gguf:output.weight: FAILED' out.txt || fail "tensor line"
grep -qx 'm.gguf: FAILED' out.txt || fail "model line"
grep -q 'WARNING: 2 computed checksums did NOT match' err.txt || fail "count of mismatches"
gguf-verify check --status m.manifest > s.txt 2> s2.txt && fail "--status passed"
[ ! -s s.txt ] && [ ! -s s2.txt ] || fail "--status printed something"
# missing tensor line / extra tensor in the file
gguf-verify hash m.gguf > x.manifest
sed -i 's/:blk\.0\.attn_q\.weight$/:blk.0.nope.weight/' x.manifest
gguf-verify check --quiet x.manifest > out.txt 2> err.txt && fail "missing/extra passed"
grep -qx 'm.gguf:blk.0.nope.weight: FAILED (not in the file)' out.txt || fail "missing line"
grep -qx 'm.gguf:blk.0.attn_q.weight: FAILED (not in the manifest)' out.txt || fail "extra line"
gguf-verify check --quiet --ignore-missing x.manifest > out.txt && fail "extra tensor ignored"
grep -q 'nope' out.txt && fail "--ignore-missing printed the missing tensor"
true
