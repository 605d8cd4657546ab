# --tensor, --sort, --layers, --no-kv, --no-tensors
. "$SRC/tests/cli/lib.sh"
need_shared
m=$SHARED/fixtures/ref-llama-f16.gguf
n=$(gguf-inspect --json --tensor 'attn_q\.weight$' "$m" | node -pe 'JSON.parse(require("fs").readFileSync(0)).tensors.length')
[ "$n" = 8 ] || fail "regex matched $n"
first=$(gguf-inspect --json --sort size "$m" | node -pe 'const t=JSON.parse(require("fs").readFileSync(0)).tensors; t[0].bytes >= t[t.length-1].bytes')
[ "$first" = true ] || fail "sort size"
gguf-inspect --layers "$m" | grep -q '^  blk.7 ' || fail "layers view"
gguf-inspect --no-kv --no-tensors "$m" | grep -q '^metadata (' && fail "--no-kv"
gguf-inspect --json --no-kv --no-tensors "$m" | node -e 'const j=JSON.parse(require("fs").readFileSync(0)); if (j.metadata || j.tensors) process.exit(1)'
gguf-inspect --tensor '(' "$m" 2>err.txt && fail "bad regex accepted"
grep -q "bad --tensor regex" err.txt || fail "bad regex message"
