# gemma3 has no attention soft-capping: a config setting
# attn_logit_softcapping is refused (exit 2) naming the key.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch gemma3 m
sed -i 's/"attn_logit_softcapping": null/"attn_logit_softcapping": 50.0/' m/config.json
grep -q '"attn_logit_softcapping": 50.0' m/config.json || fail "sed did not apply"
hf2gguf m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
