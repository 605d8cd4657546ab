# --outtype auto on mixtures of experts (LlamaFileType.GUESSED): the BF16
# mixtral-moe checkpoint converts to exactly ec562eb's --outtype bf16
# tables, stacked experts included; an F16 qwen2moe checkpoint gives
# file_type 1 with F16 stacks and F32 routers.
. "$SRC/tests/cli/lib.sh"
need_shared
name=mixtral-moe g="$SHARED/golden/convert-2026"
mkdir "$name"
for f in "$SHARED/fixtures/hf-2026/$name"/*; do
    ln "$f" "$name/" 2>/dev/null || cp "$f" "$name/"
done
hf2gguf -q --config-as-written --outtype auto -o auto.gguf "$name"
python3 "$SRC/tests/cli/hf2gguf/gguf_tables.py" auto.gguf meta.tsv tensors.tsv
diff "$g/$name.bf16.meta.tsv" meta.tsv >&2 || fail "auto: metadata differs from the bf16 golden"
diff "$g/$name.bf16.tensors.tsv" tensors.tsv >&2 || fail "auto: tensors differ from the bf16 golden"
"$BUILD/fixtures/make_hf" --arch qwen2moe --dtype f16 --layers 1 --embd 64 --ff 128 --vocab 320 q >/dev/null
hf2gguf -q --pre qwen2 -o q.gguf q
gguf-inspect q.gguf > q.txt
grep -q 'MOSTLY_F16 (1)' q.txt || fail "qwen2moe f16: not MOSTLY_F16"
grep -Eq 'blk\.0\.ffn_gate_exps\.weight +F16 +64 x 64 x 4 ' q.txt || fail "ffn_gate_exps not F16 {64, 64, 4}"
grep -Eq 'blk\.0\.ffn_gate_inp\.weight +F32 ' q.txt || fail "router not F32"
grep -Eq 'blk\.0\.ffn_gate_inp_shexp\.weight +F32 +64 x 1 ' q.txt || fail "shared gate not F32 {64, 1}"
echo ok
