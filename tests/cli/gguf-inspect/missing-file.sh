gguf-inspect does-not-exist.gguf
