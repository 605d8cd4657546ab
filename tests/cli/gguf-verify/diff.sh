# diff of ref-llama-f16 against its Q8_0 and Q4_K_M requants: plausible
# errors (Q8_0 < Q4_K_M, cosine > 0.99), metadata changes, --max-rel-error
. "$SRC/tests/cli/lib.sh"
need_shared
m=$SHARED/fixtures/ref-llama-f16.gguf
requant -q "$m" q8.gguf Q8_0
requant -q "$m" q4.gguf Q4_K_M
gguf-verify diff --json "$m" q8.gguf > q8.json
gguf-verify diff --json -j 1 "$m" q4.gguf > q4.json
gguf-verify diff --json -j 2 "$m" q4.gguf | cmp - q4.json || fail "-j 2 differs from -j 1"
node -e '
const fs = require("fs");
const q8 = JSON.parse(fs.readFileSync("q8.json")), q4 = JSON.parse(fs.readFileSync("q4.json"));
for (const j of [q8, q4]) {
  if (j.version !== 1 || j.summary.compared !== 75 || j.summary.missing || j.summary.extra)
    throw new Error("summary " + JSON.stringify(j.summary));
  for (const t of j.tensors) if (t.metrics.cosine <= 0.99) throw new Error("cosine " + t.name);
  const ft = j.metadata.find((k) => k.key === "general.file_type");
  if (!ft || ft.change !== "changed" || ft.a !== "1") throw new Error("file_type");
}
if (!(q8.summary.total.rel_err < q4.summary.total.rel_err)) throw new Error("q8 not better");
if (!(q8.summary.max_rel_err < 0.01 && q4.summary.max_rel_err > 0.02 && q4.summary.max_rel_err < 0.15))
  throw new Error("rel errors " + q8.summary.max_rel_err + " " + q4.summary.max_rel_err);
const e = q4.tensors.find((t) => t.name === "blk.0.attn_q.weight");
if (e.type_a !== "F16" || e.type_b !== "Q4_K" || e.shape_b.join() !== "256,256" || e.bytes_b !== 36864)
  throw new Error("tensor row " + JSON.stringify(e));
const n = q4.tensors.find((t) => t.name === "blk.0.attn_norm.weight").metrics;
if (n.rmse !== 0 || n.snr_db !== null) throw new Error("exact tensor: snr null (infinite)");
'
gguf-verify diff "$m" q4.gguf > q4.txt
grep -q '^  name  *A  *B  *rmse  *max_abs  *rel_err  *cosine  *snr_db$' q4.txt || fail "table header"
grep -q '^  ~ general.file_type: 1 -> 15$' q4.txt || fail "changed key line"
gguf-verify diff --max-rel-error 0.05 "$m" q8.gguf > /dev/null || fail "q8 within 0.05"
gguf-verify diff --max-rel-error 0.05 "$m" q4.gguf > /dev/null 2> err.txt && fail "q4 within 0.05"
[ $? = 1 ] || fail "exit status"
grep -q 'relative error 0.0[0-9]* exceeds --max-rel-error 0.05' err.txt || fail "message"
# misshaped, missing and extra tensors
"$BUILD/fixtures/make_gguf" --layers 2 small.gguf
gguf-verify diff --json small.gguf "$m" | node -e '
const s = JSON.parse(require("fs").readFileSync(0)).summary;
if (s.misshaped !== 21 || s.extra !== 54 || s.compared !== 0) throw new Error(JSON.stringify(s));'
gguf-verify diff --max-rel-error 1 small.gguf "$m" > /dev/null 2>&1 && fail "misshaped passed"
gguf-verify diff "$m"
