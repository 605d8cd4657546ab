#!/bin/sh
# bench/gguf2onnx.sh -- gguf2onnx conversion throughput next to `cp` of the
# same GGUF, with peak RSS (bounded: weights stream row by row into
# model.onnx.data), for a generated llama model as Q4_0 (exact MatMulNBits
# repack) and F16 (dequantized to f32); then, for information, ONNX Runtime
# decode tokens/s of the produced models next to llama.cpp on the same GGUF
# (bench/decode-speed.mjs: onnxruntime-node and node-llama-cpp from
# tests/interop/node_modules). bench/gguf2onnx-families.sh does the same for
# every family gguf2onnx converts.
#   BUILD=build bench/gguf2onnx.sh [LAYERS EMBD FF]   (default 8 1024 2816)
# Without ../shared (the Llama 2 tokenizer llama.cpp needs) or node, only the
# conversion part runs.
set -eu
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
case "$BUILD" in /*) ;; *) BUILD="$root/$BUILD" ;; esac
for p in gguf2onnx hf2gguf requant; do
    [ -x "$BUILD/bin/$p" ] || { echo "bench/gguf2onnx.sh: $BUILD/bin/$p not built" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "bench/gguf2onnx.sh: /usr/bin/time (GNU time) needed" >&2; exit 2; }
layers=${1:-8} embd=${2:-1024} ff=${3:-2816}
dir=$(mktemp -d "${TMPDIR:-/tmp}/gguf2onnx-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
tokm="$root/../shared/fixtures/real/llama2-tokenizer.model"
if [ -f "$tokm" ]; then
    "$BUILD/fixtures/make_hf" --arch llama --layers "$layers" --embd "$embd" --ff "$ff" --heads 16 \
        --kv-heads 4 --vocab 32000 --dtype f16 --tokenizer-model "$tokm" "$dir/hf" > /dev/null
    "$BUILD/bin/hf2gguf" -q --outtype f16 "$dir/hf" -o "$dir/F16.gguf"
    rm -rf "$dir/hf"
else
    echo "(../shared not found: synthetic vocabulary, no llama.cpp comparison)"
    "$BUILD/fixtures/make_gguf" --layers "$layers" --embd "$embd" --ff "$ff" --heads 16 --kv-heads 4 \
        --vocab 32000 "$dir/F16.gguf"
fi
"$BUILD/bin/requant" -q "$dir/F16.gguf" "$dir/Q4_0.gguf" Q4_0
echo "model: llama $layers layers, embd $embd, ff $ff, vocab 32000; $("$BUILD/bin/gguf2onnx" --version); load average $(cut -d" " -f1-3 /proc/loadavg)"
rate() { awk -v s="$1" -v t="$2" 'BEGIN { printf "%8.2f s  %7.0f MB/s", t, s / 1e6 / (t > 0 ? t : 1e-9) }'; }
for t in Q4_0 F16; do
    g="$dir/$t.gguf"
    size=$(stat -c %s "$g")
    cat "$g" > /dev/null
    /usr/bin/time -f '%e %M' -o "$dir/time" cp "$g" "$dir/copy.gguf"
    read -r secs rss < "$dir/time"
    echo "cp                $t $(printf '%8.1f' "$(echo "$size" | awk '{ print $1 / 1e6 }')") MB  $(rate "$size" "$secs")"
    rm -f "$dir/copy.gguf"
    /usr/bin/time -f '%e %M' -o "$dir/time" "$BUILD/bin/gguf2onnx" -q "$g" "$dir/onnx-$t"
    read -r secs rss < "$dir/time"
    out=$(du -sb "$dir/onnx-$t" | cut -f1)
    echo "gguf2onnx (+fsync) $t $(printf '%8.1f' "$(echo "$size" | awk '{ print $1 / 1e6 }')") MB  $(rate "$size" "$secs")  -> $((out / 1000000)) MB, peak RSS $((rss / 1024)) MB"
done
command -v node > /dev/null && [ -f "$tokm" ] || exit 0
# the timing helper is copied into the temp dir, next to a node_modules
# symlink through which it finds onnxruntime-node and node-llama-cpp
ln -s "$root/tests/interop/node_modules" "$dir/node_modules"
cp "$root/bench/decode-speed.mjs" "$dir/"
for t in Q4_0 F16; do
    echo "decode $t: $(G="$dir/$t.gguf" O="$dir/onnx-$t" node "$dir/decode-speed.mjs" 2>&1 | tail -n 1) (32 steps after a 32-token prefill)"
done
