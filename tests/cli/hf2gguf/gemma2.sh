# gemma2 from make_hf (f16 weights, untied): the lm_head is dropped, norms are
# F32, the hparams come from Gemma2Model's own block, add_space_prefix last.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch gemma2 --dtype f16 --layers 3 m
hf2gguf -q --outtype q8_0 m -o out.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" out.gguf meta.tsv tensors.tsv
[ "$(wc -l < tensors.tsv)" -eq 35 ] || fail "expected 35 tensors"
grep -q '^output.weight' tensors.tsv && fail "lm_head.weight was not dropped"
[ "$(grep -c '_norm.weight	F32	64	' tensors.tsv)" -eq 13 ] || fail "norms not F32"
grep -q '^blk.2.ffn_down.weight	Q8_0	160x64	' tensors.tsv
grep -q '^token_embd.weight	Q8_0	64x512	' tensors.tsv
sed -n 5p meta.tsv | grep -qxF 'gemma2.context_length	UINT32	2048'
grep -qxF 'gemma2.attention.sliding_window	UINT32	4096' meta.tsv
grep -q 'rope.freq_base' meta.tsv && fail "gemma2 writes no rope.freq_base"
tail -n 2 meta.tsv | grep -qxF 'tokenizer.ggml.add_space_prefix	BOOL	False'
hf2gguf --list-archs | grep -qx 'gemma2	Gemma2ForCausalLM'
echo ok
