# Fault test: a write that fails (file size limit, as on a full disk)
# leaves the original file intact and no temp or side file, on both
# in-place paths and for a new output.
. "$SRC/tests/cli/gguf-edit/_common.inc"
cp "$REF" m.gguf
# full rewrite (the template does not fit): 4 MB allowed, the file has 10
rc=0
(ulimit -f 4000 && gguf-edit -i m.gguf --chat-template big.jinja) 2>err.txt || rc=$?
[ "$rc" = 2 ] || fail "rewrite: exit $rc, expected 2"
grep -q 'gguf-edit: m.gguf: write failed: File too large' err.txt || fail "rewrite: $(cat err.txt)"
cmp m.gguf "$REF" || fail "rewrite damaged the original"
assert_no_file m.gguf.tmp.*
# header path: the side file (16 kB) cannot be written under 8 kB
rc=0
(ulimit -f 8 && gguf-edit -i m.gguf --set 'general.name=str:ref-llama-2') 2>err.txt || rc=$?
[ "$rc" = 2 ] || fail "header: exit $rc, expected 2"
grep -q 'm.gguf.gguf-edit-header: write failed: File too large' err.txt || fail "header: $(cat err.txt)"
cmp m.gguf "$REF" || fail "header rewrite damaged the original"
assert_no_file m.gguf.gguf-edit-header m.gguf.gguf-edit-header.tmp.*
# a new output
rc=0
(ulimit -f 4000 && gguf-edit "$REF" out.gguf --set a=u8:1) 2>err.txt || rc=$?
[ "$rc" = 2 ] || fail "output: exit $rc, expected 2"
assert_no_file out.gguf out.gguf.tmp.*
