# not a GGUF file: hash says why (at byte N) and exits 2, nothing on stdout
printf 'GGUX\003\000\000\000' > bad.gguf
head -c 64 /dev/zero >> bad.gguf
gguf-verify hash bad.gguf
