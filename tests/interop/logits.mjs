// Logits from ONNX Runtime and from llama.cpp, and how they compare: shared
// by the gguf2onnx interop tests (gguf2onnx.test.mjs, onnx-families.test.mjs).
import { readFileSync } from "node:fs";
import path from "node:path";
import * as ort from "onnxruntime-node";

// ONNX Runtime on a gguf2onnx directory: prefill P tokens, then one token at
// a time through the KV cache. kvdiff: the largest difference from one long
// prefill of the same tokens (the cache must not change the result).
export async function ortLogits(dir, toks, P, kvType = "float32") {
  const sess = await ort.InferenceSession.create(path.join(dir, "model.onnx"), { logSeverityLevel: 3 });
  const cfg = JSON.parse(readFileSync(path.join(dir, "genai_config.json")));
  const D = cfg.model.decoder, V = cfg.model.vocab_size;
  if (D.inputs.past_key_names !== "past_key_values.%d.key")
    throw new Error(`${dir}: past_key_names ${D.inputs.past_key_names}`);
  async function step(ids, past, start) {
    const S = ids.length;
    const feeds = {
      input_ids: new ort.Tensor("int64", BigInt64Array.from(ids.map(BigInt)), [1, S]),
      attention_mask: new ort.Tensor("int64", new BigInt64Array(start + S).fill(1n), [1, start + S]),
    };
    if (sess.inputNames.includes("position_ids"))
      feeds.position_ids = new ort.Tensor("int64", BigInt64Array.from(ids.map((_, i) => BigInt(start + i))), [1, S]);
    for (let l = 0; l < D.num_hidden_layers; l++)
      for (const kv of ["key", "value"])
        feeds[`past_key_values.${l}.${kv}`] = past
          ? past[`present.${l}.${kv}`]
          : new ort.Tensor(kvType, kvType === "float16" ? new Uint16Array(0) : new Float32Array(0),
            [1, D.num_key_value_heads, 0, D.head_size]);
    const out = await sess.run(feeds);
    const rows = [];
    for (let i = 0; i < S; i++) rows.push(out.logits.data.slice(i * V, (i + 1) * V));
    return { rows, out };
  }
  const first = await step(toks.slice(0, P), null, 0);
  const rows = first.rows;
  let past = first.out;
  for (let i = P; i < toks.length; i++) {
    const r = await step([toks[i]], past, i);
    rows.push(r.rows[0]);
    past = r.out;
  }
  const once = P < toks.length ? (await step(toks, null, 0)).rows : rows;
  await sess.release();
  return { rows, kvdiff: maxDiff(once, rows), V };
}

// llama.cpp's logits for every position (F32 KV cache), cached per GGUF,
// tokens and context options (several ONNX conversions share one GGUF).
const refCache = new Map();
export async function llamaLogits(llama, gguf, toks, V, ctxOpts = {}) {
  const key = `${gguf}:${toks.join(",")}:${JSON.stringify(ctxOpts)}`;
  if (refCache.has(key)) return refCache.get(key);
  const model = await llama.loadModel({ modelPath: gguf });
  const ctx = await model.createContext({ contextSize: 256, experimentalKvCacheKeyType: "F32",
    experimentalKvCacheValueType: "F32", ...ctxOpts });
  const res = await ctx.getSequence().controlledEvaluate(toks.map((t) => [t, { generateNext: { logits: true } }]));
  const rows = res.map((r) => {
    const L = new Float32Array(V);
    for (const [t, v] of r.next.logits) L[t] = v;
    return L;
  });
  await ctx.dispose();
  await model.dispose();
  refCache.set(key, rows);
  return rows;
}

export function maxDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) for (let j = 0; j < a[i].length; j++) m = Math.max(m, Math.abs(a[i][j] - b[i][j]));
  return m;
}

function lse(x) {
  let m = -Infinity, s = 0;
  for (const v of x) m = Math.max(m, v);
  for (const v of x) s += Math.exp(v - m);
  return m + Math.log(s);
}

// top1: share of positions with the same argmax; kl: mean KL(ref || got).
// lead: llama.cpp's top-1 minus its runner-up, per position; clear:
// positions whose lead exceeds the max |diff|, clearTop1 the top-1
// agreement there; peaked: share of positions whose lead exceeds 5x the
// max |diff|.
export function compare(ref, got) {
  let top1 = 0, kl = 0;
  const maxd = maxDiff(ref, got), pos = [];
  for (let i = 0; i < ref.length; i++) {
    const L = ref[i], O = got[i];
    let a = 0, b = 0, second = -Infinity;
    for (let j = 0; j < L.length; j++) {
      if (L[j] > L[a]) a = j;
      if (O[j] > O[b]) b = j;
    }
    for (let j = 0; j < L.length; j++) if (j !== a) second = Math.max(second, L[j]);
    pos.push({ lead: L[a] - second, same: a === b });
    if (a === b) top1++;
    const la = lse(L), lb = lse(O);
    for (let j = 0; j < L.length; j++) kl += Math.exp(L[j] - la) * (L[j] - la - (O[j] - lb));
  }
  const n = ref.length, clear = pos.filter((x) => x.lead > maxd);
  return { positions: n, top1: top1 / n, maxd, kl: kl / n, clear: clear.length,
    clearTop1: clear.length ? clear.filter((x) => x.same).length / clear.length : 1,
    peaked: pos.filter((x) => x.lead > 5 * maxd).length / n, minLead: Math.min(...pos.map((x) => x.lead)) };
}
