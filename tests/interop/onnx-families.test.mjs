// gguf2onnx output for the families beyond llama/qwen (gemma2, gemma3) runs
// in ONNX Runtime and agrees with llama.cpp (issue 18).
//
// Models are generated at test time: make_hf --arch A --peaked (see
// gguf2onnx.test.mjs for why a peaked model: top-1 must measure the
// conversion, not rounding noise) with a 512-token synthetic vocabulary,
// then hf2gguf as F16 and requant to Q8_0, Q4_0 and Q4_K_M. gemma2 has 2
// blocks (block 0 slides, block 1 is global), gemma3 6 (blocks 0-4 slide
// with the local rope base 10000, block 5 is global with 1e6). The config's
// sliding_window is cut to 16 so that the 104-token sequence (prefill 64,
// then 40 decode steps through the KV cache) is much longer than the
// window. For each model and graph, onnxruntime-node's logits are compared
// with node-llama-cpp's on the same GGUF and tokens: top-1 identical at >=
// 99% of positions, mean KL(llama.cpp || ORT) <= 1e-3, max |diff| printed
// and bounded, prefill-then-decode equal to one long prefill.
//
// The features are exercised, not only present: for each family a control
// GGUF (F16) with the window widened to 4096, and for gemma2 one with the
// attention soft-cap raised to 1e4, gives llama.cpp logits that differ from
// the real ones by more than 10x the ORT-vs-llama.cpp max |diff|, so an ORT
// graph without the window or the cap could not pass. gemma2's attention
// cap is 2 (real checkpoints: 50, which these small scores never reach).
//
// Measured (node-llama-cpp 3.22.1 CPU build, x86-64, flash attention off),
// top-1 / max |diff| / mean KL; the genai graph measured the same to 1e-5:
//   gemma2 F16    100%  0.016  2.4e-10   gemma3 F16    100%  0.026  9.0e-8
//   gemma2 Q8_0   100%  0.37   2.0e-7    gemma3 Q8_0   100%  0.66   3.8e-5
//   gemma2 Q4_0   100%  0.40   1.5e-7    gemma3 Q4_0   100%  0.66   2.1e-5
//   gemma2 Q4_K_M 100%  0.53   3.0e-7    gemma3 Q4_K_M 100%  0.88   1.1e-5
// Quantized: llama.cpp rounds activations to 8-bit blocks before every
// quantized matmul; ONNX Runtime uses the exact dequantized weights (as
// gguf2onnx.test.mjs asserts). Limits: top-1 >= 99%, KL <= 1e-3 (issue 18),
// max |diff| 2.0 (0.1 and KL 1e-5 for F16); prefill-then-decode equals one
// prefill to 5e-4 (measured <= 5.3e-5). The controls moved llama.cpp's
// logits by 17 (gemma2 window), 20 (gemma2 cap) and 41 (gemma3 window).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as ort from "onnxruntime-node";
import { getLlama } from "node-llama-cpp";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const build = path.resolve(repo, process.env.BUILD ?? "build");
const bin = (p) => path.join(build, "bin", p);
const run = promisify(execFile);

const VOCAB = 512, WINDOW = 16, N = 104, PREFILL = 64;
// BOS, then a fixed pseudo-random walk over the synthetic vocabulary
const TOKENS = [1, ...Array.from({ length: N - 1 }, (_, i) => 3 + ((i * 197 + 31) % (VOCAB - 3)))];
const FAMILIES = {
  gemma2: { layers: "2", peak: "6", cfg: { attn_logit_softcapping: 2.0 } },
  gemma3: { layers: "6", peak: "5", qkNormShift: -1.5, cfg: {} },
};
const CONTROLS = {
  gemma2: { "window 4096": { sliding_window: 4096 }, "softcap 1e4": { attn_logit_softcapping: 1e4 } },
  gemma3: { "window 4096": { sliding_window: 4096 } },
};
const LIMITS = {
  F16: { maxd: 0.1, kl: 1e-5 },
  Q8_0: { maxd: 2.0, kl: 1e-3 },
  Q4_0: { maxd: 2.0, kl: 1e-3 },
  Q4_K_M: { maxd: 2.0, kl: 1e-3 },
};

let tmp, llama, art;
const results = [];

// At most two child processes at a time (two cores).
let slots = 2;
const waiting = [];
async function job(cmd, args) {
  while (slots === 0) await new Promise((r) => waiting.push(r));
  slots--;
  try {
    return (await run(cmd, args, { maxBuffer: 1 << 26 })).stdout;
  } finally {
    slots++;
    waiting.shift()?.();
  }
}

// make_hf's norm weights are 1 + 0.1 N(0,1) in Hugging Face's convention,
// which for Gemma's (1 + w) RMSNorm means ~2: q/k norms of 2 give attention
// scores of sd ~4, a softmax so sharp that llama.cpp's activation rounding
// (8-bit blocks before quantized matmuls) moves whole attention rows, and
// its difference from the exact result grew with the position (to 40% of the
// logit spread at Q8_0). Shifting the f32 q/k norm weights to ~-0.5 (a gain
// of ~0.5) gives scores of sd ~1, as in a trained model.
function shiftQkNorms(file, by) {
  const buf = readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString());
  for (const [name, t] of Object.entries(header)) {
    if (!/\.(q|k)_norm\.weight$/.test(name)) continue;
    assert.equal(t.dtype, "F32");
    for (let o = 8 + n + t.data_offsets[0]; o < 8 + n + t.data_offsets[1]; o += 4) buf.writeFloatLE(buf.readFloatLE(o) + by, o);
  }
  writeFileSync(file, buf);
}

// make_hf -> config and weight edits -> hf2gguf F16
async function makeGguf(arch, name, edits) {
  const f = FAMILIES[arch], hf = path.join(tmp, `hf-${name}`);
  await job(path.join(build, "fixtures", "make_hf"), ["--arch", arch, "--layers", f.layers, "--embd", "256",
    "--ff", "512", "--heads", "4", "--kv-heads", "2", "--vocab", String(VOCAB), "--peaked", f.peak,
    "--dtype", "f32", hf]);
  const cp = path.join(hf, "config.json");
  writeFileSync(cp, JSON.stringify({ ...JSON.parse(readFileSync(cp)), sliding_window: WINDOW, ...f.cfg, ...edits }));
  if (f.qkNormShift) shiftQkNorms(path.join(hf, "model.safetensors"), f.qkNormShift);
  const gguf = path.join(tmp, `${name}.gguf`);
  await job(bin("hf2gguf"), ["-q", "--outtype", "f16", hf, "-o", gguf]);
  rmSync(hf, { recursive: true, force: true });
  return gguf;
}

async function requant(src, name, type) {
  const q = path.join(tmp, `${name}.gguf`);
  await job(bin("requant"), ["-q", await src, q, type]);
  return q;
}

async function convert(gguf, tag, args = []) {
  const g = await gguf, out = path.join(tmp, `onnx-${tag}`);
  await job(bin("gguf2onnx"), ["-q", ...args, g, out]);
  return { gguf: g, out };
}

function prepare() {
  const a = {};
  for (const arch of Object.keys(FAMILIES)) {
    const f16 = makeGguf(arch, arch, {});
    a[`${arch} F16`] = convert(f16, `${arch}-F16`);
    a[`${arch} F16 --graph genai`] = convert(f16, `${arch}-F16-genai`, ["--graph", "genai"]);
    for (const type of ["Q8_0", "Q4_0", "Q4_K_M"]) {
      const q = requant(f16, `${arch}-${type}`, type);
      a[`${arch} ${type}`] = convert(q, `${arch}-${type}`);
      if (type === "Q4_0") a[`${arch} ${type} --graph genai`] = convert(q, `${arch}-${type}-genai`, ["--graph", "genai"]);
    }
    for (const [c, edits] of Object.entries(CONTROLS[arch]))
      a[`${arch} control ${c}`] = makeGguf(arch, `${arch}-${c.replace(/ /g, "")}`, edits);
  }
  for (const p of Object.values(a)) p.catch(() => {});
  return a;
}

// ONNX Runtime: prefill P tokens, then one token at a time through the cache.
async function ortLogits(dir, toks, P) {
  const sess = await ort.InferenceSession.create(path.join(dir, "model.onnx"), { logSeverityLevel: 3 });
  const D = JSON.parse(readFileSync(path.join(dir, "genai_config.json"))).model.decoder;
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
        feeds[`past_key_values.${l}.${kv}`] = past ? past[`present.${l}.${kv}`]
          : new ort.Tensor("float32", new Float32Array(0), [1, D.num_key_value_heads, 0, D.head_size]);
    const out = await sess.run(feeds);
    const rows = [];
    for (let i = 0; i < S; i++) rows.push(out.logits.data.slice(i * VOCAB, (i + 1) * VOCAB));
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
  const once = (await step(toks, null, 0)).rows;
  await sess.release();
  return { rows, kvdiff: maxDiff(once, rows) };
}

const refCache = new Map();
async function llamaLogits(gguf) {
  if (refCache.has(gguf)) return refCache.get(gguf);
  const model = await llama.loadModel({ modelPath: gguf });
  // flash attention off: llama.cpp's CPU flash attention differs from its
  // own plain attention by up to 0.13 on these models (measured), 6x the
  // difference between plain attention and ONNX Runtime at F32
  const ctx = await model.createContext({ contextSize: 256, flashAttention: false, experimentalKvCacheKeyType: "F32",
    experimentalKvCacheValueType: "F32" });
  const res = await ctx.getSequence().controlledEvaluate(TOKENS.map((t) => [t, { generateNext: { logits: true } }]));
  const rows = res.map((r) => {
    const L = new Float32Array(VOCAB);
    for (const [t, v] of r.next.logits) L[t] = v;
    return L;
  });
  await ctx.dispose();
  await model.dispose();
  refCache.set(gguf, rows);
  return rows;
}

function maxDiff(a, b) {
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

// top1: share of positions with the same argmax; kl: mean KL(ref || got);
// peaked: share of positions where llama.cpp's lead exceeds 5x max |diff|.
function compare(ref, got) {
  let top1 = 0, kl = 0, peaked = 0;
  const maxd = maxDiff(ref, got);
  for (let i = 0; i < ref.length; i++) {
    const L = ref[i], O = got[i];
    let a = 0, b = 0, second = -Infinity;
    for (let j = 0; j < L.length; j++) {
      if (L[j] > L[a]) a = j;
      if (O[j] > O[b]) b = j;
    }
    for (let j = 0; j < L.length; j++) if (j !== a) second = Math.max(second, L[j]);
    if (a === b) top1++;
    if (L[a] - second > 5 * maxd) peaked++;
    const la = lse(L), lb = lse(O);
    for (let j = 0; j < L.length; j++) kl += Math.exp(L[j] - la) * (L[j] - la - (O[j] - lb));
  }
  const n = ref.length;
  return { positions: n, top1: top1 / n, maxd, kl: kl / n, peaked: peaked / n };
}

async function agree(label) {
  const { gguf, out } = await art[label];
  const lim = LIMITS[label.split(" ")[1]];
  const [{ rows, kvdiff }, ref] = await Promise.all([ortLogits(out, TOKENS, PREFILL), llamaLogits(gguf)]);
  const m = { label, ...compare(ref, rows), kvdiff };
  results.push(m);
  console.log(`# ${label}: ${JSON.stringify(m)}`);
  assert.ok(m.top1 >= 0.99, `${label}: top-1 agreement ${m.top1} < 0.99`);
  assert.ok(m.kl <= lim.kl, `${label}: mean KL ${m.kl} > ${lim.kl}`);
  assert.ok(m.maxd < lim.maxd, `${label}: max |logit diff| ${m.maxd} >= ${lim.maxd}`);
  assert.ok(kvdiff < 5e-4, `${label}: prefill+decode differs from one prefill by ${kvdiff}`);
  return m;
}

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "onnx-families-"));
  llama = await getLlama({ build: "never", gpu: false });
  art = prepare();
});

after(() => {
  if (results.length) console.log("# summary " + JSON.stringify(results));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

for (const arch of Object.keys(FAMILIES)) {
  test(`gguf2onnx ${arch}: ONNX Runtime agrees with llama.cpp`, { timeout: 600000 }, async (t) => {
    let f16;
    for (const type of ["F16", "Q8_0", "Q4_0", "Q4_K_M"]) {
      await t.test(`${arch} ${type}`, async () => {
        const m = await agree(`${arch} ${type}`);
        if (type === "F16") f16 = m;
        assert.ok(m.peaked >= 0.9, `${arch} ${type}: test model not peaked (${m.peaked})`);
        if (type === "F16" || type === "Q4_0") await agree(`${arch} ${type} --graph genai`);
      });
    }
    // the window (and gemma2's attention cap) change llama.cpp's logits far
    // beyond the ORT-vs-llama.cpp difference: ORT implements them
    for (const c of Object.keys(CONTROLS[arch])) {
      await t.test(`${arch} ${c} matters`, async () => {
        const d = maxDiff(await llamaLogits(await art[`${arch} control ${c}`]),
          await llamaLogits((await art[`${arch} F16`]).gguf));
        console.log(`# ${arch} ${c}: llama.cpp logits move by ${d}`);
        assert.ok(d > 10 * f16.maxd, `${arch}: ${c} moves logits by ${d} only (ORT max |diff| ${f16.maxd})`);
      });
    }
  });
}
