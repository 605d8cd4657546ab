# A sharded checkpoint whose index names files outside its directory: a
# relative escape (../../etc/passwd), an absolute path, and a symlink that
# leaves the directory. hf2gguf and gguf-inspect refuse each (exit 2,
# naming the shard), reading nothing outside.
. "$SRC/tests/cli/hostile/_hostile.inc"
"$BUILD/fixtures/make_hf" --arch llama --dtype f32 --layers 1 --embd 16 --ff 32 --heads 2 \
    --kv-heads 1 --vocab 300 --ctx 64 --shards 2 m >/dev/null
idx=m/model.safetensors.index.json
cp "$idx" index.orig
first=$(ls m | grep -m1 '^model-0000[0-9]-of')
[ -n "$first" ] || fail "no shard files"
# same tensors, the first shard reached through a symlink that leaves m/
mv "m/$first" outside.safetensors
ln -s ../outside.safetensors "m/$first"
refused "$first" out.gguf hf2gguf m -o out.gguf
refused "$first" out.txt gguf-inspect "$idx"
rm "m/$first"
mv outside.safetensors "m/$first"
for bad in ../../etc/passwd /etc/passwd ../outside.safetensors sub/../../x.safetensors; do
    sed "s#\"$first\"#\"$bad\"#g" index.orig > "$idx"
    refused "$bad" out.gguf hf2gguf m -o out.gguf
    refused "$bad" out.txt gguf-inspect "$idx"
done
