# --vocab-only, --dry-run [--json], --list-archs, -o -, default output name,
# refusing to overwrite without -f. The default --outtype is auto, which is
# bf16 for this bf16 checkpoint (ec562eb); tensors in sorted HF-name order
# (lm_head, embed_tokens, then the blocks).
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch llama Tiny-Model-v2
hf2gguf -q --vocab-only Tiny-Model-v2 -o v.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" v.gguf vmeta.tsv vtensors.tsv
[ ! -s vtensors.tsv ] || [ "$(cat vtensors.tsv)" = "" ] || fail "vocab-only has tensors"
grep -qxF 'general.version	STRING	"v2"' vmeta.tsv
grep -qxF 'general.basename	STRING	"Tiny-Model"' vmeta.tsv
hf2gguf --dry-run Tiny-Model-v2 > plan.txt
grep -q '^blk.0.attn_q.weight	BF16	64x64	8192	model.layers.0.self_attn.q_proj.weight$' plan.txt
head -n1 plan.txt | grep -q '^output.weight	BF16	64x512	65536	lm_head.weight$'
grep -q 'Tiny-Model-v2/Tiny-Model-152K-v2-BF16.gguf: 21 tensors' plan.txt
hf2gguf --dry-run --json --outtype q8_0 Tiny-Model-v2 > plan.json
node -e 'const p=JSON.parse(require("fs").readFileSync("plan.json"));if(p.tensors.length!==21||p.tensors[1].type!=="Q8_0")process.exit(1)'
assert_no_file Tiny-Model-v2/Tiny-Model-152K-v2-BF16.gguf
hf2gguf -q Tiny-Model-v2
[ -f Tiny-Model-v2/Tiny-Model-152K-v2-BF16.gguf ] || fail "default output name"
if hf2gguf -q Tiny-Model-v2 2>err; then fail "overwrote without -f"; fi
hf2gguf -q -f Tiny-Model-v2
hf2gguf -q -o - Tiny-Model-v2 > stdout.gguf
cmp stdout.gguf Tiny-Model-v2/Tiny-Model-152K-v2-BF16.gguf
hf2gguf --list-archs | grep -qx 'qwen3	Qwen3ForCausalLM,Qwen3Model'
hf2gguf --list-archs | grep -qx 'smollm3	SmolLM3ForCausalLM'
hf2gguf --list-archs | grep -qx 'granite	GraniteForCausalLM'
hf2gguf --list-archs | grep -qx 'llama	MixtralForCausalLM'
hf2gguf --list-archs | grep -qx 'qwen2moe	Qwen2MoeForCausalLM'
hf2gguf --list-archs | grep -qx 'qwen3moe	Qwen3MoeForCausalLM'
hf2gguf --list-archs | grep -qx 'gpt-oss	GptOssForCausalLM'
hf2gguf --list-archs | grep -qx 'deepseek2	DeepseekV2ForCausalLM,DeepseekV3ForCausalLM'
echo ok
