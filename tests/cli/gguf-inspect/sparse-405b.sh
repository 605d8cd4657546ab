# a header describing a 405B-parameter model over a sparse ~810 GB file is
# inspected reading only the header, in bounded memory (mapping the data
# would need far more address space than ulimit -v allows)
"$BUILD/fixtures/make_gguf" --preset llama-405b --sparse big.gguf
[ "$(stat -c %s big.gguf)" -gt 800000000000 ] || { echo "FAIL: not 800 GB" >&2; exit 99; }
# ASan reserves terabytes of shadow address space: cap memory only for the
# plain build
case "$PATH" in *asan*) ;; *) ulimit -v 1000000 ;; esac
gguf-inspect --json --no-kv big.gguf > big.json || { echo "FAIL: exit $?" >&2; exit 99; }
node -e 'const s=JSON.parse(require("fs").readFileSync("big.json")).summary; if (s.parameters_label !== "406B" && !s.parameters_label.endsWith("B")) process.exit(1); if (s.parameters < 4e11) process.exit(1)'
