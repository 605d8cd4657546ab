# --keep-quant=X other than strict and --keep-quant with a requant preset
# are usage errors (exit 2); on a float checkpoint --keep-quant changes
# nothing (same bytes, no summary).
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" m
hf2gguf --keep-quant=loose m -o a.gguf 2> err && fail "loose accepted"
[ $? -eq 2 ] && grep -q "invalid --keep-quant 'loose'" err || fail "$(cat err)"
hf2gguf --keep-quant --outtype Q4_K_M m -o a.gguf 2> err && fail "preset accepted"
[ $? -eq 2 ] && grep -q "keep-quant takes --outtype" err || fail "$(cat err)"
assert_no_file a.gguf
hf2gguf -q m -o a.gguf
hf2gguf --keep-quant=strict m -o b.gguf 2> err
cmp a.gguf b.gguf || fail "--keep-quant changed a float checkpoint"
[ ! -s err ] || fail "$(cat err)"
echo ok
