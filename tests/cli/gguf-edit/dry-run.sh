# --dry-run prints the metadata diff (old -> new) and writes nothing.
. "$SRC/tests/cli/gguf-edit/_common.inc"
gguf-edit -q "$REF" --dry-run --set 'general.name=str:New' --remove 'llama.rope.*' \
    --set-array t.x=str:a,b --special-token eos=tok7 --set $'t.s=str:tab\there'
gguf-edit -q "$REF" --dry-run --json --special-token bos=3 --set t.u=u64:18446744073709551615 |
    jq -c .
ls | grep -v '\.jinja$' && fail "the dry run wrote a file" || true
