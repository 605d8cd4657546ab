# Per-tensor FP8, 2-, 4- and 8-bit GPTQ, AWQ GEMM and compressed-tensors
# pack-quantized convert to the tensors of the float checkpoint of the same
# shape (dequantized packed weights come last, as upstream puts them).
. "$SRC/tests/cli/lib.sh"
mkdir f
"$BUILD/fixtures/make_hf" --dtype f16 f/m
hf2gguf -q f/m -o f.gguf
python3 "$SRC/tests/cli/hf2gguf/gguf_tables.py" f.gguf f.meta f.tensors
cut -f1-3 f.tensors | sort > want
for q in "fp8 --fp8-block tensor" "gptq --gptq-bits 2" "gptq --gptq-bits 4" \
    "gptq --gptq-bits 8 --gptq-asym" "awq --gptq-group 32" "pack --gptq-group 32" \
    "pack --gptq-group 32 --gptq-bits 8 --gptq-asym"; do
    rm -rf q q.gguf && mkdir q
    "$BUILD/fixtures/make_hf" --dtype f16 --quant $q q/m
    hf2gguf -q q/m -o q.gguf
    python3 "$SRC/tests/cli/hf2gguf/gguf_tables.py" q.gguf q.meta q.tensors
    cut -f1-3 q.tensors | sort | diff want - >&2 || fail "$q: tensors differ"
    diff f.meta q.meta >&2 || fail "$q: metadata differs"
done
# the last GPTQ weight by base name (model.layers.1.self_attn.v_proj)
tail -n 1 q.tensors | cut -f1 | grep -q '^blk\.1\.attn_v\.weight$' || fail "order"
