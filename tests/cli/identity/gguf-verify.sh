# gguf-verify: every manifest kind, --whole, and the diff report.
. "$SRC/tests/cli/identity/_identity.inc"
"$BUILD/fixtures/make_gguf" --preset tiny m.gguf
requant -q m.gguf q.gguf Q4_K_M
gguf-verify hash m.gguf > xxh64.txt
gguf-verify hash --all --uuid m.gguf > all.txt
gguf-verify hash --xxh128 --no-layer m.gguf > xxh128.txt
gguf-verify hash --whole m.gguf q.gguf > whole.txt
gguf-verify diff --json m.gguf q.gguf > diff.json
digest *.txt diff.json
