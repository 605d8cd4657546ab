# --keep-quant on ../shared's GPTQ checkpoints (ec562eb's goldens): the
# metadata and every float tensor are the golden's bytes (--outtype f16),
# the 14 linear weights Q4_0 instead; on the symmetric g128 checkpoint they
# dequantize exactly to the default path's f32 (zero error on every
# tensor), on the act-order one every weight whose input dimension is one
# group (all but ffn_down) does, and --keep-quant=strict refuses it.
. "$SRC/tests/cli/lib.sh"
need_shared
. "$SRC/tests/cli/hf2gguf/keep-quant.inc"
g="$SHARED/golden/convert-2026"
for name in llama-gptq-g128-sym llama-gptq-g128-sym-descact; do
    mkdir "$name"
    for f in "$SHARED/fixtures/hf-2026/$name"/*; do
        ln "$f" "$name/" 2>/dev/null || cp "$f" "$name/"
    done
    hf2gguf -q --config-as-written --keep-quant --outtype f16 -o kq.gguf "$name"
    python3 "$SRC/tests/cli/hf2gguf/gguf_tables.py" kq.gguf kq.meta.tsv kq.tensors.tsv
    diff "$g/$name.f16.meta.tsv" kq.meta.tsv >&2 || fail "$name: metadata differs from the golden"
    grep -v '	Q4_0	' kq.tensors.tsv > kq.float.tsv
    [ "$(grep -c '	Q4_0	' kq.tensors.tsv)" = 14 ] || fail "$name: not 14 Q4_0 weights"
    grep -Fxf kq.float.tsv "$g/$name.f16.tensors.tsv" | cmp - kq.float.tsv >&2 ||
        fail "$name: float tensors differ from the golden"
    hf2gguf -q --outtype f32 -o f32.gguf "$name"
    hf2gguf -q --keep-quant --outtype f32 -o kq32.gguf "$name"
    if [ "$name" = llama-gptq-g128-sym ]; then
        kq_zero_error f32.gguf kq32.gguf > types
        printf 'F32 8\nQ4_0 14\n' | diff - types >&2 || fail "$name: types"
    else
        gguf-verify diff --json f32.gguf kq32.gguf > diff.json
        python3 - diff.json <<'PY' || fail "$name: exact weights differ"
import json, sys
for t in json.load(open(sys.argv[1]))["tensors"]:
    err = t["metrics"]["max_abs_err"]
    assert (err != 0) == ("ffn_down" in t["name"]), (t["name"], err)
PY
        if hf2gguf -q --keep-quant=strict -o s.gguf "$name" 2> err; then fail "strict passed"; fi
        grep -q "mlp.down_proj.weight': 1024 of 1024 blocks cannot be kept exactly" err || fail "$(cat err)"
        assert_no_file s.gguf
    fi
    rm -f ./*.gguf
done
echo ok
