// hf2gguf --lora's adapters work in llama.cpp (node-llama-cpp's bundled
// build, its LoRA API): a peaked llama base (make_hf --peaked 6, f32) with
// an adapter from tests/cli/hf2gguf/lora_make.py (rank 8, lora_alpha 16,
// every linear layer of the blocks, so q/k get hf2gguf's Q/K permutation)
// is compared with the same base merged on the Hugging Face side, here in
// JS: W + (alpha/r)·B·A on every target weight, converted by hf2gguf as a
// plain checkpoint. For the same prompt, the next-token top-1 of base +
// adapter and of the merged model agree at >= 99% of positions (max
// |Δlogit| printed); the adapter changes the base's logits (it is applied);
// at scale 0 base + adapter gives the base's logits.
// Then requant --lora's merge: base F16 + adapter in node-llama-cpp against
// requant --lora ADAPTER[:SCALE] BASE MERGED F16 (llama-export-lora's file),
// at scales 1 and 0.5: top-1 equal at >= 99% of positions, max |Δlogit|
// printed.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getLlama } from "node-llama-cpp";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const build = path.resolve(repo, process.env.BUILD ?? "build");
const bin = (p) => path.join(build, "bin", p);
const VOCAB = 512, RANK = 8, ALPHA = 16;
const SHAPE = ["--arch", "llama", "--dtype", "f32", "--layers", "2", "--embd", "256", "--ff", "512",
  "--heads", "4", "--kv-heads", "2", "--vocab", String(VOCAB), "--peaked", "6", "--seed", "20"];
// BOS, then 63 tokens of the synthetic vocabulary
const PROMPT = [1, ...Array.from({ length: 63 }, (_, i) => 260 + ((i * 37) % 250))];

let tmp, llama;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "lora-"));
  llama = await getLlama({ build: "never", gpu: false, logLevel: "error" });
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function readSafetensors(file) {
  const buf = readFileSync(file), n = Number(buf.readBigUInt64LE(0));
  const hdr = JSON.parse(buf.subarray(8, 8 + n).toString("utf8")), data = buf.subarray(8 + n);
  const out = new Map();
  for (const [name, t] of Object.entries(hdr)) {
    if (name === "__metadata__") continue;
    assert.equal(t.dtype, "F32", `${name}: ${t.dtype}`);
    const [b0, b1] = t.data_offsets, bytes = data.subarray(b0, b1);
    const v = new Float32Array(bytes.length / 4);
    for (let i = 0; i < v.length; i++) v[i] = bytes.readFloatLE(4 * i);
    out.set(name, { shape: t.shape, v });
  }
  return out;
}

function writeSafetensors(file, tensors) {
  const hdr = {}, parts = [];
  let off = 0;
  for (const [name, t] of tensors) {
    const b = Buffer.from(t.v.buffer, t.v.byteOffset, t.v.byteLength);
    hdr[name] = { dtype: "F32", shape: t.shape, data_offsets: [off, off + b.length] };
    parts.push(b);
    off += b.length;
  }
  let h = Buffer.from(JSON.stringify(hdr), "utf8");
  h = Buffer.concat([h, Buffer.alloc((8 - (h.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  writeFileSync(file, Buffer.concat([len, h, ...parts]));
}

// The base checkpoint with W += (alpha/r)·B·A for every lora pair.
function mergeOnCheckpoint(base, adapter, out) {
  mkdirSync(out);
  for (const f of readdirSync(base)) copyFileSync(path.join(base, f), path.join(out, f));
  const w = readSafetensors(path.join(base, "model.safetensors"));
  const lora = readSafetensors(path.join(adapter, "adapter_model.safetensors"));
  let merged = 0;
  for (const [name, a] of lora) {
    if (!name.endsWith(".lora_A.weight")) continue;
    const b = lora.get(name.replace(".lora_A.", ".lora_B."));
    const target = w.get(name.replace("base_model.model.", "").replace(".lora_A.weight", ".weight"));
    assert.ok(b && target, `${name}: no lora_B or no base weight`);
    const [r, nIn] = a.shape, nOut = b.shape[0], s = ALPHA / r;
    for (let o = 0; o < nOut; o++)
      for (let i = 0; i < nIn; i++) {
        let acc = 0;
        for (let k = 0; k < r; k++) acc += b.v[o * r + k] * a.v[k * nIn + i];
        target.v[o * nIn + i] += s * acc;
      }
    merged++;
  }
  assert.ok(merged >= 14, `${merged} weights merged`);
  writeSafetensors(path.join(out, "model.safetensors"), w);
}

async function logits(model, lora) {
  const ctx = await model.createContext({ contextSize: 128, threads: 2, ...(lora ? { lora } : {}) });
  try {
    const res = await ctx.getSequence().controlledEvaluate(PROMPT.map((t) => [t, { generateNext: { logits: true } }]));
    return res.map((r) => {
      const row = new Float64Array(VOCAB).fill(NaN);
      for (const [tok, v] of r.next.logits) row[tok] = v;
      return row;
    });
  } finally {
    await ctx.dispose();
  }
}

const argmax = (row) => row.reduce((best, v, i) => (v > row[best] ? i : best), 0);

function compare(a, b) {
  let same = 0, maxDelta = 0;
  for (let p = 0; p < a.length; p++) {
    if (argmax(a[p]) === argmax(b[p])) same++;
    for (let t = 0; t < VOCAB; t++) maxDelta = Math.max(maxDelta, Math.abs(a[p][t] - b[p][t]));
  }
  return { agree: same / a.length, maxDelta };
}

// The peaked base checkpoint and its adapter (made once).
let made;
function makeBaseAndAdapter() {
  if (made) return made;
  const base = path.join(tmp, "base"), adapter = path.join(tmp, "adapter");
  execFileSync(path.join(build, "fixtures", "make_hf"), [...SHAPE, base]);
  execFileSync("python3", [path.join(repo, "tests/cli/hf2gguf/lora_make.py"), base, adapter, "--rank", String(RANK),
    "--alpha", String(ALPHA), "--targets", "all", "--seed", "20"]);
  made = { base, adapter };
  return made;
}

test("base + hf2gguf --lora adapter in node-llama-cpp = the checkpoint merged", { timeout: 300000 }, async () => {
  const { base, adapter } = makeBaseAndAdapter(), merged = path.join(tmp, "merged");
  mergeOnCheckpoint(base, adapter, merged);
  const baseGguf = path.join(tmp, "base.gguf"), mergedGguf = path.join(tmp, "merged.gguf");
  const adapterGguf = path.join(tmp, "adapter.gguf");
  execFileSync(bin("hf2gguf"), ["-q", "--outtype", "f32", base, "-o", baseGguf]);
  execFileSync(bin("hf2gguf"), ["-q", "--outtype", "f32", merged, "-o", mergedGguf]);
  execFileSync(bin("hf2gguf"), ["-q", "--lora", adapter, "--base", base, "-o", adapterGguf]);

  const baseModel = await llama.loadModel({ modelPath: baseGguf });
  const mergedModel = await llama.loadModel({ modelPath: mergedGguf });
  try {
    const plain = await logits(baseModel);
    const withAdapter = await logits(baseModel, { adapters: [{ filePath: adapterGguf, scale: 1 }] });
    const atZero = await logits(baseModel, { adapters: [{ filePath: adapterGguf, scale: 0 }] });
    const ref = await logits(mergedModel);
    for (const rows of [plain, withAdapter, ref])
      for (const row of rows) assert.ok(row.every(Number.isFinite), "a logit is not finite");
    const c = compare(withAdapter, ref), unchanged = compare(withAdapter, plain), zero = compare(atZero, plain);
    console.log(`# base + adapter vs merged: top-1 equal at ${(100 * c.agree).toFixed(1)}% of ` +
      `${PROMPT.length} positions, max |Δlogit| ${c.maxDelta.toExponential(3)}; adapter vs base: ` +
      `top-1 equal ${(100 * unchanged.agree).toFixed(1)}%, max |Δlogit| ${unchanged.maxDelta.toExponential(3)}`);
    assert.ok(c.agree >= 0.99, `top-1 agreement ${c.agree}`);
    assert.ok(unchanged.maxDelta > 50 * c.maxDelta, "the adapter hardly changes the base's logits");
    assert.ok(zero.maxDelta <= 1e-4, `scale 0: max |Δlogit| ${zero.maxDelta}`);
  } finally {
    await baseModel.dispose();
    await mergedModel.dispose();
  }
});

test("base + adapter in node-llama-cpp = requant --lora's merged F16", { timeout: 300000 }, async () => {
  const { base, adapter } = makeBaseAndAdapter();
  const baseGguf = path.join(tmp, "base-f16.gguf"), adapterGguf = path.join(tmp, "adapter-f16base.gguf");
  execFileSync(bin("hf2gguf"), ["-q", "--outtype", "f16", base, "-o", baseGguf]);
  execFileSync(bin("hf2gguf"), ["-q", "--lora", adapter, "--base-gguf", baseGguf, "-o", adapterGguf]);
  const baseModel = await llama.loadModel({ modelPath: baseGguf });
  try {
    const plain = await logits(baseModel);
    for (const scale of [1, 0.5]) {
      const mergedGguf = path.join(tmp, `requant-merged-${scale}.gguf`);
      execFileSync(bin("requant"), ["-q", "--lora", `${adapterGguf}:${scale}`, baseGguf, mergedGguf, "F16"]);
      const mergedModel = await llama.loadModel({ modelPath: mergedGguf });
      try {
        const withAdapter = await logits(baseModel, { adapters: [{ filePath: adapterGguf, scale }] });
        const ref = await logits(mergedModel);
        for (const row of ref) assert.ok(row.every(Number.isFinite), "a logit is not finite");
        const c = compare(withAdapter, ref), unchanged = compare(withAdapter, plain);
        console.log(`# scale ${scale}: base F16 + adapter vs requant --lora F16: top-1 equal at ` +
          `${(100 * c.agree).toFixed(1)}% of ${PROMPT.length} positions, max |Δlogit| ` +
          `${c.maxDelta.toExponential(3)}; adapter vs base: max |Δlogit| ${unchanged.maxDelta.toExponential(3)}`);
        assert.ok(c.agree >= 0.99, `scale ${scale}: top-1 agreement ${c.agree}`);
        assert.ok(unchanged.maxDelta > 10 * c.maxDelta, `scale ${scale}: the merge hardly differs from the base`);
      } finally {
        await mergedModel.dispose();
      }
    }
  } finally {
    await baseModel.dispose();
  }
});
