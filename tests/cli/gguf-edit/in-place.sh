# --in-place: the header alone when it fits before the data (same inode),
# else a full rewrite through a temp file (the file's mode kept); either
# way the same bytes as writing a new file.
. "$SRC/tests/cli/gguf-edit/_common.inc"

# a name a few bytes longer fits in the header's alignment padding
gguf-edit -q "$REF" want1.gguf --set 'general.name=str:ref-llama-2'
cp "$REF" m.gguf
ino=$(stat -c %i m.gguf)
gguf-edit -q -i m.gguf --set 'general.name=str:ref-llama-2'
cmp m.gguf want1.gguf || fail "header rewrite differs from a new file"
[ "$(stat -c %i m.gguf)" = "$ino" ] || fail "header rewrite replaced the file"
assert_no_file m.gguf.gguf-edit-header m.gguf.tmp.*

# a 100 kB template does not fit: rewritten, mode kept
gguf-edit -q "$REF" want2.gguf --chat-template big.jinja
chmod 640 m.gguf
gguf-edit -q --in-place m.gguf --set 'general.name=str:ref-llama' --chat-template big.jinja
cmp m.gguf want2.gguf || fail "full rewrite differs from a new file"
[ "$(stat -c %a m.gguf)" = 640 ] || fail "mode $(stat -c %a m.gguf), expected 640"
assert_no_file m.gguf.tmp.*

# a side file left by an interrupted header rewrite is reported, not overwritten
cp "$REF" n.gguf
echo stale >n.gguf.gguf-edit-header
refuse 'gguf-edit: n.gguf.gguf-edit-header: already exists*interrupted in-place edit*' \
    gguf-edit -i n.gguf --set 'general.name=str:x'
cmp n.gguf "$REF" || fail "n.gguf changed"
# in place needs one plain file
zstd -q -c "$REF" >z.gguf.zst
refuse 'gguf-edit: --in-place needs one plain GGUF file*' gguf-edit -i z.gguf.zst --set a=u8:1
