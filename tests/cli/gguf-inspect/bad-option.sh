gguf-inspect --no-such-option x.gguf
