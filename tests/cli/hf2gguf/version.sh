hf2gguf --version
