# gguf-verify diff MODEL_DIR GGUF compares with what hf2gguf --outtype f32
# writes from the checkpoint (every weight dequantized as ec562eb does,
# nothing rounded): hf2gguf --keep-quant=strict of a symmetric 4-bit GPTQ
# checkpoint shows zero error on every tensor (and passes --max-rel-error
# 0); the default --outtype q4_0 path, which re-rounds, does not. The
# directory may be either side. A directory hf2gguf refuses: exit 2 with
# hf2gguf's message, nothing on stdout.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --dtype f16 --quant gptq --gptq-group 32 m
hf2gguf -q --keep-quant=strict --outtype f32 m -o kq.gguf
hf2gguf -q --outtype q4_0 m -o q4.gguf
gguf-verify diff --json m kq.gguf > kq.json
gguf-verify diff --json q4.gguf m > q4.json
gguf-verify diff --max-rel-error 0 m kq.gguf > kq.txt || fail "--max-rel-error 0 on the kept conversion"
grep -q "blk.0.attn_q.weight" kq.txt || fail "text diff names no tensor"
node -e '
const fs = require("fs");
const kq = JSON.parse(fs.readFileSync("kq.json")), q4 = JSON.parse(fs.readFileSync("q4.json"));
for (const j of [kq, q4])
  if (j.summary.compared !== 21 || j.summary.missing || j.summary.extra || j.summary.misshaped)
    throw new Error("summary " + JSON.stringify(j.summary));
const kept = kq.tensors.filter((t) => t.type_b === "Q4_0");
if (kept.length !== 14 || kept.some((t) => t.type_a !== "F32"))
  throw new Error("kept tensors " + kept.length);
for (const t of kq.tensors) if (t.metrics.rmse !== 0) throw new Error("kept: error in " + t.name);
if (kq.summary.max_rel_err !== 0) throw new Error("kept: max_rel_err " + kq.summary.max_rel_err);
const rounded = q4.tensors.filter((t) => t.type_a === "Q4_0" && t.metrics.rmse > 0);
if (rounded.length === 0) throw new Error("the re-rounding path shows no error");
'
mkdir bad
echo '{' > bad/config.json
set +e
gguf-verify diff bad kq.gguf > out 2> err
rc=$?
set -e
[ $rc = 2 ] && [ ! -s out ] && grep -q "^gguf-verify: bad/config.json: " err ||
    fail "refused directory: exit $rc, $(cat err)"
echo ok
