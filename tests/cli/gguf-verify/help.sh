gguf-verify --help
