# Keys the family's transformers config class fills in when config.json
# omits them (upstream with transformers installed, hf2gguf's default), and
# --config-as-written (upstream without transformers, how the goldens were
# made). Each family with its own expectation:
# - llama, mistral: head_dim = hidden/heads -> attention.key_length and
#   value_length before general.file_type; as written: neither;
# - qwen3, glm4: head_dim 128 (the tensors are 128 wide either way); glm4's
#   rope.dimension_count is half of it, or half of hidden/heads as written;
# - gemma2: head_dim 256; as written its converter needs the key: exit 2;
# - gemma3: head_dim 256 in the shared block, replaced in place; as written
#   Gemma3Model appends key_length/value_length after general.file_type;
# - qwen2, phi3, smollm3, granite, olmo2: no config default, same bytes.
. "$SRC/tests/cli/lib.sh"
mk() { # arch dir [make_hf options]: a checkpoint without head_dim
    "$BUILD/fixtures/make_hf" --arch "$1" "${@:3}" "$2" >/dev/null
    sed -i '/"head_dim"/d' "$2/config.json"
}
conv() { # dir out [hf2gguf options]
    hf2gguf -q --pre qwen2 --outtype f16 "${@:3}" "$1" -o "$2.gguf"
    node "$SRC/tests/cli/hf2gguf/gguf_tsv.mjs" "$2.gguf" "$2.tsv" /dev/null
}
before_ftype() { # tsv: the two keys before general.file_type
    grep -B2 '^general.file_type' "$1" | head -n2 | cut -f1,3
}
kl() { printf '%s.attention.key_length\t%s\n%s.attention.value_length\t%s\n' "$1" "$2" "$1" "$2"; }

for a in llama mistral; do
    mk "$a" "$a"
    conv "$a" "$a.d"
    conv "$a" "$a.w" --config-as-written
    diff <(kl llama 16) <(before_ftype "$a.d.tsv") >&2 || fail "$a: key_length"
    grep -q key_length "$a.w.tsv" && fail "$a as written: key_length"
done

mk qwen3 qwen3 --head-dim 128
conv qwen3 qwen3.d
conv qwen3 qwen3.w --config-as-written
diff <(kl qwen3 128) <(before_ftype qwen3.d.tsv) >&2 || fail "qwen3: key_length"
grep -q key_length qwen3.w.tsv && fail "qwen3 as written: key_length"

mk glm4 glm4 --head-dim 128
conv glm4 glm4.d
conv glm4 glm4.w --config-as-written
diff <(kl glm4 128) <(before_ftype glm4.d.tsv) >&2 || fail "glm4: key_length"
grep -qxF 'glm4.rope.dimension_count	UINT32	64' glm4.d.tsv || fail "glm4: rope dim"
grep -q key_length glm4.w.tsv && fail "glm4 as written: key_length"
grep -qxF 'glm4.rope.dimension_count	UINT32	8' glm4.w.tsv || fail "glm4 as written: rope dim"

mk gemma2 gemma2 --head-dim 256
conv gemma2 gemma2.d
grep -qxF 'gemma2.attention.key_length	UINT32	256' gemma2.d.tsv || fail "gemma2: key_length"
if hf2gguf -q --config-as-written gemma2 -o gemma2.w.gguf 2>err; then
    fail "gemma2 as written: converted without head_dim"
fi
grep -qF "'head_dim' is missing" err || fail "gemma2 as written: $(cat err)"
assert_no_file gemma2.w.gguf

mk gemma3 gemma3 --head-dim 256
conv gemma3 gemma3.d
conv gemma3 gemma3.w --config-as-written
diff <(kl gemma3 256) <(before_ftype gemma3.d.tsv) >&2 || fail "gemma3: key_length position"
grep -A2 '^general.file_type' gemma3.w.tsv | tail -n2 | cut -f1,3 > after.txt
diff <(kl gemma3 256) after.txt >&2 || fail "gemma3 as written: key_length position"

for a in qwen2 phi3 smollm3 granite olmo2; do
    mk "$a" "$a"
    conv "$a" "$a.d"
    conv "$a" "$a.w" --config-as-written
    cmp "$a.d.gguf" "$a.w.gguf" || fail "$a: --config-as-written changed the output"
done
echo ok
