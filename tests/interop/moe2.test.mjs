// hf2gguf's deepseek2 and gpt-oss conversions run in node-llama-cpp (its
// bundled llama.cpp): ../shared's deepseek3-moe (MLA, stacked routed experts,
// shared experts, expert groups) as F16, gptoss-moe as converted (MXFP4
// experts kept, the rest F16: general.file_type 38) and gptoss-bf16-moe as
// F16. Each loads, its tensor types are the ones llama.cpp sees, and a prompt
// evaluates to finite logits; a second evaluation from a fresh context gives
// the same logits (issue 16).
//
// The checkpoints are the tiny golden ones (hidden 16/32, 2 layers, 4-8
// experts) with their families' real vocabularies (129280 and 201088
// tokens), ~4-13 MB each; the gpt-oss ones get an lm_head (untie below).
// Needs ../shared (skipped without it, unless CI).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";
import { getLlama } from "node-llama-cpp";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const build = path.resolve(repo, process.env.BUILD ?? "build");
const shared = process.env.GGUFKIT_SHARED ?? path.resolve(repo, "../shared");
const fixtures = path.join(shared, "fixtures", "hf-2026");
const haveShared = existsSync(path.join(fixtures, "gptoss-moe"));
if (!haveShared && process.env.CI === "true") throw new Error("../shared not found under CI=true");

// ggml type ids
const F16 = 1, MXFP4 = 39;
// BOS-free prompt: ids well inside both vocabularies (4 positions: each
// gives 129280-201088 logits, which node-llama-cpp hands over as pairs)
const PROMPT = [100, 2000, 300, 4000];

const CASES = [
  { name: "deepseek3-moe", arch: "deepseek2", tok: "deepseek_v3", vocab: 129280, fileType: 1,
    types: { "blk.1.ffn_gate_exps.weight": F16, "blk.0.attn_k_b.weight": F16 } },
  { name: "gptoss-moe", arch: "gpt-oss", tok: "gptoss", vocab: 201088, fileType: 38,
    types: { "blk.0.ffn_gate_exps.weight": MXFP4, "blk.1.ffn_down_exps.weight": MXFP4,
      "blk.0.attn_q.weight": F16, "output.weight": F16 } },
  { name: "gptoss-bf16-moe", arch: "gpt-oss", tok: "gptoss", vocab: 201088, fileType: 1,
    types: { "blk.0.ffn_gate_exps.weight": F16, "blk.1.ffn_down_exps.weight": F16 } },
];

let tmp, llama;

before(async () => {
  if (!haveShared) return;
  tmp = mkdtempSync(path.join(os.tmpdir(), "moe2-"));
  llama = await getLlama({ build: "never", gpu: false, logLevel: "error" });
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// The released gpt-oss checkpoints are untied (llama.cpp's gpt-oss needs
// output.weight); the tiny golden ones are tied to keep them small. Give the
// copy an lm_head.weight equal to embed_tokens, appended to the safetensors
// data, and tie_word_embeddings false.
function untie(dir) {
  const f = path.join(dir, "model.safetensors"), buf = readFileSync(f);
  const n = Number(buf.readBigUInt64LE(0));
  const hdr = JSON.parse(buf.subarray(8, 8 + n).toString("utf8"));
  const emb = hdr["model.embed_tokens.weight"];
  const data = buf.subarray(8 + n);
  const [b0, b1] = emb.data_offsets;
  hdr["lm_head.weight"] = { ...emb, data_offsets: [data.length, data.length + (b1 - b0)] };
  let h = Buffer.from(JSON.stringify(hdr), "utf8");
  h = Buffer.concat([h, Buffer.alloc((8 - (h.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  writeFileSync(f, Buffer.concat([len, h, data, data.subarray(b0, b1)]));
  const cfgPath = path.join(dir, "config.json"), cfg = JSON.parse(readFileSync(cfgPath, "utf8"));
  cfg.tie_word_embeddings = false;
  writeFileSync(cfgPath, JSON.stringify(cfg, null, 2));
}

// The checkpoint with its tokenizer.json unpacked, converted with --outtype f16.
function convert(c) {
  const dir = path.join(tmp, c.name);
  mkdirSync(dir);
  for (const f of readdirSync(path.join(fixtures, c.name)))
    copyFileSync(path.join(fixtures, c.name, f), path.join(dir, f));
  const gz = path.join(fixtures, "tokenizers-moe", `${c.tok}.tokenizer.json.gz`);
  writeFileSync(path.join(dir, "tokenizer.json"), zlib.gunzipSync(readFileSync(gz)));
  if (c.arch === "gpt-oss") untie(dir);
  const out = path.join(tmp, `${c.name}.gguf`);
  execFileSync(path.join(build, "bin", "hf2gguf"), ["-q", "--outtype", "f16", dir, "-o", out]);
  return out;
}

async function evaluate(model, nVocab) {
  const ctx = await model.createContext({ contextSize: 64, threads: 2 });
  try {
    const res = await ctx.getSequence().controlledEvaluate(
      PROMPT.map((t) => [t, { generateNext: { logits: true } }]));
    return res.map((r) => {
      const row = new Float64Array(nVocab).fill(NaN);
      for (const [tok, v] of r.next.logits) row[tok] = v;
      return row;
    });
  } finally {
    await ctx.dispose();
  }
}

for (const c of CASES) {
  test(`${c.name}: node-llama-cpp evaluates hf2gguf's conversion`, { timeout: 300000, skip: !haveShared && "no ../shared" }, async () => {
    const gguf = convert(c);
    const model = await llama.loadModel({ modelPath: gguf });
    try {
      const md = model.fileInfo.metadata;
      assert.equal(md.general.architecture, c.arch);
      assert.equal(md.general.file_type, c.fileType);
      const info = new Map(model.fileInfo.fullTensorInfo.map((t) => [t.name, t.ggmlType]));
      for (const [name, type] of Object.entries(c.types))
        assert.equal(info.get(name), type, `${c.name}: ${name} has ggml type ${info.get(name)}`);
      const nVocab = c.vocab;
      const a = await evaluate(model, nVocab), b = await evaluate(model, nVocab);
      assert.equal(a.length, PROMPT.length);
      let sum = 0;
      for (let i = 0; i < a.length; i++) {
        const bad = a[i].findIndex((v) => !Number.isFinite(v));
        assert.equal(bad, -1, `${c.name}: position ${i}, token ${bad}: logit ${a[i][bad]}`);
        assert.deepEqual(b[i], a[i], `${c.name}: position ${i} differs between two runs`);
        for (const v of a[i]) sum += v * v;
      }
      const rms = Math.sqrt(sum / (a.length * nVocab));
      assert.ok(rms > 0, `${c.name}: every logit is 0`);
      console.log(`# ${c.name}: ${a.length} positions x ${nVocab} logits, rms ${rms.toExponential(3)}`);
    } finally {
      await model.dispose();
    }
  });
}
