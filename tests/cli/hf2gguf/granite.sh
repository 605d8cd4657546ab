# granite from a make_hf checkpoint: LlamaModel's tensors and keys plus the
# four multipliers after rope.dimension_count; head_dim in config.json is
# ignored (no key_length/value_length), a zero multiplier gives no key
# (upstream writes only truthy values), llama3 rope scaling is refused
# (granite has no rope_freqs tensor).
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch granite --head-dim 16 --seed 4 m
hf2gguf -q --outtype f16 m -o f.gguf
python3 "$SRC/tests/cli/hf2gguf/gguf_tables.py" f.gguf meta.tsv tensors.tsv
grep -qxF 'general.architecture	STRING	"granite"' meta.tsv
grep -A6 -xF 'general.file_type	UINT32	1' meta.tsv | cut -f1 > tail.txt
printf '%s\n' general.file_type granite.vocab_size granite.rope.dimension_count \
    granite.attention.scale granite.embedding_scale granite.residual_scale granite.logit_scale |
    cmp - tail.txt
grep -qxF 'granite.attention.scale	FLOAT32	0.0625' meta.tsv
grep -q 'key_length\|value_length' meta.tsv && fail "head_dim must be ignored"
[ "$(grep -c '' tensors.tsv)" = 21 ] || fail "expected 21 tensors"
[ "$(grep -c '	F16	' tensors.tsv)" = 16 ] || fail "expected 16 F16 tensors"
grep -q '^rope_freqs' tensors.tsv && fail "no rope_freqs for granite"
sed -i 's/"embedding_multiplier": 12.0/"embedding_multiplier": 0/' m/config.json
hf2gguf -q --outtype f16 m -o z.gguf
python3 "$SRC/tests/cli/hf2gguf/gguf_tables.py" z.gguf zmeta.tsv ztensors.tsv
grep -q '^granite.embedding_scale' zmeta.tsv && fail "a zero multiplier gives no key"
cmp tensors.tsv ztensors.tsv
"$BUILD/fixtures/make_hf" --arch granite --rope-llama3 r
if hf2gguf -q r -o r.gguf 2>err.txt; then fail "llama3 rope accepted"; fi
grep -q "'rope_scaling' type llama3" err.txt
echo ok
