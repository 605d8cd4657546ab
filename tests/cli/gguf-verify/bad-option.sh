gguf-verify hash --no-such-option x.gguf
