# --split-max-tensors / --split-max-size: gguf-split naming, all KVs in the
# first file, split.* keys (u16, u16, i32) in every file, and the same
# tensors in the same order as the unsplit file.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" m
tsv() { node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" "$1" "$1.meta" "$1.tensors"; }
hf2gguf -q m -o whole.gguf
hf2gguf -q --split-max-tensors 8 m -o part.gguf
[ -f part-00001-of-00003.gguf ] && [ -f part-00003-of-00003.gguf ] || fail "split names"
assert_no_file part.gguf part-00004-of-00003.gguf
for f in whole.gguf part-0000?-of-00003.gguf; do tsv "$f"; done
cat part-0000?-of-00003.gguf.tensors | cmp - whole.gguf.tensors
{ cat whole.gguf.meta; printf 'split.no\tUINT16\t0\nsplit.count\tUINT16\t3\nsplit.tensors.count\tINT32\t21\n'; } |
    cmp - part-00001-of-00003.gguf.meta
printf 'split.no\tUINT16\t2\nsplit.count\tUINT16\t3\nsplit.tensors.count\tINT32\t21\n' |
    cmp - part-00003-of-00003.gguf.meta
# the size rule counts unpadded bytes; one file when everything fits
hf2gguf -q --split-max-size 1G m -o one.gguf
cmp one.gguf whole.gguf
hf2gguf --dry-run --split-max-size 30K m -o x.gguf | grep -c 'x-000..-of-00010.gguf: ' | grep -qx 10
echo ok
