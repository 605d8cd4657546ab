# --metadata overrides general.* keys (strings, tags, base models) and
# --model-name wins over it; --zstd output decompresses to the plain file.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" m
cat > meta.json <<'JSON'
{"general.name": "From Json", "general.author": "Someone", "general.license": "apache-2.0",
 "general.tags": ["text-generation", "test"],
 "general.base_models": [{"name": "Base", "organization": "Org", "repo_url": "https://huggingface.co/org/base"}]}
JSON
hf2gguf -q --metadata meta.json m -o a.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" a.gguf a.meta a.tensors
sed -n '3,12p' a.meta > got
cat > want <<'TSV'
general.name	STRING	"From Json"
general.author	STRING	"Someone"
general.size_label	STRING	"152K"
general.license	STRING	"apache-2.0"
general.base_model.count	UINT32	1
general.base_model.0.name	STRING	"Base"
general.base_model.0.organization	STRING	"Org"
general.base_model.0.repo_url	STRING	"https://huggingface.co/org/base"
general.tags	[2 x STRING]	d5d07cc1270e1e3c
llama.block_count	UINT32	2
TSV
diff want got
hf2gguf -q --metadata meta.json --model-name Override m -o b.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" b.gguf b.meta b.tensors
grep -qxF 'general.name	STRING	"Override"' b.meta
hf2gguf -q --zstd=3 m -o c.gguf.zst
hf2gguf -q m -o c.gguf
zstd -qdc c.gguf.zst | cmp - c.gguf
echo ok
