# qwen3 (q/k norms, head_dim keys), sharded f32 checkpoint with an index;
# --outtype auto picks bf16 for a non-f16 first tensor (c392e50 rule).
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch qwen3 --dtype f32 --shards 3 m
"$BUILD/fixtures/make_hf" --arch qwen3 --dtype f32 one
hf2gguf -q --outtype auto --model-name Q3 m -o sharded.gguf
hf2gguf -q --outtype auto --model-name Q3 one -o single.gguf
cmp sharded.gguf single.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" single.gguf meta.tsv tensors.tsv
grep -qxF 'general.name	STRING	"Q3"' meta.tsv
grep -qxF 'general.file_type	UINT32	32' meta.tsv
grep -qxF 'qwen3.attention.key_length	UINT32	16' meta.tsv
grep -q '^blk.1.attn_q_norm.weight	F32	16	' tensors.tsv
grep -q '^blk.1.attn_k_norm.weight	F32	16	' tensors.tsv
grep -q '^output.weight	BF16	64x512	' tensors.tsv
echo ok
