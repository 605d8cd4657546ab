# qwen2 (q/k/v biases, tied embeddings -> no output tensor, BPE vocab with the
# qwen2 pre-tokenizer, no Q/K permutation) from an f16 checkpoint.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch qwen2 --dtype f16 --tied m
hf2gguf -q --pre qwen2 --outtype q8_0 m -o q.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" q.gguf meta.tsv tensors.tsv
grep -qxF 'general.architecture	STRING	"qwen2"' meta.tsv
grep -qxF 'general.file_type	UINT32	7' meta.tsv
grep -qxF 'tokenizer.ggml.model	STRING	"gpt2"' meta.tsv
grep -qxF 'tokenizer.ggml.pre	STRING	"qwen2"' meta.tsv
grep -q '^tokenizer.ggml.merges	\[5 x STRING\]' meta.tsv
grep -qxF 'tokenizer.ggml.eos_token_id	UINT32	263' meta.tsv
grep -q '^blk.1.attn_k.bias	F32	32	' tensors.tsv
grep -q '^blk.1.attn_q.weight	Q8_0	64x64	' tensors.tsv
grep -q '^output.weight' tensors.tsv && fail "tied model must have no output.weight"
[ "$(grep -c '' tensors.tsv)" = 26 ] || fail "expected 26 tensors"
# the unpermuted Q rows: f16 output of q_proj equals the source bytes
hf2gguf -q --pre qwen2 --outtype f16 m -o f.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" f.gguf meta16.tsv tensors16.tsv
grep -q '^blk.0.attn_q.weight	F16	64x64	' tensors16.tsv
echo ok
