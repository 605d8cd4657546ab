// README.md's ONNX Runtime example, run verbatim on make demo's own model.
//
// The ```js block is cut out of README.md at test time (so the two cannot
// drift), saved next to a node_modules link, and run on the model that
// scripts/demo builds: its make_hf arguments are read from scripts/demo's
// model_args line, its tokenizer is Qwen3's (scripts/demo.mjs tokenizer),
// converted to f16, quantized to Q4_0 and exported by gguf2onnx (exact
// MatMulNBits). The example's prompt ids and greedy tokens must equal
// llama.cpp's (scripts/demo.mjs llama: node-llama-cpp tokenizing the same
// text and decoding greedily), which is also what make demo shows.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const build = path.resolve(repo, process.env.BUILD ?? "build");
const run = (prog, args) => execFileSync(prog, args, { encoding: "utf8", maxBuffer: 1 << 24 });
const bin = (p) => path.join(build, "bin", p);
const TEXT = "Once upon a time";
let tmp;

before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "readme-"));
  mkdirSync(path.join(tmp, "js"));
  symlinkSync(path.join(here, "node_modules"), path.join(tmp, "js", "node_modules"));
  copyFileSync(path.join(repo, "scripts", "demo.mjs"), path.join(tmp, "js", "demo.mjs"));
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test("README's JS example runs on the demo's model and agrees with llama.cpp", { timeout: 300000 }, () => {
  const blocks = [...readFileSync(path.join(repo, "README.md"), "utf8").matchAll(/^```js\n([\s\S]*?)^```$/gm)];
  assert.equal(blocks.length, 1, "README.md has one ```js block");
  const example = path.join(tmp, "js", "run-onnx.mjs");
  writeFileSync(example, blocks[0][1]);

  const demo = readFileSync(path.join(repo, "scripts", "demo"), "utf8");
  const m = demo.match(/^model_args="([^"]*)"$/m);
  assert.ok(m, "scripts/demo has a model_args line");
  const at = (f) => path.join(tmp, f);
  mkdirSync(at("tok"));
  run("node", [at("js/demo.mjs"), "tokenizer", at("tok")]);
  run(path.join(build, "fixtures", "make_hf"), [...m[1].split(" "), "--tokenizer-json", at("tok/tokenizer.json"),
    "--tokenizer-config", at("tok/tokenizer_config.json"), at("hf")]);
  run(bin("hf2gguf"), ["-q", "--outtype", "f16", at("hf"), "-o", at("f16.gguf")]);
  run(bin("requant"), ["-q", at("f16.gguf"), at("q4_0.gguf"), "Q4_0"]);
  run(bin("gguf2onnx"), ["-q", at("q4_0.gguf"), at("onnx")]);

  const ort = JSON.parse(run("node", [example, at("onnx"), TEXT]));
  const ref = JSON.parse(run("node", [at("js/demo.mjs"), "llama", at("q4_0.gguf"), TEXT, "16"]));
  console.log(`# onnxruntime ${JSON.stringify(ort)}\n# llama.cpp   ${JSON.stringify(ref)}`);
  assert.ok(ort.prompt.length > 1 && ort.prompt.every((t) => Number.isInteger(t) && t >= 0 && t < 151936));
  assert.deepEqual(ort.prompt, ref.prompt, "the rebuilt tokenizer.json tokenizes as llama.cpp");
  assert.equal(ort.tokens.length, 16);
  // measured: all 16 equal (x86-64, node-llama-cpp 3.22.1). llama.cpp rounds
  // activations to 8 bits before its Q4_0 matmuls, so another CPU's build may
  // break a near tie late in the run: the first 12 must agree
  let same = 0;
  while (same < 16 && ort.tokens[same] === ref.tokens[same]) same++;
  console.log(`# ${same} of 16 greedy tokens equal`);
  assert.ok(same >= 12, `only the first ${same} greedy tokens equal llama.cpp's`);
  assert.equal(typeof ort.text, "string");
});
