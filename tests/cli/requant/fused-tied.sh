# Q4_K_M on converted phi3 (fused attn_qkv, fused gate+up in ffn_up) and
# gemma3 (tied output) models: the types llama-quantize ec562eb's rules
# give, derived by hand from llama_tensor_get_type_impl (no llama-quantize
# run): attn_qkv is attn_v-like (tensor_get_category), so Q4_K_M gives it
# Q6_K where use_more_bits(i, n_attention_wv = 4) holds (i < 0, i >= 3 or
# i % 3 == 2: i = 2, 3) and Q4_K elsewhere (c392e50 gave Q5_K to all);
# ffn_down the same by layer; ffn_up and attn_output keep the preset's Q4_K;
# output Q6_K, token_embd Q4_K. Without output.weight token_embd is the
# output (has_tied_embeddings): Q6_K, or --output-tensor-type's type.
. "$SRC/tests/cli/requant/_common.inc"
"$BUILD/fixtures/make_hf" --arch phi3 --layers 4 --embd 256 --ff 512 --heads 4 --kv-heads 4 p
hf2gguf -q --outtype f16 p -o p.gguf
requant -q p.gguf p4.gguf Q4_K_M
"$HASHES" p4.gguf > p.tsv
expect() { # FILE TENSOR TYPE
    grep -q "^$2	$3	" "$1" || fail "$2: want $3, got $(awk -v t="$2" '$1 == t { print $2 }' "$1")"
}
for l in 0 1; do expect p.tsv blk.$l.attn_qkv.weight Q4_K; done
for l in 2 3; do expect p.tsv blk.$l.attn_qkv.weight Q6_K; done
for l in 0 1 2 3; do expect p.tsv blk.$l.ffn_up.weight Q4_K; done
for l in 0 1 2 3; do expect p.tsv blk.$l.attn_output.weight Q4_K; done
expect p.tsv blk.1.ffn_down.weight Q4_K
expect p.tsv blk.2.ffn_down.weight Q6_K
expect p.tsv output.weight Q6_K
expect p.tsv token_embd.weight Q4_K
"$BUILD/fixtures/make_hf" --arch gemma3 --tied --layers 4 --embd 256 --ff 512 --heads 4 \
    --kv-heads 2 --head-dim 64 g
hf2gguf -q --outtype f16 g -o g.gguf
requant -q g.gguf g4.gguf Q4_K_M
"$HASHES" g4.gguf > g.tsv
grep -q '^output\.weight' g.tsv && fail "gemma3 --tied has output.weight"
expect g.tsv token_embd.weight Q6_K
expect g.tsv blk.0.attn_v.weight Q4_K
expect g.tsv blk.2.attn_v.weight Q6_K
requant -q --output-tensor-type q5_0 g.gguf g5.gguf Q4_K_M
"$HASHES" g5.gguf > g5.tsv
expect g5.tsv token_embd.weight Q5_0
