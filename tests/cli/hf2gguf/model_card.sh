# README.md front matter feeds general.* as gguf-py's Metadata does
# (expected values produced by metadata.py at c392e50 with PyYAML).
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" card
cat > card/README.md <<'MD'
---
license: llama3.1
language:
- en
- de
pipeline_tag: text-generation
tags:
- facebook
- meta
- 'llama-3'
base_model: meta-llama/Meta-Llama-3.1-8B
datasets: [foo/bar-v2, https://huggingface.co/datasets/x]
model-index:
  - name: thing
    results: []
---
# Title
MD
hf2gguf -q card -o card.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" card.gguf card.meta card.tensors
sed -n '3,19p' card.meta > got
cat > want <<'TSV'
general.name	STRING	"Card"
general.size_label	STRING	"152K"
general.license	STRING	"llama3.1"
general.base_model.count	UINT32	1
general.base_model.0.name	STRING	"Meta Llama 3.1 8B"
general.base_model.0.organization	STRING	"Meta Llama"
general.base_model.0.repo_url	STRING	"https://huggingface.co/meta-llama/Meta-Llama-3.1-8B"
general.dataset.count	UINT32	2
general.dataset.0.name	STRING	"Bar v2"
general.dataset.0.version	STRING	"v2"
general.dataset.0.organization	STRING	"Foo"
general.dataset.0.repo_url	STRING	"https://huggingface.co/foo/bar-v2"
general.dataset.1.name	STRING	"X"
general.dataset.1.organization	STRING	"Datasets"
general.dataset.1.repo_url	STRING	"https://huggingface.co/datasets/x"
general.tags	[4 x STRING]	54ee310b31de22a6
general.languages	[2 x STRING]	2490b2445480e61d
TSV
diff want got
echo ok
