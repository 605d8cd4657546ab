# Every input: stdin, .zst, any shard of a set; output to stdout.
. "$SRC/tests/cli/gguf-edit/_common.inc"
# the digest of metadata.sh's name.gguf (gguf_new_metadata.py --general-name)
gguf-edit -q - out1.gguf --set 'general.name=str:Edited Model' <"$REF"
expect_digest out1.gguf 6eaa80e5ecf6b223
zstd -q -c "$REF" >ref.gguf.zst
gguf-edit -q ref.gguf.zst - --set 'general.name=str:Edited Model' >out2.gguf
expect_digest out2.gguf 6eaa80e5ecf6b223
gguf-edit -q - - --set 'general.name=str:Edited Model' <ref.gguf.zst | cat >out3.gguf
expect_digest out3.gguf 6eaa80e5ecf6b223
# --zstd compresses the output; reading it back gives the same bytes
gguf-edit -q --zstd=5 "$REF" out4.gguf.zst --set 'general.name=str:Edited Model'
zstd -q -d -c out4.gguf.zst >out4.gguf
expect_digest out4.gguf 6eaa80e5ecf6b223
