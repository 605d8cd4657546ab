# --rename-tensor and --drop-tensor: bytes untouched (per-tensor digests
# follow the tensors), refused when the model would be inconsistent.
. "$SRC/tests/cli/gguf-edit/_common.inc"
# "KIND HEX TENSOR" per tensor, "KIND HEX -" for the whole model
lines() { gguf-verify hash "$1" | awk '{ i = index($3, ":"); print $1, $2, i ? substr($3, i + 1) : "-" }'; }
lines "$REF" >old.lines

gguf-edit -q "$REF" r.gguf --rename-tensor output.weight=output2.weight
lines r.gguf >r.lines
# the same lines, output.weight's now under its new name, and the same whole-model digest
sed 's/ output\.weight$/ output2.weight/' old.lines | sort >want
sort r.lines >got
cmp want got || fail "renamed: digests differ"

# dropping the same tensor in every layer keeps layers alike
gguf-edit -q "$REF" d.gguf --drop-tensor 'attn_q\.weight$'
lines d.gguf | grep -v ' -$' | sort >got
grep -v ' -$' old.lines | grep -v 'attn_q\.weight$' | sort >want
cmp want got || fail "dropped: the other tensors' digests differ"
[ "$(grep -c attn_q got)" = 0 ] || fail "attn_q still there"

# refused without -f: a layer lacking what its siblings keep, a layer past
# llama.block_count (8)
refuse 'gguf-edit: layer 3 would lack attn_q.weight, which layer 7 keeps (-f writes it anyway)' \
    gguf-edit "$REF" out.gguf --drop-tensor 'blk\.3\.attn_q'
refuse 'gguf-edit: layer 7 would lack attn_k.weight, which layer 6 keeps*' \
    gguf-edit "$REF" out.gguf --drop-tensor '^blk\.7\.'
refuse "gguf-edit: layer 0 would lack attn_q.weight*" \
    gguf-edit "$REF" out.gguf --rename-tensor blk.0.attn_q.weight=blk.8.attn_q.weight
refuse "gguf-edit: tensor 'blk.8.extra.weight' is past llama.block_count = 8*" \
    gguf-edit "$REF" out.gguf --rename-tensor output.weight=blk.8.extra.weight
gguf-edit -q -f "$REF" forced.gguf --drop-tensor '^blk\.7\.'
[ "$(gguf-inspect --json forced.gguf | jq '.tensors | length')" = 66 ] || fail "forced drop"
# dropping the last layers whole is consistent once block_count says so
gguf-edit -q "$REF" pruned.gguf --drop-tensor '^blk\.[67]\.' --set llama.block_count=u32:6
[ "$(gguf-inspect --json pruned.gguf | jq '.tensors | length')" = 57 ] || fail "pruned"
refuse "gguf-edit: tensor 'blk.6.attn_k.weight' is past llama.block_count = 6*" \
    gguf-edit "$REF" out.gguf --drop-tensor '^blk\.7\.' --set llama.block_count=u32:6
# always refused
refuse "gguf-edit: --rename-tensor: no tensor 'nope'" gguf-edit "$REF" out.gguf --rename-tensor nope=x
refuse "gguf-edit: --rename-tensor: 'token_embd.weight' already exists" \
    gguf-edit -f "$REF" out.gguf --rename-tensor output.weight=token_embd.weight
refuse "gguf-edit: --rename-tensor: a name has 1 to 63 bytes of UTF-8" \
    gguf-edit -f "$REF" out.gguf --rename-tensor "output.weight=$(printf '%064d' 0)"
refuse "gguf-edit: --drop-tensor 'zzz' matches no tensor" gguf-edit "$REF" out.gguf --drop-tensor zzz
refuse "gguf-edit: --drop-tensor: invalid regex '('" gguf-edit "$REF" out.gguf --drop-tensor '('
refuse 'gguf-edit: no tensor would be left' gguf-edit -f "$REF" out.gguf --drop-tensor .
# in place: a rename that fits rewrites the header only
cp "$REF" m.gguf
ino=$(stat -c %i m.gguf)
gguf-edit -q -i m.gguf --rename-tensor output.weight=output.w
[ "$(stat -c %i m.gguf)" = "$ino" ] || fail "rename in place replaced the file"
gguf-edit -q "$REF" want.gguf --rename-tensor output.weight=output.w
cmp m.gguf want.gguf || fail "rename in place differs from a new file"
