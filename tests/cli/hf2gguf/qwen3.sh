# qwen3 (q/k norms, head_dim keys), sharded f32 checkpoint with an index;
# --outtype auto gives f16 for an all-f32 checkpoint (ec562eb: the first
# 2-D bf16 or f16 tensor decides, else f16; c392e50 gave bf16).
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch qwen3 --dtype f32 --shards 3 m
"$BUILD/fixtures/make_hf" --arch qwen3 --dtype f32 one
hf2gguf -q --pre qwen2 --outtype auto --model-name Q3 m -o sharded.gguf
hf2gguf -q --pre qwen2 --outtype auto --model-name Q3 one -o single.gguf
# same keys and tensors; the order is per part (parts in sorted file order,
# names sorted within each part: ec562eb ModelBase.index_tensors), so the
# sharded file lists part 1's tensors (model.embed_tokens, layer 0) first
tables() { python3 "$SRC/tests/cli/hf2gguf/gguf_tables.py" "$1.gguf" "$1.meta" "$1.tensors"; }
tables sharded
tables single
cmp sharded.meta single.meta
cmp <(sort sharded.tensors) <(sort single.tensors)
head -n1 sharded.tensors | grep -q '^token_embd.weight	' || fail "sharded: part order"
head -n1 single.tensors | grep -q '^output.weight	' || fail "single: sorted order"
cp single.meta meta.tsv
cp single.tensors tensors.tsv
grep -qxF 'general.name	STRING	"Q3"' meta.tsv
grep -qxF 'general.file_type	UINT32	1' meta.tsv
grep -qxF 'qwen3.attention.key_length	UINT32	16' meta.tsv
grep -q '^blk.1.attn_q_norm.weight	F32	16	' tensors.tsv
grep -q '^blk.1.attn_k_norm.weight	F32	16	' tensors.tsv
grep -q '^output.weight	F16	64x512	' tensors.tsv
echo ok
