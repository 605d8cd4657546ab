# Outputs never replace an existing file without -f, and never the input:
# not by the same path, another spelling of it, a symlink or a hard link
# (device + inode), not even with -f. The input stays byte-identical.
. "$SRC/tests/cli/faults/_faults.inc"
small_model in.gguf
sum=$(md5sum < in.gguf)
echo keep > out.gguf
rc=0
requant in.gguf out.gguf Q8_0 2>err || rc=$?
[ "$rc" = 2 ] || fail "existing output: exit $rc"
grep -q "exists" err || fail "existing output: message: $(cat err)"
[ "$(cat out.gguf)" = keep ] || fail "existing output overwritten without -f"
requant -q -f in.gguf out.gguf Q8_0 || fail "-f did not overwrite"
mkdir sub
ln in.gguf hard.gguf
ln -s in.gguf sym.gguf
for target in in.gguf ./in.gguf sub/../in.gguf "$PWD/in.gguf" hard.gguf sym.gguf; do
    rc=0
    requant -f in.gguf "$target" Q8_0 2>err || rc=$?
    [ "$rc" = 2 ] || fail "output $target over the input: exit $rc"
    no_sanitizer err
    [ "$(md5sum < in.gguf)" = "$sum" ] || fail "input modified via $target"
done
assert_no_file in.gguf.tmp.* hard.gguf.tmp.*
# hf2gguf: the output may not be one of the checkpoint's files
"$MH" --arch llama --dtype f32 --layers 1 --embd 64 --ff 128 --heads 2 --kv-heads 1 \
    --vocab 300 --ctx 64 hf >/dev/null
ssum=$(md5sum < hf/model.safetensors)
ln hf/model.safetensors st-hard
for target in hf/model.safetensors st-hard; do
    rc=0
    hf2gguf -f hf -o "$target" 2>err || rc=$?
    [ "$rc" = 2 ] || fail "hf2gguf -o $target: exit $rc"
    no_sanitizer err
    [ "$(md5sum < hf/model.safetensors)" = "$ssum" ] || fail "checkpoint modified via $target"
done
echo keep > o.gguf
rc=0
hf2gguf hf -o o.gguf 2>err || rc=$?
[ "$rc" = 2 ] || fail "hf2gguf existing output: exit $rc"
[ "$(cat o.gguf)" = keep ] || fail "hf2gguf overwrote without -f"
