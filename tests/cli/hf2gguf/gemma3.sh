# gemma3 from make_hf (f16 weights, untied): q/k norms +1 and F32, lm_head
# kept as output.weight, Gemma3Model's values after the shared block
# (sliding window appended, head_count_kv replaced in place).
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch gemma3 --dtype f16 --layers 3 m
hf2gguf -q --outtype bf16 m -o out.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" out.gguf meta.tsv tensors.tsv
[ "$(wc -l < tensors.tsv)" -eq 42 ] || fail "expected 42 tensors"
grep -q '^output.weight	BF16	64x512	' tensors.tsv
[ "$(grep -c '_norm.weight	F32	16	' tensors.tsv)" -eq 6 ] || fail "q/k norms not F32"
grep -q '^blk.2.ffn_down.weight	BF16	160x64	' tensors.tsv
sed -n 10p meta.tsv | grep -qxF 'gemma3.attention.head_count_kv	UINT32	2'
grep -qxF 'gemma3.rope.freq_base_swa	FLOAT32	10000.0' meta.tsv
grep -A1 '^general.file_type' meta.tsv | grep -qxF 'gemma3.attention.sliding_window	UINT32	512'
grep -q 'softcapping' meta.tsv && fail "null soft-capping written"
tail -n 2 meta.tsv | grep -qxF 'tokenizer.ggml.add_space_prefix	BOOL	False'
hf2gguf --list-archs | grep -qx 'gemma3	Gemma3ForCausalLM,Gemma3ForConditionalGeneration'
echo ok
