# --override-kv sets typed keys after general.file_type, in order; an int is
# written as u32 of its absolute value, as llama-quantize ec562eb does (#14182).
. "$SRC/tests/cli/requant/_common.inc"
requant -q --override-kv general.name=str:renamed --override-kv llama.block_count=int:-8 \
    --override-kv my.flag=bool:true --override-kv my.scale=float:0.5 "$REF" out.gguf Q8_0
python3 "$HERE/gguf_kv.py" out.gguf | tail -n 6 > kv.txt
printf '%s\n' 'general.quantization_version	u32	2' 'general.file_type	u32	7' \
    'general.name	str	renamed' 'llama.block_count	u32	8' 'my.flag	bool	True' \
    'my.scale	f32	0.5' > want.txt
diff kv.txt want.txt || fail "override order/types"
for bad in novalue =int:1 k=int:x k=bool:yes k=blob:1; do
    requant --override-kv "$bad" "$REF" bad.gguf Q8_0 2>/dev/null && fail "accepted $bad"
done
assert_no_file bad.gguf
