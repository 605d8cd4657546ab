# A glm4 partial_rotary_factor (read from the rope parameters) that is not a
# number in [0, 1]: exit 2 naming the key, no output.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch glm4 m
sed -i 's/"model_type": "glm4",/&\n  "rope_parameters": {"rope_theta": 10000.0, "partial_rotary_factor": "half"},/' m/config.json
grep -q '"partial_rotary_factor": "half"' m/config.json || fail "fixture edit"
hf2gguf --pre qwen2 m -o out.gguf || { s=$?; assert_no_file out.gguf; exit $s; }
