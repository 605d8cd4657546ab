# Hostile safetensors: a 4 GB (and a 2^63) header length, overlapping
# tensors, data past the end, a shape whose element count overflows, a size
# that does not match the shape, a broken JSON header. Refused by
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
