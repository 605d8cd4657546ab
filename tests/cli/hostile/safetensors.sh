# Hostile safetensors: a 4 GB (and a 2^63) header length, overlapping
# tensors, data past the end, a shape whose element count overflows, a size
# that does not match the shape, a broken JSON header, a real file cut at
# every part (length, header, data). Refused by
# gguf-inspect (the file) and hf2gguf (a checkpoint holding it).
. "$SRC/tests/cli/hostile/_hostile.inc"
"$BUILD/fixtures/make_hf" --arch llama --dtype f32 --layers 1 --embd 16 --ff 32 --heads 2 \
    --kv-heads 1 --vocab 300 --ctx 64 m >/dev/null
while IFS='|' read -r kind pat; do
    $MK "$kind" "$kind.safetensors"
    refused "$pat" out.txt gguf-inspect "$kind.safetensors"
    cp "$kind.safetensors" m/model.safetensors
    refused "$pat" out.gguf hf2gguf m -o out.gguf
done <<'LIST'
st-4g-header|header length 4294967296
st-huge-header|header length 9223372036854775813
st-overlap|overlap
st-past-end|past end of file
st-huge-shape|overflow
st-size-mismatch|
st-not-json|
LIST
# a real checkpoint file cut inside the length, the header and the data
"$BUILD/fixtures/make_hf" --arch llama --dtype f32 --layers 1 --embd 16 --ff 32 --heads 2 \
    --kv-heads 1 --vocab 300 --ctx 64 good >/dev/null
size=$(stat -c %s good/model.safetensors)
hlen=$(od -An -tu8 -N8 good/model.safetensors | tr -d ' ')
for n in 0 1 7 8 9 $((hlen / 2)) $((hlen + 7)) $((hlen + 8)) $((hlen + 9)) $((size - 1)); do
    head -c "$n" good/model.safetensors > cut.safetensors
    refused "cut.safetensors: " out.txt gguf-inspect cut.safetensors
    cp cut.safetensors m/model.safetensors
    refused "model.safetensors: " out.gguf hf2gguf m -o out.gguf
done
