gguf-inspect --version
