# glm4 from make_hf (synthetic Qwen-style BPE with <|user|>, pre forced):
# q/k/v biases F32, gate_up_proj kept fused as ffn_up (2 x 160 rows), four
# norms per block, rope.dimension_count = head_dim * 0.5 after
# general.file_type, and eot/unk/bos set from the added tokens while eos
# keeps tokenizer_config's <|im_end|> (Glm4Model.set_vocab).
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch glm4 --layers 3 m
hf2gguf -q --pre qwen2 --outtype f16 m -o out.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" out.gguf meta.tsv tensors.tsv
[ "$(wc -l < tensors.tsv)" -eq 42 ] || fail "expected 42 tensors"
grep -q '^blk.2.ffn_up.weight	F16	64x320	' tensors.tsv
grep -q 'ffn_gate' tensors.tsv && fail "gate_up_proj split"
grep -q '^blk.0.attn_q.bias	F32	64	' tensors.tsv
grep -q '^blk.0.attn_k.bias	F32	32	' tensors.tsv
for n in attn_norm ffn_norm post_attention_norm post_ffw_norm; do
    grep -q "^blk.1.$n.weight	F32	64	" tensors.tsv || fail "no $n"
done
grep -A1 '^general.file_type' meta.tsv | tail -n1 | grep -qxF 'glm4.rope.dimension_count	UINT32	8'
grep -qxF 'glm4.attention.key_length	UINT32	16' meta.tsv
# eos from tokenizer_config (<|im_end|> 263), then the added-token ones
grep '_token_id' meta.tsv | cut -f1,3 > ids.txt
printf 'tokenizer.ggml.eos_token_id\t263\ntokenizer.ggml.padding_token_id\t261\ntokenizer.ggml.eot_token_id\t264\ntokenizer.ggml.unknown_token_id\t261\ntokenizer.ggml.bos_token_id\t261\n' > want.txt
diff want.txt ids.txt >&2 || fail "special token ids"
hf2gguf --list-archs | grep -qx 'glm4	Glm4ForCausalLM'
echo ok
