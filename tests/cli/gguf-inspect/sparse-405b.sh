# a header describing a 405B-parameter model over a sparse ~810 GB file is
# inspected instantly, reading only the header, in bounded memory
"$BUILD/fixtures/make_gguf" --preset llama-405b --sparse big.gguf
[ "$(stat -c %s big.gguf)" -gt 800000000000 ] || { echo "FAIL: not 800 GB" >&2; exit 99; }
start=$(date +%s%N)
( ulimit -v 1000000; gguf-inspect --json --no-kv big.gguf > big.json )
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
[ "$ms" -lt 1000 ] || { echo "FAIL: took $ms ms" >&2; exit 99; }
node -e 'const s=JSON.parse(require("fs").readFileSync("big.json")).summary; if (s.parameters_label !== "406B" && !s.parameters_label.endsWith("B")) process.exit(1); if (s.parameters < 4e11) process.exit(1)'
