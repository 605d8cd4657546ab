# per-tensor digests cover tensor data only: a rewrite with other metadata
# (requant to the same type, with extra keys) keeps every tensor's digest.
# (requant writes tensors in llama-quantize's order, and llama-gguf-hash's
# whole-model digest follows tensor order, so only the unit test, which
# keeps the order, pins the whole-model line across a metadata change.)
. "$SRC/tests/cli/lib.sh"
need_shared
ln -s "$SHARED/fixtures/ref-llama-f16.gguf" m.gguf
requant -q --override-kv general.name=str:renamed --override-kv my.extra=int:7 m.gguf r.gguf F16
cmp -s m.gguf r.gguf && fail "rewrite is identical"
[ "$(gguf-inspect --key my.extra r.gguf)" = 7 ] || fail "extra key missing"
gguf-verify hash --all --xxh128 m.gguf | grep ':' | sed 's/  m\.gguf:/  X:/' | sort > a.txt
gguf-verify hash --all --xxh128 r.gguf | grep ':' | sed 's/  r\.gguf:/  X:/' | sort > b.txt
[ "$(wc -l < a.txt)" = 375 ] || fail "line count"
cmp a.txt b.txt || fail "digests changed with metadata: $(diff a.txt b.txt | head -4)"
gguf-verify hash --whole m.gguf r.gguf | awk '{ print $1 }' | uniq | wc -l | grep -qx 2 ||
    fail "whole-file digests should differ"
gguf-verify hash m.gguf | grep ':' > m.manifest
gguf-verify check --quiet m.manifest r.gguf || fail "check with FILE override"
