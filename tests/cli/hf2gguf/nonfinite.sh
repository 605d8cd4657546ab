# NaN weights: a warning naming file and tensor (output written), and with
# --strict an error (exit 2) that leaves nothing behind.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --nan model.layers.1.mlp.down_proj.weight m
hf2gguf m -o warn.gguf 2>err
[ -f warn.gguf ] || fail "no output without --strict"
grep -q "warning: model.safetensors: tensor 'model.layers.1.mlp.down_proj.weight' has 1 non-finite values" err
hf2gguf --strict m -o strict.gguf || { s=$?; assert_no_file strict.gguf; exit $s; }
