# our check accepts llama-gguf-hash's manifest (the pinned output of
# llama-manifest.sh) and reports a tampered copy
. "$SRC/tests/cli/lib.sh"
need_shared
cp "$SHARED/fixtures/ref-llama-f16.gguf" ref-llama-f16.gguf
# names are relative to the manifest's directory: keep it beside the model
cp "$SRC/tests/cli/gguf-verify/llama-manifest.stdout.exact" llama.manifest
man=llama.manifest
gguf-verify check "$man" > out.txt 2> err.txt || fail "llama manifest: $(cat err.txt)"
[ "$(grep -c ': OK$' out.txt)" = 229 ] || fail "OK count"
grep -qx 'ref-llama-f16.gguf: OK' out.txt || fail "model line"
printf '\001' | dd of=ref-llama-f16.gguf bs=1 seek=$(( $(stat -c %s ref-llama-f16.gguf) - 5 )) \
    conv=notrunc 2>/dev/null
gguf-verify check --quiet "$man" > out.txt && fail "tampered copy passed"
[ "$(grep -c 'FAILED$' out.txt)" = 7 ] || fail "3 tensor + 4 model lines fail: $(cat out.txt)"
