gguf-verify --version
