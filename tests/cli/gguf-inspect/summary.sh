# the summary's numbers: parameters, tensor bytes and bpw agree with the
# tensor table, and the per-type rows add up
. "$SRC/tests/cli/lib.sh"
need_shared
m=$SHARED/fixtures/ref-llama-f16.gguf
gguf-inspect --json "$m" > m.json
node -e '
const j = JSON.parse(require("fs").readFileSync("m.json"));
const s = j.summary;
let p = 0, b = 0;
for (const t of j.tensors) { p += t.parameters; b += t.bytes; }
if (p !== s.parameters || b !== s.tensor_bytes) throw new Error("sums differ");
if (Math.abs(s.bpw - b * 8 / p) > 1e-12) throw new Error("bpw");
let tp = 0; for (const t of j.types) tp += t.parameters;
if (tp !== p) throw new Error("types");
if (j.hparams.block_count !== 8 || j.hparams.head_count_kv !== 2) throw new Error("hparams");
if (j.tokenizer.vocab_size !== 512) throw new Error("vocab");
'
gguf-inspect "$m" > m.txt
grep -q '^architecture    llama$' m.txt || fail "architecture line"
grep -q '^bits/weight ' m.txt || fail "bpw line"
grep -q '^  kv heads  *2$' m.txt || fail "kv heads"
