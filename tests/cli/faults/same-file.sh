# No output may be an input (issue #14): requant's stdout or OUTPUT when
# stdin reads that file (`requant -f - - Q8_0 < m.gguf 1<> m.gguf`), the
# imatrix; hf2gguf's output over config.json, the tokenizer files, the
# shard index or the imatrix. All refused even with -f, exit 2, inputs
# byte-identical. A refused existing output is named in the message.
. "$SRC/tests/cli/faults/_faults.inc"
small_model m.gguf
sum=$(md5sum < m.gguf)
same() { # LABEL FILE SUM: exit 2 (in $rc), no sanitizer report, FILE unchanged
    [ "$rc" = 2 ] || fail "$1: exit $rc: $(cat err)"
    no_sanitizer err
    [ "$(md5sum < "$2")" = "$3" ] || fail "$1: $2 was modified"
}
rc=0
requant -f - - Q8_0 < m.gguf 1<> m.gguf 2>err || rc=$?
same "requant - - < m 1<> m" m.gguf "$sum"
grep -q "standard output is the same file as input" err || fail "stdout: message: $(cat err)"
rc=0
requant -f - m.gguf Q8_0 < m.gguf 2>err || rc=$?
same "requant - m.gguf < m.gguf" m.gguf "$sum"
ln m.gguf hard.gguf
rc=0
requant -f - hard.gguf Q8_0 < m.gguf 2>err || rc=$?
same "requant - hard-link < m.gguf" m.gguf "$sum"
grep -q "^requant: hard.gguf: is the same file as input" err || fail "hard link: $(cat err)"
# stdin from another file is fine, and so is stdin from a pipe
requant -q -f - - Q8_0 < m.gguf > q.gguf
cat m.gguf | requant -q -f - - Q8_0 | cmp - q.gguf || fail "pipe differs"
# the imatrix is an input too
"$BUILD/fixtures/tensor_hashes" m.gguf | python3 "$SRC/tests/cli/requant/mkimatrix.py" dat im.dat
isum=$(md5sum < im.dat)
rc=0
requant -f --imatrix im.dat m.gguf im.dat Q4_K_M 2>err || rc=$?
same "requant OUTPUT = imatrix" im.dat "$isum"

# hf2gguf: every file of the checkpoint it reads
"$MH" --arch llama --dtype f32 --layers 2 --embd 64 --ff 128 --heads 2 --kv-heads 1 \
    --vocab 300 --ctx 64 --shards 2 hf >/dev/null
printf '{"bos_token": "<s>"}\n' > hf/special_tokens_map.json
[ -f hf/model.safetensors.index.json ] || fail "make_hf --shards 2 wrote no index"
for f in config.json tokenizer.model tokenizer_config.json special_tokens_map.json \
    model.safetensors.index.json; do
    [ -f "hf/$f" ] || continue
    s=$(md5sum < "hf/$f")
    rc=0
    hf2gguf -f hf -o "hf/$f" 2>err || rc=$?
    same "hf2gguf -o hf/$f" "hf/$f" "$s"
    grep -q "^hf2gguf: hf/$f: is the same file as input" err || fail "-o hf/$f: $(cat err)"
done
hf2gguf -q --outtype f16 hf -o f16.gguf
"$BUILD/fixtures/tensor_hashes" f16.gguf | python3 "$SRC/tests/cli/requant/mkimatrix.py" dat hi.dat
hsum=$(md5sum < hi.dat)
rc=0
hf2gguf -f --imatrix hi.dat --outtype Q4_K_M hf -o hi.dat 2>err || rc=$?
same "hf2gguf -o IMATRIX" hi.dat "$hsum"
# an existing output is named
echo keep > o.gguf
rc=0
hf2gguf hf -o o.gguf 2>err || rc=$?
[ "$rc" = 2 ] || fail "hf2gguf existing output: exit $rc"
grep -q "^hf2gguf: o.gguf: already exists" err || fail "existing output: message: $(cat err)"
[ "$(cat o.gguf)" = keep ] || fail "hf2gguf overwrote without -f"
