# requant on the layouts convert_hf_to_gguf.py ec562eb writes for gpt-oss
# (experts already MXFP4, their biases, attention sinks, tied embeddings)
# and qwen2moe (shared expert ffn_*_shexp with its 1-D ffn_gate_inp_shexp,
# QKV biases) is byte-identical to llama-quantize ec562eb: per tensor
# (moe-golden/NAME.PRESET.tsv) and whole file (moe-golden/files.txt).
#
# The models are built from ../shared/golden/convert-2026/NAME.f16.*.tsv by
# moe-family.py (names, types, order and scalar metadata of the golden,
# weight dimensions x16, deterministic bytes); the tables were made with
# llama.cpp ec562eb's tools/quantize in one directory:
#   python3 moe-family.py $G/NAME.f16.meta.tsv $G/NAME.f16.tensors.tsv NAME.gguf
#   tensor_hashes NAME.gguf > NAME.input.tsv
#   python3 moe-imatrix.py NAME.imatrix.gguf < NAME.input.tsv
#   llama-quantize --allow-requantize NAME.gguf NAME-P.gguf P 2   (P = Q4_K_M Q3_K_M MXFP4_MOE)
#   llama-quantize --allow-requantize --imatrix NAME.imatrix.gguf NAME.gguf NAME-IQ4_XS.gguf IQ4_XS 2
#   tensor_hashes NAME-P.gguf > NAME.P.tsv; xxh64sum NAME-P.gguf   (files.txt)
# (--allow-requantize: gpt-oss's experts are MXFP4; MXFP4_MOE copies them.)
. "$SRC/tests/cli/lib.sh"
need_shared
HERE="$SRC/tests/cli/requant"
GOLD="$HERE/moe-golden"
G="$SHARED/golden/convert-2026"
HASHES="$BUILD/fixtures/tensor_hashes"
[ -x "$HASHES" ] || fail "$HASHES not built (make BUILD=... all)"
case "$(command -v requant)" in */asan/*) ASAN=1 ;; *) ASAN=0 ;; esac
bad=0
for n in gptoss-moe qwen2-moe; do
    python3 "$HERE/moe-family.py" "$G/$n.f16.meta.tsv" "$G/$n.f16.tensors.tsv" $n.gguf
    "$HASHES" $n.gguf > $n.input.tsv
    cmp -s $n.input.tsv "$GOLD/$n.input.tsv" || fail "$n: the generated model changed (re-make the tables)"
    python3 "$HERE/moe-imatrix.py" $n.imatrix.gguf < $n.input.tsv
    for p in Q4_K_M Q3_K_M MXFP4_MOE IQ4_XS; do
        [ "$ASAN" = 1 ] && [ $p = Q3_K_M ] && continue
        im=""
        [ $p = IQ4_XS ] && im="--imatrix $n.imatrix.gguf"
        # shellcheck disable=SC2086
        requant -q -j 2 --allow-requantize $im $n.gguf $n-$p.gguf $p 2>/dev/null
        "$HASHES" $n-$p.gguf > got.tsv
        if ! cmp -s got.tsv "$GOLD/$n.$p.tsv"; then
            echo "$n $p: $(diff got.tsv "$GOLD/$n.$p.tsv" | grep -c '^<') tensors differ" >&2
            bad=$((bad + 1))
        elif ! grep -q "^$n $p $(xxh64sum $n-$p.gguf | cut -d' ' -f1)\$" "$GOLD/files.txt"; then
            echo "$n $p: tensors equal, file bytes (metadata) differ" >&2
            bad=$((bad + 1))
        fi
        rm -f $n-$p.gguf
    done
done
[ "$bad" = 0 ] || fail "$bad outputs differ from llama-quantize ec562eb"
# what the tables pin
grep -q '^blk.0.ffn_down_exps.weight	MXFP4	' "$GOLD/gptoss-moe.MXFP4_MOE.tsv" || fail "table: MXFP4 kept"
grep -q '^blk.1.ffn_down_exps.weight	Q6_K	' "$GOLD/gptoss-moe.Q4_K_M.tsv" || fail "table: MXFP4 requantized"
grep -q '^blk.0.ffn_gate_inp_shexp.weight	F32	' "$GOLD/qwen2-moe.Q4_K_M.tsv" || fail "table: shexp gate"
