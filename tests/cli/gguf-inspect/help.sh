gguf-inspect --help
