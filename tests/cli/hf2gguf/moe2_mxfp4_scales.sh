# gpt-oss: an MXFP4 scales tensor of the wrong shape (same bytes, 4x1x32
# where its blocks 4x32x1x16 need 4x32x1) is refused naming both tensors.
. "$SRC/tests/cli/lib.sh"
need_shared
python3 "$SRC/tests/cli/hf2gguf/moe2_reshape.py" "$SHARED/fixtures/hf-2026/gptoss-moe" m \
    model.layers.0.mlp.experts.down_proj_scales 4,1,32
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
