# smollm3 from a make_hf checkpoint (4 layers, llama3 rope scaling, NoPE
# keys): LlamaModel's conversion under the smollm3 name. rope_freqs comes
# first, the permuted Q/K and the rest in sorted-name order, and no key for
# no_rope_layers / no_rope_layer_interval / layer_types.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch smollm3 --layers 4 --rope-llama3 --seed 3 m
hf2gguf -q --outtype q8_0 m -o q.gguf
python3 "$SRC/tests/cli/hf2gguf/gguf_tables.py" q.gguf meta.tsv tensors.tsv
grep -qxF 'general.architecture	STRING	"smollm3"' meta.tsv
grep -qxF 'smollm3.rope.freq_base	FLOAT32	5000000.0' meta.tsv
grep -qxF 'smollm3.rope.dimension_count	UINT32	16' meta.tsv
grep -qxF 'tokenizer.ggml.model	STRING	"llama"' meta.tsv
grep -q 'no_rope\|layer_types' meta.tsv && fail "NoPE keys must not be written"
[ "$(grep -c '' tensors.tsv)" = 40 ] || fail "expected 40 tensors"
head -n1 tensors.tsv | grep -q '^rope_freqs.weight	F32	8	' || fail "rope_freqs first"
[ "$(grep -c '	Q8_0	' tensors.tsv)" = 30 ] || fail "expected 30 Q8_0 tensors"
[ "$(grep -c '	F32	' tensors.tsv)" = 10 ] || fail "expected 10 F32 tensors"
# the same checkpoint as llama converts to the same tensors (LlamaModel)
sed -i 's/SmolLM3ForCausalLM/LlamaForCausalLM/' m/config.json
hf2gguf -q --outtype q8_0 m -o l.gguf
python3 "$SRC/tests/cli/hf2gguf/gguf_tables.py" l.gguf lmeta.tsv ltensors.tsv
cmp tensors.tsv ltensors.tsv
echo ok
