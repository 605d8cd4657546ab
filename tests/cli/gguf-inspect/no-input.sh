gguf-inspect
