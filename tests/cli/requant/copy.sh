# COPY: every tensor copied unchanged (in llama-quantize's order), KVs as for
# any preset, general.file_type = the input's file type (guessed | 1024 when
# the input has none).
. "$SRC/tests/cli/requant/_common.inc"
requant -q "$REF" out.gguf COPY
"$HASHES" "$REF" | sort > in.tsv
"$HASHES" out.gguf | sort > out.tsv
cmp in.tsv out.tsv || fail "tensors changed"
want=$(python3 "$HERE/gguf_kv.py" "$REF" | grep '^general.file_type	')
python3 "$HERE/gguf_kv.py" out.gguf | tail -n 2 > kv.txt
printf '%s\n' 'general.quantization_version	u32	2' "$want" | diff - kv.txt || fail "KVs"
# copying a copy changes nothing
requant -q out.gguf out2.gguf copy
cmp out.gguf out2.gguf || fail "COPY of COPY differs"
echo ok
