# FIFOs whose names come from a file, not from the user: a sibling shard of
# a GGUF split set, a safetensors index or shard in a checkpoint
# directory, a file named by a manifest line. Each is refused (exit 2, "not
# a regular file") instead of blocking forever on the open; timeout turns
# a hang into a failure. A FIFO the user names directly is still read.
. "$SRC/tests/cli/hostile/_hostile.inc"
T="timeout 20"
"$BUILD/fixtures/make_gguf" --layers 1 --embd 64 --ff 64 --heads 2 --vocab 64 --split 2 s.gguf
rm s-00002-of-00002.gguf
mkfifo s-00002-of-00002.gguf
refused "s-00002-of-00002.gguf: not a regular file" out.txt $T gguf-inspect s-00001-of-00002.gguf
refused "s-00002-of-00002.gguf: not a regular file" out.gguf $T requant s-00001-of-00002.gguf \
    out.gguf Q8_0

"$BUILD/fixtures/make_hf" --arch llama --dtype f32 --layers 1 --embd 16 --ff 32 --heads 2 \
    --kv-heads 1 --vocab 300 --ctx 64 --shards 2 m >/dev/null
for name in model.safetensors.index.json model-00002-of-00002.safetensors; do
    rm -rf mm
    cp -r m mm
    rm "mm/$name"
    mkfifo "mm/$name"
    refused "mm/$name: not a regular file" out.gguf $T hf2gguf mm -o out.gguf
    refused "mm/$name: not a regular file" out.txt $T gguf-inspect mm
done

# manifest lines (a tensor-digest line and a sha256sum line) naming a FIFO
"$BUILD/fixtures/make_gguf" --layers 1 --embd 64 --ff 64 --heads 2 --vocab 64 one.gguf
gguf-verify hash --no-layer one.gguf | sed 's/one\.gguf/p.gguf/' > m.manifest
printf '%064d  p.gguf\n' 0 > m.sha256
mkfifo p.gguf
for man in m.manifest m.sha256; do
    refused "p.gguf: not a regular file" out.txt $T gguf-verify check "$man"
    grep -qx "p.gguf: FAILED open or read" cmd.out || fail "$man: result line: $(cat cmd.out)"
done

# named directly by the user, a FIFO is an input like a pipe
$T cat one.gguf > p.gguf &
$T gguf-inspect p.gguf > direct.txt || fail "a FIFO named by the user is refused"
wait
grep -q "tensors" direct.txt || fail "no summary: $(head -c 300 direct.txt)"
