gguf-verify hash does-not-exist.gguf
