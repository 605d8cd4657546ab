# --json is streamed (formats/jsonw) yet byte-identical to the jansson tree
# dump it replaced: xxh64 digests pinned from the jansson-built binary
# (commit 3dd7f56) for real vocabularies, the ref model, a make_gguf model
# with --mem/--layers, a safetensors checkpoint and a GGUF of hostile strings
# and reals (mkstrings.py). Paths are relative: they appear in the output.
# If make_gguf or mkhostile.py change what they write, re-pin with a build
# of 3dd7f56's inspect/json.c (nothing else may move these digests).
# ref-mem and tiny-mem were re-pinned when --mem gained "amx_bytes" per
# device and params.amx: with those two keys removed, the new output equals
# the old byte for byte (checked with jq). --amx off: the plan must not
# depend on the machine's CPU.
. "$SRC/tests/cli/lib.sh"
need_shared
for f in "$SHARED"/fixtures/real/*.gguf "$SHARED"/fixtures/ref-llama-f16.gguf; do
    ln -s "$f" "$(basename "$f")"
done
ln -s "$SHARED/fixtures/hf-tiny-llama-bf16" st
"$BUILD/fixtures/make_gguf" --preset tiny tiny.gguf > /dev/null
python3 "$SRC/tests/cli/gguf-inspect/mkstrings.py" strings.gguf
python3 "$SRC/tests/cli/hostile/mkhostile.py" gguf-escapes escapes.gguf
digest() { # NAME ARGS...: one line "NAME DIGEST" of gguf-inspect --json ARGS
    name=$1
    shift
    gguf-inspect --json "$@" > out.json || fail "$name: exit $?"
    echo "$name $(xxh64sum < out.json | cut -d' ' -f1)"
}
{
    for f in ggml-vocab-*.gguf llama-2-tiny-random.gguf ref-llama-f16.gguf; do
        digest "$f" "$f"
    done
    digest ref-mem --mem --amx off --layers ref-llama-f16.gguf
    digest tiny tiny.gguf
    digest tiny-mem --mem --amx off --layers --no-kv tiny.gguf
    digest tiny-filter --no-kv --tensor 'blk\.0\.' --sort size tiny.gguf
    digest strings strings.gguf
    digest escapes escapes.gguf
    digest st st
    digest st-file st/model.safetensors
} > got.txt
cat > want.txt <<'PINNED'
ggml-vocab-bert-bge.gguf d1f0cfaafc78e915
ggml-vocab-falcon.gguf 73912b9685e6e462
ggml-vocab-gpt-2.gguf fd1cca60f59b1e05
ggml-vocab-llama-spm.gguf 9de7fa8177aefa9a
ggml-vocab-phi-3.gguf f1111c080383f873
ggml-vocab-starcoder.gguf 4466ad639bdae653
llama-2-tiny-random.gguf 3f3623b5202d6f4a
ref-llama-f16.gguf 918d27d45a95080a
ref-mem 01daa39774af038b
tiny f7246bf389e12cbc
tiny-mem 4005d43006a31381
tiny-filter 8f43133c690ed0ff
strings 1883c86beeff4c2f
escapes 4b543a8e72c0c58d
st 5913b6851338a82a
st-file 5913b6851338a82a
PINNED
diff want.txt got.txt || fail "--json output differs from the pinned digests"
