# phi3 from make_hf: fused attn_qkv / ffn_up kept fused, LongRoPE factor
# tensors first (F32 in every outtype), attn_factor right after
# general.architecture; a 4k-style config (no rope_scaling, sliding_window
# null) has neither and writes sliding_window 0; tied embeddings have no
# output.weight; --vocab-only has no attn_factor; tokenizer_class
# GPT2Tokenizer (Phi-4) takes the BPE path.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch phi3 --layers 3 m
hf2gguf -q --outtype q8_0 m -o q.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" q.gguf meta.tsv tensors.tsv
[ "$(wc -l < tensors.tsv)" = 23 ] || fail "expected 23 tensors"
[ "$(sed -n 2p meta.tsv | cut -f1)" = phi3.rope.scaling.attn_factor ] || fail "attn_factor position"
grep -q '^rope_factors_long.weight	F32	8	' tensors.tsv
grep -q '^rope_factors_short.weight	F32	8	' tensors.tsv
grep -q '^blk.2.attn_qkv.weight	Q8_0	64x128	' tensors.tsv
grep -q '^blk.2.ffn_up.weight	Q8_0	64x320	' tensors.tsv
grep -q '^blk.2.ffn_down.weight	Q8_0	160x64	' tensors.tsv
grep -q '^blk.2.ffn_norm.weight	F32	64	' tensors.tsv
grep -qxF 'phi3.rope.dimension_count	UINT32	16' meta.tsv
grep -qxF 'phi3.rope.scaling.original_context_length	UINT32	2048' meta.tsv
grep -qxF 'phi3.attention.sliding_window	UINT32	65536' meta.tsv
! grep -q 'ffn_gate\|phi3.vocab_size\|rope.scaling.type' meta.tsv tensors.tsv || fail "unexpected key"

"$BUILD/fixtures/make_hf" --arch phi3 --tied --seed 2 t
node -e 'const fs=require("fs"),f="t/config.json",c=JSON.parse(fs.readFileSync(f));
delete c.rope_scaling; c.sliding_window=null; c.max_position_embeddings=4096;
fs.writeFileSync(f,JSON.stringify(c))'
hf2gguf -q t -o t.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" t.gguf tmeta.tsv ttensors.tsv
[ "$(wc -l < ttensors.tsv)" = 14 ] || fail "expected 14 tensors"
! grep -q 'rope_factors\|^output.weight' ttensors.tsv || fail "unexpected tensor"
! grep -q attn_factor tmeta.tsv || fail "attn_factor without rope_scaling"
grep -qxF 'phi3.attention.sliding_window	UINT32	0' tmeta.tsv

hf2gguf -q --vocab-only m -o v.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" v.gguf vmeta.tsv vtensors.tsv
! grep -q attn_factor vmeta.tsv || fail "attn_factor with --vocab-only"
grep -qxF 'phi3.rope.freq_base	FLOAT32	10000.0' vmeta.tsv

"$BUILD/fixtures/make_hf" --arch phi3 --bpe --tied p4
node -e 'const fs=require("fs"),f="p4/tokenizer_config.json",c=JSON.parse(fs.readFileSync(f));
c.tokenizer_class="GPT2Tokenizer"; fs.writeFileSync(f,JSON.stringify(c))'
hf2gguf -q --pre llama-bpe p4 -o p4.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" p4.gguf p4meta.tsv p4tensors.tsv
grep -qxF 'tokenizer.ggml.model	STRING	"gpt2"' p4meta.tsv
grep -q '^tokenizer.ggml.merges	' p4meta.tsv
echo ok
