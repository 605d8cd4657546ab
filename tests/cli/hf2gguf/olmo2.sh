# olmo2 from make_hf (synthetic Qwen-style BPE, pre forced): no input norm,
# q/k norms over all heads (64 and 32 wide), post-attention and post-MLP
# norms F32, TextModel's keys only (no rope.dimension_count; no key_length:
# config.json has no head_dim, and transformers' Olmo2Config adds none).
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch olmo2 --dtype f16 --layers 3 m
hf2gguf -q --pre qwen2 --outtype bf16 m -o out.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" out.gguf meta.tsv tensors.tsv
[ "$(wc -l < tensors.tsv)" -eq 36 ] || fail "expected 36 tensors"
grep -q 'attn_norm' tensors.tsv && fail "olmo2 has no attention input norm"
grep -q '^blk.2.attn_q_norm.weight	F32	64	' tensors.tsv
grep -q '^blk.2.attn_k_norm.weight	F32	32	' tensors.tsv
grep -q '^blk.0.post_attention_norm.weight	F32	64	' tensors.tsv
grep -q '^blk.1.post_ffw_norm.weight	F32	64	' tensors.tsv
grep -q '^blk.1.attn_q.weight	BF16	64x64	' tensors.tsv
grep -A1 '^olmo2.attention.layer_norm_rms_epsilon' meta.tsv | grep -q '^general.file_type	'
grep -q 'dimension_count\|key_length\|sliding' meta.tsv && fail "unexpected key"
grep -qxF 'tokenizer.ggml.model	STRING	"gpt2"' meta.tsv
hf2gguf --list-archs | grep -qx 'olmo2	Olmo2ForCausalLM,Olmo3ForCausalLM'
echo ok
