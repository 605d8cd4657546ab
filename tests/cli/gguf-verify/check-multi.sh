# one manifest for several files (and a file name with ':'), checked in one
# run; FILE cannot replace several files (exit 2)
. "$SRC/tests/cli/lib.sh"
need_shared
cp "$SHARED/fixtures/ref-llama-f16.gguf" a.gguf
requant -q a.gguf 'b:q8.gguf' Q8_0
gguf-verify hash --xxh128 a.gguf 'b:q8.gguf' > all.manifest
grep -q '^xxh128    [0-9a-f]\{32\}  b:q8.gguf:blk.0.attn_q.weight$' all.manifest || fail "xxh128 line"
gguf-verify check all.manifest > out.txt || fail "check"
[ "$(grep -c '^a.gguf.*: OK$' out.txt)" = 76 ] || fail "a.gguf lines"
[ "$(grep -c '^b:q8.gguf.*: OK$' out.txt)" = 76 ] || fail "b:q8.gguf lines"
grep -qx 'b:q8.gguf:token_embd.weight: OK' out.txt || fail "split after the file name"
rm 'b:q8.gguf'
gguf-verify check --quiet all.manifest > out.txt && fail "missing file passed"
grep -qx 'b:q8.gguf: FAILED open or read' out.txt || fail "open failure line"
gguf-verify check --quiet --ignore-missing all.manifest > out.txt || fail "--ignore-missing"
[ ! -s out.txt ] || fail "--ignore-missing printed"
gguf-verify check all.manifest a.gguf
