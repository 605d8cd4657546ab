// hf2gguf's deepseek2 and gpt-oss conversions run in node-llama-cpp (its
// bundled llama.cpp): ../shared's deepseek3-moe (MLA, stacked routed experts,
// shared experts, expert groups) as F16, gptoss-moe as converted (MXFP4
// experts kept, the rest F16: general.file_type 38) and gptoss-bf16-moe as
// F16, and a deepseek2 generated at deepseek3-moe's config widened to 256
// (wideDeepseek). Each loads, its tensor types are the ones llama.cpp sees,
// and a prompt evaluates to finite logits; a second evaluation from a fresh
// context gives the same logits (issue 16). The same for requant's Q4_K_M of
// the wide deepseek2 and of gptoss-bf16-moe.
//
// node-llama-cpp 3.22.1's CPU variant for AMX processors (sapphirerapids)
// aborts on deepseek2 graphs, whoever wrote the file: the test loads the
// next best variant (no-amx.mjs).
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
import { cpuWithoutAmx } from "./no-amx.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const build = path.resolve(repo, process.env.BUILD ?? "build");
const shared = process.env.GGUFKIT_SHARED ?? path.resolve(repo, "../shared");
const fixtures = path.join(shared, "fixtures", "hf-2026");
const haveShared = existsSync(path.join(fixtures, "gptoss-moe"));
if (!haveShared && process.env.CI === "true") throw new Error("../shared not found under CI=true");

// ggml type ids
const F16 = 1, Q5_0 = 6, Q8_0 = 8, Q4_K = 12, Q6_K = 14, MXFP4 = 39, MOSTLY_Q4_K_M = 15;
// BOS-free prompt: ids well inside both vocabularies (4 positions: each
// gives 129280-201088 logits, which node-llama-cpp hands over as pairs)
const PROMPT = [100, 2000, 300, 4000];

const CASES = [
  { name: "deepseek3-moe", arch: "deepseek2", tok: "deepseek_v3", vocab: 129280, fileType: 1,
    types: { "blk.1.ffn_gate_exps.weight": F16, "blk.0.attn_k_b.weight": F16 } },
  // deepseek3-moe's rows (16 wide) fit no quantized block, so llama-quantize
  // refuses its Q4_K_M as requant does; the Q4_K_M case is the same config
  // widened to 256 (wideDeepseek below)
  { name: "deepseek3-wide", arch: "deepseek2", tok: "deepseek_v3", vocab: 129280, fileType: 1,
    make: wideDeepseek,
    types: { "blk.1.ffn_gate_exps.weight": F16, "blk.0.attn_k_b.weight": F16 },
    // Q4_K_M's mixture: k-quants (Q4_K or Q6_K by layer), never a fallback
    q4: { "blk.1.ffn_gate_exps.weight": [Q4_K, Q6_K], "blk.1.ffn_down_exps.weight": [Q4_K, Q6_K],
      "blk.1.attn_q_b.weight": [Q4_K, Q6_K] } },
  { name: "gptoss-moe", arch: "gpt-oss", tok: "gptoss", vocab: 201088, fileType: 38,
    types: { "blk.0.ffn_gate_exps.weight": MXFP4, "blk.1.ffn_down_exps.weight": MXFP4,
      "blk.0.attn_q.weight": F16, "output.weight": F16 } },
  { name: "gptoss-bf16-moe", arch: "gpt-oss", tok: "gptoss", vocab: 201088, fileType: 1,
    types: { "blk.0.ffn_gate_exps.weight": F16, "blk.1.ffn_down_exps.weight": F16 },
    // 32-wide rows: k-quants fall back as llama-quantize's do
    q4: { "blk.0.ffn_gate_exps.weight": Q5_0, "blk.1.ffn_down_exps.weight": Q8_0 } },
];

let tmp, llama;

before(async () => {
  if (!haveShared) return;
  tmp = mkdtempSync(path.join(os.tmpdir(), "moe2-"));
  cpuWithoutAmx(tmp);
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

// deepseek3-moe's config with every row 256 wide or more (hidden, ranks,
// head dims, expert widths), random bf16 weights (fixed seed), norms 1:
// a checkpoint whose Q4_K_M really holds k-quants.
function wideDeepseek(dir) {
  const cfg = JSON.parse(readFileSync(path.join(fixtures, "deepseek3-moe", "config.json"), "utf8"));
  Object.assign(cfg, { hidden_size: 256, intermediate_size: 256, moe_intermediate_size: 256,
    q_lora_rank: 256, kv_lora_rank: 256, qk_nope_head_dim: 128, qk_rope_head_dim: 64, v_head_dim: 128 });
  writeFileSync(path.join(dir, "config.json"), JSON.stringify(cfg, null, 2));
  copyFileSync(path.join(fixtures, "deepseek3-moe", "tokenizer_config.json"), path.join(dir, "tokenizer_config.json"));
  const H = 256, R = 256, heads = cfg.num_attention_heads, qk = 128 + 64;
  const shapes = [["model.embed_tokens.weight", [cfg.vocab_size, H]], ["model.norm.weight", [H]]];
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `model.layers.${l}.`, a = `${p}self_attn.`;
    shapes.push([`${p}input_layernorm.weight`, [H]], [`${p}post_attention_layernorm.weight`, [H]],
      [`${a}q_a_proj.weight`, [R, H]], [`${a}q_a_layernorm.weight`, [R]], [`${a}q_b_proj.weight`, [heads * qk, R]],
      [`${a}kv_a_proj_with_mqa.weight`, [R + 64, H]], [`${a}kv_a_layernorm.weight`, [R]],
      [`${a}kv_b_proj.weight`, [heads * (128 + 128), R]], [`${a}o_proj.weight`, [H, heads * 128]]);
    const mlp = (q, ff) => shapes.push([`${q}gate_proj.weight`, [ff, H]], [`${q}up_proj.weight`, [ff, H]],
      [`${q}down_proj.weight`, [H, ff]]);
    if (l < cfg.first_k_dense_replace) { mlp(`${p}mlp.`, 256); continue; }
    shapes.push([`${p}mlp.gate.weight`, [cfg.n_routed_experts, H]], [`${p}mlp.gate.e_score_correction_bias`, [cfg.n_routed_experts]]);
    for (let e = 0; e < cfg.n_routed_experts; e++) mlp(`${p}mlp.experts.${e}.`, 256);
    mlp(`${p}mlp.shared_experts.`, 256);
  }
  let seed = 16;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5);
  const hdr = {}, parts = [];
  let off = 0;
  const f32 = new Float32Array(1), u16 = new Uint16Array(f32.buffer);
  for (const [name, shape] of shapes) {
    const n = shape.reduce((x, y) => x * y), bias = name.endsWith("bias");
    const buf = Buffer.alloc(n * (bias ? 4 : 2));
    for (let i = 0; i < n; i++) {
      f32[0] = name.includes("norm") ? 1 : bias ? 0 : rand() * 0.2;
      if (bias) buf.writeFloatLE(f32[0], 4 * i);
      else buf.writeUInt16LE(u16[1], 2 * i);
    }
    hdr[name] = { dtype: bias ? "F32" : "BF16", shape, data_offsets: [off, off + buf.length] };
    parts.push(buf);
    off += buf.length;
  }
  let h = Buffer.from(JSON.stringify(hdr), "utf8");
  h = Buffer.concat([h, Buffer.alloc((8 - (h.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  writeFileSync(path.join(dir, "model.safetensors"), Buffer.concat([len, h, ...parts]));
}

// The checkpoint with its tokenizer.json unpacked, converted with --outtype f16.
function convert(c) {
  const dir = path.join(tmp, c.name);
  mkdirSync(dir);
  if (c.make) c.make(dir);
  else for (const f of readdirSync(path.join(fixtures, c.name)))
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

// Loads MODEL, checks its file type and the tensor types TYPES, evaluates
// the prompt twice: every logit finite, both runs equal, not all zero.
async function checkModel(label, c, modelPath, fileType, types) {
  const model = await llama.loadModel({ modelPath });
  try {
    const md = model.fileInfo.metadata;
    assert.equal(md.general.architecture, c.arch);
    assert.equal(md.general.file_type, fileType, `${label}: general.file_type`);
    const info = new Map(model.fileInfo.fullTensorInfo.map((t) => [t.name, t.ggmlType]));
    for (const [name, type] of Object.entries(types))
      assert.ok([type].flat().includes(info.get(name)), `${label}: ${name} has ggml type ${info.get(name)}`);
    const nVocab = c.vocab;
    const a = await evaluate(model, nVocab), b = await evaluate(model, nVocab);
    assert.equal(a.length, PROMPT.length);
    let sum = 0;
    for (let i = 0; i < a.length; i++) {
      const bad = a[i].findIndex((v) => !Number.isFinite(v));
      assert.equal(bad, -1, `${label}: position ${i}, token ${bad}: logit ${a[i][bad]}`);
      assert.deepEqual(b[i], a[i], `${label}: position ${i} differs between two runs`);
      for (const v of a[i]) sum += v * v;
    }
    const rms = Math.sqrt(sum / (a.length * nVocab));
    assert.ok(rms > 0, `${label}: every logit is 0`);
    console.log(`# ${label}: ${a.length} positions x ${nVocab} logits, rms ${rms.toExponential(3)}`);
  } finally {
    await model.dispose();
  }
}

for (const c of CASES) {
  test(`${c.name}: node-llama-cpp evaluates hf2gguf's conversion${c.q4 ? " and its Q4_K_M" : ""}`,
    { timeout: 300000, skip: !haveShared && "no ../shared" }, async () => {
      const gguf = convert(c);
      await checkModel(c.name, c, gguf, c.fileType, c.types);
      if (!c.q4) return;
      const q4 = path.join(tmp, `${c.name}-Q4_K_M.gguf`);
      execFileSync(path.join(build, "bin", "requant"), ["-q", gguf, q4, "Q4_K_M"]);
      await checkModel(`${c.name} Q4_K_M`, c, q4, MOSTLY_Q4_K_M, c.q4);
    });
}
