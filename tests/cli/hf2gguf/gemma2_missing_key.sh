# gemma2 reads its hparams by name: a config without final_logit_softcapping
# is refused (exit 2) naming the key, with no output left behind.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch gemma2 m
sed -i '/"final_logit_softcapping"/d' m/config.json
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
