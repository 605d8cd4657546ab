# An older GPTQ checkpoint whose config.json has no quantization_config but
# AutoGPTQ's quantize_config.json (no quant_method) beside it: read as gptq,
# the same bytes as with the config.json key (upstream ignores the file and
# fails on the packs). A bad value there is named in that file.
. "$SRC/tests/cli/lib.sh"
mkdir a b
"$BUILD/fixtures/make_hf" --quant gptq --gptq-group 32 --gptq-asym a/m
cp -r a/m b/
python3 - b/m <<'PY'
import json, sys
d = sys.argv[1]
cfg = json.load(open(d + "/config.json"))
q = cfg.pop("quantization_config")
del q["quant_method"]
json.dump(cfg, open(d + "/config.json", "w"), indent=2)
json.dump(q, open(d + "/quantize_config.json", "w"), indent=2)
PY
grep -q quantization_config b/m/config.json && fail "fixture edit"
hf2gguf -q a/m -o a.gguf
hf2gguf -q b/m -o b.gguf
cmp a.gguf b.gguf || fail "quantize_config.json read differently"
sed -i 's/"bits": 4/"bits": 5/' b/m/quantize_config.json
hf2gguf -q b/m -o c.gguf 2> err && fail "bits 5 accepted"
grep -q "^hf2gguf: b/m/quantize_config.json: bits is 5 (gptq takes 2, 3, 4 or 8)$" err ||
    fail "message: $(cat err)"
