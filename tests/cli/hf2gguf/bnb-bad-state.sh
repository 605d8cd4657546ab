# A bitsandbytes NF4 weight without its quant_state: the packed U8 weight
# and its parts cannot be read as a weight; exit 2 naming a tensor, nothing
# written.
. "$SRC/tests/cli/lib.sh"
mkdir src
"$BUILD/fixtures/make_hf" --dtype f32 src/m
BNB_OMIT=model.layers.0.self_attn.q_proj.weight.quant_state.bitsandbytes__nf4 \
    python3 "$SRC/tests/cli/hf2gguf/bnb_make.py" nf4 src/m m r || fail "bnb_make"
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
