# safetensors: a HF directory and a single file show tensors, dtypes,
# ggml-order shapes, __metadata__ and the config.json summary
. "$SRC/tests/cli/lib.sh"
need_shared
d=$SHARED/fixtures/hf-tiny-llama-bf16
gguf-inspect "$d" > d.txt
grep -q '^  model_type  *"llama"$' d.txt || fail "config summary"
grep -q '^  format  *pt$' d.txt || fail "__metadata__"
gguf-inspect --json "$d/model.safetensors" > f.json
node -e '
const j = JSON.parse(require("fs").readFileSync("f.json"));
if (j.format !== "safetensors" || j.tensors.length !== 21) throw new Error("tensors");
const e = j.tensors.find((t) => t.name === "model.embed_tokens.weight");
if (e.type !== "BF16" || e.shape.join() !== "64,32000" || e.bytes !== 4096000) throw new Error("embed");
if (j.config.num_key_value_heads !== 2) throw new Error("config");
if (j.summary.parameters !== 4182336) throw new Error("params");
'
