# Olmo3ForCausalLM (Olmo2Model upstream): the sliding window and its
# per-layer pattern follow general.file_type; the pattern comes from
# layer_types when the config has it, else every layer but each 4th.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch olmo2 --layers 4 m
sed -i 's/"Olmo2ForCausalLM"/"Olmo3ForCausalLM"/; s/"model_type": "olmo2",/&\n  "sliding_window": 4096,/' m/config.json
grep -q '"sliding_window": 4096' m/config.json || fail "fixture edit"
hf2gguf -q --pre qwen2 m -o a.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" a.gguf a.tsv /dev/null
grep -A2 '^general.file_type' a.tsv | sed -n 2,3p | cut -f1-2 > keys.txt
printf 'olmo2.attention.sliding_window\tUINT32\nolmo2.attention.sliding_window_pattern\t[4 x BOOL]\n' > want.txt
diff want.txt keys.txt >&2 || fail "sliding window keys"
grep -qxF 'olmo2.attention.sliding_window	UINT32	4096' a.tsv
# [true, true, true, false] as json.dumps writes it
want=$(printf '[true, true, true, false]' | sha256sum | cut -c1-16)
grep -qxF "olmo2.attention.sliding_window_pattern	[4 x BOOL]	$want" a.tsv || fail "default pattern"
sed -i 's/"sliding_window": 4096,/&\n  "layer_types": ["full_attention", "sliding_attention", "full_attention", "sliding_attention"],/' m/config.json
hf2gguf -q --pre qwen2 m -o b.gguf
node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" b.gguf b.tsv /dev/null
want=$(printf '[false, true, false, true]' | sha256sum | cut -c1-16)
grep -qxF "olmo2.attention.sliding_window_pattern	[4 x BOOL]	$want" b.tsv || fail "layer_types pattern"
echo ok
