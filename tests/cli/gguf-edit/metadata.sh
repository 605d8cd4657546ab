# Metadata edits are byte-identical to gguf_new_metadata.py (ec562eb).
. "$SRC/tests/cli/gguf-edit/_common.inc"

# gguf_new_metadata.py REF OUT --general-name "Edited Model"
gguf-edit -q "$REF" name.gguf --set 'general.name=str:Edited Model'
expect_digest name.gguf 6eaa80e5ecf6b223

# ... --chat-template-file tpl.jinja
gguf-edit -q "$REF" tpl.gguf --chat-template tpl.jinja
expect_digest tpl.gguf 56bbae1a70d5d897

# ... --chat-template-file big.jinja (a 100 kB template)
gguf-edit -q "$REF" big.gguf --chat-template big.jinja
expect_digest big.gguf 9d12598f676b2605

# ... --force --remove-metadata general.name --remove-metadata
#     tokenizer.ggml.unknown_token_id --remove-metadata llama.rope.dimension_count
#     --remove-metadata llama.rope.freq_base
gguf-edit -q "$REF" remove.gguf --remove general.name \
    --remove tokenizer.ggml.unknown_token_id --remove 'llama.rope.*'
expect_digest remove.gguf 0f83439ac23bb370

# ... --special-token eos tok7 --special-token padding '<unk>' --special-token-by-id bos 5
gguf-edit -q "$REF" special.gguf --special-token eos=tok7 --special-token 'padding=<unk>' \
    --special-token bos=5
expect_digest special.gguf e164ea26ca496871
# pad is our short name for padding
gguf-edit -q "$REF" special2.gguf --special-token eos=tok7 --special-token 'pad=<unk>' \
    --special-token bos=5
expect_digest special2.gguf e164ea26ca496871

# ... --general-description "A test" --pre-tokenizer default (new keys, in order)
gguf-edit -q "$REF" newkeys.gguf --set 'general.description=str:A test' \
    --set tokenizer.ggml.pre=str:default
expect_digest newkeys.gguf 50211ee18f7391d8

# ... --chat-template '[{"name": "tool_use", "template": TOOL},
#                       {"name": "default", "template": TPL}]'
gguf-edit -q "$REF" named.gguf --chat-template-name tool_use=tool.jinja --chat-template tpl.jinja
expect_digest named.gguf b128fee3db082c09
# ... --chat-template '[{"name": "tool use é", "template": TOOL},
#                       {"name": "default", "template": TPL}]' (one '_' per character)
gguf-edit -q "$REF" named2.gguf --chat-template-name 'tool use é=tool.jinja' \
    --chat-template-name default=tpl.jinja
expect_digest named2.gguf 2c9f2d97c31cc3c3

# copy_with_new_metadata() with MetadataDetails: llama.context_length u32
# 4096, general.file_type u64 1 (a type change: -f), new keys of every type,
# a str array and an i32 array, tokenizer.ggml.add_bos_token true and
# add_eos_token false
printf '["a", "b,c"]' >strs.json
gguf-edit -q -f "$REF" types.gguf --set llama.context_length=u32:4096 \
    --set general.file_type=u64:1 --set test.u8=u8:200 --set test.i8=i8:-5 \
    --set test.u16=u16:60000 --set test.i16=i16:-300 --set test.u32=u32:4000000000 \
    --set test.i32=i32:-2000000000 --set test.u64=u64:18446744073709551615 \
    --set test.i64=i64:-9223372036854775808 --set test.f32=f32:0.1 --set test.f64=f64:0.1 \
    --set test.bool=bool:true --set 'test.str=str:héllo' --set-array test.strs=str:@strs.json \
    --set-array test.ints=i32:1,2,3 --add-bos --no-add-eos
expect_digest types.gguf 3a59a9ad5a267f82
