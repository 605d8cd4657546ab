// node-llama-cpp 3.22.1 picks its CPU variant at run time, the best one the
// processor runs. On AMX processors that is sapphirerapids, whose AMX
// buffers make llama.cpp abort on deepseek2 graphs (ggml-backend.cpp:
// GGML_ASSERT(*cur_backend_id != -1)), whoever wrote the file: MLA's 3-D
// attn_k_b/attn_v_b are placed in the AMX buffer, then multiplied by a
// non-contiguous activation that AMX refuses. cpuWithoutAmx() makes the
// calling test process load the prebuilt binaries from a copy of the
// package whose bins lack that variant (symlinks, no copying), so llama.cpp
// takes the next best one. Call it before getLlama(). On processors without
// AMX it changes nothing.
import { copyFileSync, mkdirSync, readdirSync, symlinkSync } from "node:fs";
import { register } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const PACKAGE = "@node-llama-cpp/linux-x64";
const AMX_VARIANT = "libggml-cpu-sapphirerapids.so";

export function cpuWithoutAmx(tmp) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.resolve(PACKAGE))), "..");
  const copy = path.join(tmp, "node-llama-cpp-no-amx");
  mkdirSync(path.join(copy, "dist"), { recursive: true });
  copyFileSync(path.join(root, "package.json"), path.join(copy, "package.json"));
  copyFileSync(path.join(root, "dist", "index.js"), path.join(copy, "dist", "index.js"));
  for (const platform of readdirSync(path.join(root, "bins"))) {
    mkdirSync(path.join(copy, "bins", platform), { recursive: true });
    for (const f of readdirSync(path.join(root, "bins", platform)))
      if (f !== AMX_VARIANT)
        symlinkSync(path.join(root, "bins", platform, f), path.join(copy, "bins", platform, f));
  }
  const target = pathToFileURL(path.join(copy, "dist", "index.js")).href;
  const hooks = `export async function resolve(s, c, next) {
    return s === ${JSON.stringify(PACKAGE)} ? { url: ${JSON.stringify(target)}, shortCircuit: true } : next(s, c);
  }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
}
