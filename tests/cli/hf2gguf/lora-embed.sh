# PEFT embedding LoRA (lora_embedding_A [r, vocab], lora_embedding_B
# [hidden, r]) converts as ec562eb's convert_lora_to_gguf.py converts it:
# token_embd.weight.lora_a is A transposed ([vocab, r] in PyTorch order),
# lora_b is B; gemma3's cut of token_embd to the vocabulary leaves them as
# they are. Each output file has the SHA-256 of the script's
# (lora-embed.stdout.exact), made as lora-golden.sh's header says, by
# running this file with LORA_REF set (gemma3's base has a tokenizer.json
# only: the script reads its vocabulary, and sentencepiece is not installed).
. "$SRC/tests/cli/lib.sh"
mk="$SRC/tests/cli/hf2gguf/lora_make.py"
"$BUILD/fixtures/make_hf" --arch llama llama
"$BUILD/fixtures/make_hf" --arch gemma3 --bpe gemma3
python3 "$mk" llama llama-embed-r4 --embed 1 --rank 4
python3 "$mk" gemma3 gemma3-embed-r16-all --embed 1 --rank 16 --targets all --dtype f16
for a in llama-embed-r4 gemma3-embed-r16-all; do
    base=${a%%-*}
    for t in f32 f16 q8_0; do
        if [ -n "${LORA_REF:-}" ]; then
            "$LORA_REF" "$base" "$a" "$t" "$a.$t.gguf" > /dev/null 2>&1
        else
            hf2gguf -q --lora "$a" --base "$base" --outtype "$t" -o "$a.$t.gguf"
        fi
        echo "$a $t $(sha256sum < "$a.$t.gguf" | cut -c1-64)"
    done
done
[ -n "${LORA_REF:-}" ] && exit 0
# an embedding adapter of the wrong vocabulary: exit 2, nothing written
"$BUILD/fixtures/make_hf" --arch llama --vocab 600 llama600
python3 "$mk" llama600 bad --embed 1
s=0
hf2gguf --lora bad --base llama -o out.gguf 2> err || s=$?
[ "$s" = 2 ] || fail "wrong vocabulary: exit $s"
grep -q "lora_embedding_A x lora_embedding_B is 600x64 but the base embedding token_embd.weight is 512x64" err ||
    fail "wrong vocabulary: $(cat err)"
assert_no_file out.gguf
