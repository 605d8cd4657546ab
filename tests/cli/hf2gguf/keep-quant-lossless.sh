# --keep-quant is lossless where it keeps every block: symmetric GPTQ (2,
# 4, 8 bits, v1 and v2 zeros), AWQ with zeros 8 and pack-quantized (4, 8
# bits) become Q4_0 / Q8_0 weights that dequantize to exactly the f32 the
# default path writes (ec562eb's dequantization) for every weight, with no
# block re-rounded; the float tensors are those of the default path.
. "$SRC/tests/cli/lib.sh"
. "$SRC/tests/cli/hf2gguf/keep-quant.inc"
for q in "gptq --gptq-group 32:Q4_0" "gptq --gptq-v2:Q4_0" "gptq --gptq-bits 2 --gptq-group 64:Q4_0" \
    "gptq --gptq-bits 8:Q8_0" "awq --gptq-group 64 --awq-sym:Q4_0" "pack --gptq-group 32:Q4_0" \
    "pack --gptq-group 32 --gptq-bits 8:Q8_0"; do
    rm -rf m && mkdir m
    "$BUILD/fixtures/make_hf" --dtype f16 --quant ${q%:*} m/m
    hf2gguf -q --outtype f32 m/m -o f32.gguf
    hf2gguf --keep-quant --outtype f32 m/m -o kq.gguf 2> log
    grep -q "keep-quant: 14 weights, [1-9][0-9]* blocks exact, 0 re-rounded" log ||
        fail "$q: $(cat log)"
    kq_zero_error f32.gguf kq.gguf > types
    printf 'F32 7\n%s 14\n' "${q#*:}" | diff - types >&2 || fail "$q: types"
    rm -f f32.gguf kq.gguf
done
echo ok
