# hf2gguf: every outtype, a requant preset in one pass, split output, a
# pytorch .bin checkpoint, vocab-only, and the three architectures. make_hf's
# toy BPE tokenizers have no known check hash: --pre names their pre-tokenizer.
. "$SRC/tests/cli/identity/_identity.inc"
"$BUILD/fixtures/make_hf" --arch llama --seed 7 llama
"$BUILD/fixtures/make_hf" --arch qwen2 --seed 8 qwen2
"$BUILD/fixtures/make_hf" --arch qwen3 --seed 9 --tied qwen3
"$BUILD/fixtures/make_hf" --arch llama --seed 10 --bin --rope-llama3 bin
"$BUILD/fixtures/make_hf" --arch mistral --seed 11 --dtype f16 --shards 2 mistral
for m in llama qwen2 qwen3 bin mistral; do
    for t in f32 f16 bf16 q8_0 auto; do
        hf2gguf -q --pre qwen2 --outtype $t $m -o $m.$t.gguf
    done
done
hf2gguf -q --outtype Q4_K_M llama -o llama.Q4_K_M.gguf
hf2gguf -q --pre qwen2 --vocab-only qwen3 -o qwen3.vocab.gguf
hf2gguf -q --split-max-tensors 7 llama -o split.gguf
hf2gguf --pre qwen2 --dry-run --json --outtype q8_0 qwen2 > qwen2.plan.json
digest *.gguf qwen2.plan.json
