# A bitsandbytes NF4 weight without its absmax: exit 2 naming the weight and
# the missing part, nothing written.
. "$SRC/tests/cli/lib.sh"
mkdir src
"$BUILD/fixtures/make_hf" --dtype f32 src/m
BNB_OMIT=model.layers.0.mlp.up_proj.weight.absmax \
    python3 "$SRC/tests/cli/hf2gguf/bnb_make.py" nf4 src/m m r || fail "bnb_make"
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
