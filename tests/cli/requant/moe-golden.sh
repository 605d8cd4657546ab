# Mixture-of-experts requant is byte-identical to llama-quantize at llama.cpp
# ec562eb: per-tensor types and xxh64 (moe-golden/FIX.PRESET.tsv) and the
# xxh64 of the whole file (moe-golden/files.txt) for three generated MoE
# models and four presets. What the fixtures exercise:
#   mix  llama with 8 experts (Mixtral's layout): the n_expert == 8 rules
#        (attn_v/attn_k Q8_0, attn_output Q5_K), ffn_*_exps layers from the
#        name, the router kept F32;
#   ds2  deepseek2 with 16 experts, a leading dense block, shared experts
#        (ffn_*_shexp) and the legacy fused MLA attn_kv_b (ruled and counted
#        as attn_v in ec562eb);
#   mla  deepseek2 as current converters write it: 3-D attn_k_b {128,256,2}
#        (row length 128: K types fall back, MXFP4_MOE makes it MXFP4 since
#        ne[2] > 1) and attn_v_b, 4 experts.
# IQ4_XS runs with a GGUF imatrix holding a {ne0, n_expert} in_sum2 and
# {1, n_expert} counts per expert tensor, one expert with count 0: every
# expert is quantized with its own slice.
#
# How the tables were made (ggufkit 74917ec, llama.cpp ec562eb built with
# cmake, tools/quantize; run in one directory, names as below since the
# imatrix path is written into the file):
#   make_gguf --layers 4 --embd 256 --ff 256 --heads 4 --kv-heads 2 \
#       --experts 8 --experts-used 2 --vocab 512 mix.gguf
#   make_gguf --arch deepseek2 --layers 4 --embd 256 --ff 256 --heads 2 \
#       --experts 16 --experts-used 4 --qk-nope 128 --qk-rope 64 --v-head 128 \
#       --vocab 512 ds2.gguf
#   make_gguf --arch deepseek2 --mla --layers 3 --embd 256 --ff 512 \
#       --expert-ff 256 --heads 2 --experts 4 --experts-used 2 --qk-nope 128 \
#       --qk-rope 64 --v-head 128 --vocab 512 --seed 7 mla.gguf
#   for f in mix ds2 mla:
#     tensor_hashes $f.gguf > $f.F16.tsv
#     python3 moe-imatrix.py $f.imatrix.gguf < $f.F16.tsv
#     llama-quantize $f.gguf $f-P.gguf P 2          (P = Q4_K_M Q3_K_M MXFP4_MOE)
#     llama-quantize --imatrix $f.imatrix.gguf $f.gguf $f-IQ4_XS.gguf IQ4_XS 2
#     tensor_hashes $f-P.gguf > $f.P.tsv; xxh64sum $f-P.gguf  (files.txt)
# The same fixtures were also compared with llama-quantize for every other
# preset, with and without the imatrix (all identical, not stored).
. "$SRC/tests/cli/lib.sh"
HERE="$SRC/tests/cli/requant"
GOLD="$HERE/moe-golden"
HASHES="$BUILD/fixtures/tensor_hashes"
MAKE="$BUILD/fixtures/make_gguf"
[ -x "$HASHES" ] && [ -x "$MAKE" ] || fail "fixtures not built (make BUILD=... all)"
case "$(command -v requant)" in */asan/*) ASAN=1 ;; *) ASAN=0 ;; esac
"$MAKE" --layers 4 --embd 256 --ff 256 --heads 4 --kv-heads 2 \
    --experts 8 --experts-used 2 --vocab 512 mix.gguf
"$MAKE" --arch deepseek2 --layers 4 --embd 256 --ff 256 --heads 2 \
    --experts 16 --experts-used 4 --qk-nope 128 --qk-rope 64 --v-head 128 \
    --vocab 512 ds2.gguf
"$MAKE" --arch deepseek2 --mla --layers 3 --embd 256 --ff 512 \
    --expert-ff 256 --heads 2 --experts 4 --experts-used 2 --qk-nope 128 \
    --qk-rope 64 --v-head 128 --vocab 512 --seed 7 mla.gguf
bad=0
for f in mix ds2 mla; do
    "$HASHES" $f.gguf > $f.F16.tsv
    cmp -s $f.F16.tsv "$GOLD/$f.F16.tsv" || fail "$f: make_gguf's fixture changed (re-make the tables)"
    python3 "$HERE/moe-imatrix.py" $f.imatrix.gguf < $f.F16.tsv
    for p in Q4_K_M Q3_K_M MXFP4_MOE IQ4_XS; do
        # ASan: the presets with imatrix slices and 3-D MXFP4 only
        [ "$ASAN" = 1 ] && [ $p != IQ4_XS ] && [ $p != MXFP4_MOE ] && continue
        im=""
        [ $p = IQ4_XS ] && im="--imatrix $f.imatrix.gguf"
        # shellcheck disable=SC2086
        requant -q -j 2 $im $f.gguf $f-$p.gguf $p
        "$HASHES" $f-$p.gguf > got.tsv
        if ! cmp -s got.tsv "$GOLD/$f.$p.tsv"; then
            echo "$f $p: $(diff got.tsv "$GOLD/$f.$p.tsv" | grep -c '^<') tensors differ:" >&2
            diff got.tsv "$GOLD/$f.$p.tsv" | head -4 >&2
            bad=$((bad + 1))
        elif ! grep -q "^$f $p $(xxh64sum $f-$p.gguf | cut -d' ' -f1)\$" "$GOLD/files.txt"; then
            echo "$f $p: tensors equal, file bytes (metadata) differ" >&2
            bad=$((bad + 1))
        fi
        rm -f $f-$p.gguf
    done
done
[ "$bad" = 0 ] || fail "$bad MoE outputs differ from llama-quantize ec562eb"
# the 3-D rules the tables pin, spelled out
grep -q '^blk.0.attn_v.weight	Q8_0	' "$GOLD/mix.Q4_K_M.tsv" || fail "table: 8 experts attn_v"
grep -q '^blk.2.attn_kv_b.weight	Q6_K	' "$GOLD/ds2.Q4_K_M.tsv" || fail "table: attn_kv_b"
grep -q '^blk.1.attn_k_b.weight	MXFP4	128x256x2	' "$GOLD/mla.MXFP4_MOE.tsv" ||
    fail "table: attn_k_b under MXFP4_MOE"
grep -q '^blk.1.ffn_down_shexp.weight	Q8_0	' "$GOLD/ds2.MXFP4_MOE.tsv" || fail "table: shexp"
