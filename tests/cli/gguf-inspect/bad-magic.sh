# not a GGUF file: exit 2 with the byte offset, nothing on stdout
printf 'GGUX\003\000\000\000' > bad.gguf
head -c 64 /dev/zero >> bad.gguf
gguf-inspect bad.gguf
