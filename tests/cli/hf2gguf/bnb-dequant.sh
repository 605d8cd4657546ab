# bitsandbytes checkpoints (NF4, NF4 double-quantized with bf16 values, FP4
# double-quantized, LLM.int8) written by bnb_make.py convert to the same
# bytes as a float checkpoint holding the values bnb_make.py dequantizes
# from bitsandbytes' published description (--outtype f32 and f16): the
# quantized weights stay in place, their parts leave, the metadata is the
# float checkpoint's.
. "$SRC/tests/cli/lib.sh"
mkdir src
"$BUILD/fixtures/make_hf" --dtype f32 src/m
for mode in nf4 nf4-nested fp4-nested int8; do
    rm -rf q r && mkdir q r
    python3 "$SRC/tests/cli/hf2gguf/bnb_make.py" "$mode" src/m q/m r/m || fail "bnb_make $mode"
    for t in f32 f16; do
        hf2gguf -q --outtype $t q/m -o q.gguf
        hf2gguf -q --outtype $t r/m -o r.gguf
        cmp q.gguf r.gguf || fail "$mode $t: differs from the reference dequantization"
        rm -f q.gguf r.gguf
    done
done
gguf-inspect q/m | grep -q 'bitsandbytes, 8 bits' || fail "inspect: $(gguf-inspect q/m)"
echo ok
