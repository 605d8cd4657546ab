# A stream of any size goes through requant (issue #14): a 268 MB model
# made at test time, read from `cat`, from `zstd -dc`, as zstd data on
# stdin and from `hf2gguf -o -`, gives the bytes of the file path, with
# peak RSS far below the model's size (the stream is spilled to an
# unlinked temp file in $TMPDIR, whose pages are released as they are
# used). The spill leaves nothing in $TMPDIR, also when the run fails.
set -o pipefail
. "$SRC/tests/cli/lib.sh"
case "$PATH" in */asan/*) ASAN=1 ;; *) ASAN=0 ;; esac
export TMPDIR=$PWD/tmp
mkdir "$TMPDIR"
"$BUILD/fixtures/make_gguf" --layers 2 --embd 1024 --ff 4096 --heads 8 --kv-heads 8 \
    --vocab 16384 --ctx 64 --type f32 big.gguf
size=$(stat -c %s big.gguf)
[ "$size" -ge 200000000 ] || fail "model is only $size bytes"
requant -q -j 2 big.gguf file.gguf Q8_0

# rss_below LABEL FILE: the run measured by /usr/bin/time -f %M in FILE
# peaked below 200 MB (ASan's shadow memory would dominate: not there)
rss_below() {
    local kb
    kb=$(tail -n1 "$2")
    [ "$ASAN" = 1 ] || [ "$kb" -lt 204800 ] || fail "$1: peak RSS $kb kB for a $size-byte model"
}

cat big.gguf | /usr/bin/time -f %M -o rss1 requant -q -j 2 - piped.gguf Q8_0
cmp piped.gguf file.gguf || fail "cat | requant - differs from the file path"
rss_below "cat | requant" rss1
zstd -q -1 -c big.gguf > big.gguf.zst
zstd -q -dc big.gguf.zst | /usr/bin/time -f %M -o rss2 requant -q -j 2 - - Q8_0 > out2.gguf
cmp out2.gguf file.gguf || fail "zstd -dc | requant - - differs from the file path"
rss_below "zstd -dc | requant" rss2
/usr/bin/time -f %M -o rss3 requant -q -j 2 - - Q8_0 < big.gguf.zst > out3.gguf
cmp out3.gguf file.gguf || fail "zstd data on stdin differs from the file path"
rss_below "requant - < zst" rss3
rm -f piped.gguf out2.gguf out3.gguf big.gguf.zst
[ -z "$(ls -A "$TMPDIR")" ] || fail "left in TMPDIR: $(ls -A "$TMPDIR")"

# a stream cut short: exit 2, no output, nothing in TMPDIR
rc=0
head -c 150000000 big.gguf | requant -q - cut.gguf Q8_0 2>err || rc=$?
[ "$rc" = 2 ] || fail "truncated stream: exit $rc: $(cat err)"
grep -q "unexpected end of file" err || fail "truncated stream: $(cat err)"
assert_no_file cut.gguf cut.gguf.tmp.*
[ -z "$(ls -A "$TMPDIR")" ] || fail "left in TMPDIR after a failure: $(ls -A "$TMPDIR")"
# no room for the spill: the message says where
rc=0
cat big.gguf | TMPDIR=$PWD/none requant -q - none.gguf Q8_0 2>err || rc=$?
[ "$rc" = 2 ] || fail "no TMPDIR: exit $rc: $(cat err)"
grep -q "cannot create a temp file in $PWD/none" err || fail "no TMPDIR: $(cat err)"
assert_no_file none.gguf none.gguf.tmp.*

# the README's pipeline: hf2gguf -o - | requant -
rm -f big.gguf file.gguf
"$BUILD/fixtures/make_hf" --arch llama --dtype bf16 --layers 2 --embd 1024 --ff 4096 --heads 8 \
    --kv-heads 8 --vocab 16384 --ctx 64 hf > /dev/null
hf2gguf -q --outtype f32 hf -o hf.gguf
requant -q -j 2 hf.gguf hf-file.gguf Q8_0
rm hf.gguf
hf2gguf -q --outtype f32 hf -o - | /usr/bin/time -f %M -o rss4 requant -q -j 2 - hf-pipe.gguf Q8_0
cmp hf-pipe.gguf hf-file.gguf || fail "hf2gguf -o - | requant - differs from the file path"
rss_below "hf2gguf | requant" rss4
[ -z "$(ls -A "$TMPDIR")" ] || fail "left in TMPDIR: $(ls -A "$TMPDIR")"
