# Hostile edits: exit 2 with a message, and nothing written.
. "$SRC/tests/cli/gguf-edit/_common.inc"

refuse 'gguf-edit: key is not valid UTF-8' gguf-edit "$REF" out.gguf --set $'bad\xff.key=str:x'
refuse 'gguf-edit: key is not valid UTF-8' gguf-edit "$REF" out.gguf --set-array $'a\xc0\xaf=u8:1'
refuse "gguf-edit: --set general.name: 'abc' is not a valid u32 value" \
    gguf-edit "$REF" out.gguf --set general.name=u32:abc
refuse "gguf-edit: --set-array a.b: element 2: '300' is not a valid u8 value" \
    gguf-edit "$REF" out.gguf --set-array a.b=u8:1,2,300
refuse "gguf-edit: --set x: 'yes' is not a valid bool value" gguf-edit "$REF" out.gguf --set x=bool:yes
refuse 'gguf-edit: --set x: str value is not valid UTF-8' gguf-edit "$REF" out.gguf --set $'x=str:\xff'
refuse 'gguf-edit: --set: want KEY=TYPE:VALUE*' gguf-edit "$REF" out.gguf --set x=u128:1
# a key's type changes only with -f
refuse 'gguf-edit: general.name has type str in the file, not u32 (-f changes the type)' \
    gguf-edit "$REF" out.gguf --set general.name=u32:5
# special tokens: the vocabulary has 512 tokens
refuse 'gguf-edit: --special-token bos: id 512 is out of range (the vocabulary has 512 tokens)' \
    gguf-edit "$REF" out.gguf --special-token bos=512
refuse 'gguf-edit: --special-token eos: id 99999999999999999999 is out of range*' \
    gguf-edit "$REF" out.gguf --special-token eos=99999999999999999999
refuse 'gguf-edit: --special-token eos: token not found in tokenizer.ggml.tokens' \
    gguf-edit "$REF" out.gguf --special-token 'eos=<|im_end|>'
refuse 'gguf-edit: --special-token: want NAME=ID|TEXT*' gguf-edit "$REF" out.gguf --special-token cls=1
# templates: missing, not UTF-8
refuse 'gguf-edit: nothere.jinja: cannot open: *' gguf-edit "$REF" out.gguf --chat-template nothere.jinja
printf '{{ \xff }}' >bad.jinja
refuse 'gguf-edit: bad.jinja: template is not valid UTF-8' gguf-edit "$REF" out.gguf --chat-template bad.jinja
# --set-array @FILE must hold a JSON list of the type
printf '{"a": 1}' >obj.json
refuse 'gguf-edit: --set-array a: obj.json: not a JSON list' gguf-edit "$REF" out.gguf --set-array a=u8:@obj.json
printf '[1, "x"]' >mixed.json
refuse 'gguf-edit: --set-array a: mixed.json: element 1: not a u8 value' \
    gguf-edit "$REF" out.gguf --set-array a=u8:@mixed.json
# a split whose first file would hold no tensor (gguf-split refuses it too)
refuse 'gguf-edit: tensor 0 alone is larger than --split-max-size*' \
    gguf-edit "$REF" out --split-max-size 1000
# --merge of a file that is not a set
refuse "gguf-edit: $REF: --merge: not a split set (no split.count, or 0: merged already)" \
    gguf-edit --merge "$REF" out.gguf
# never the input itself, even with -f
cp "$REF" in.gguf
refuse 'gguf-edit: in.gguf: is the same file as input*' gguf-edit -f in.gguf in.gguf
cmp in.gguf "$REF" || fail "input changed"
