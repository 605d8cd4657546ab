# Norm weights in an adapter (mergekit-extract-lora writes them) convert as
# ec562eb's convert_lora_to_gguf.py converts them: under the family's name,
# F32, before every lora pair, in the file's order, gemma's with its + 1.
# Each output file has the SHA-256 of the script's (lora-norms.stdout.exact),
# made as lora-golden.sh's header says, by running this file with LORA_REF set.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch llama llama
"$BUILD/fixtures/make_hf" --arch gemma2 gemma2
for a in llama gemma2; do
    python3 "$SRC/tests/cli/hf2gguf/lora_make.py" "$a" "$a-norms" --rank 4 \
        --extra base_model.model.model.layers.1.input_layernorm.weight:64 \
        --extra base_model.model.model.norm.weight:64 \
        --extra base_model.model.model.layers.0.post_attention_layernorm.weight:64
    for t in f32 q8_0; do
        if [ -n "${LORA_REF:-}" ]; then
            "$LORA_REF" "$a" "$a-norms" "$t" "$a.$t.gguf" > /dev/null 2>&1
        else
            hf2gguf -q --lora "$a-norms" --base "$a" --outtype "$t" -o "$a.$t.gguf"
        fi
        echo "$a $t $(sha256sum < "$a.$t.gguf" | cut -c1-64)"
    done
done
[ -n "${LORA_REF:-}" ] && exit 0
# a norm of the wrong size: exit 2, nothing written
python3 "$SRC/tests/cli/hf2gguf/lora_make.py" llama bad --extra base_model.model.model.norm.weight:65
s=0
hf2gguf --lora bad --base llama -o out.gguf 2> err || s=$?
[ "$s" = 2 ] || fail "wrong norm size: exit $s"
grep -q "'base_model.model.model.norm.weight' has 65 values but the base's output_norm.weight has 64" err ||
    fail "wrong norm size: $(cat err)"
assert_no_file out.gguf
