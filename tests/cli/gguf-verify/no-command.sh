gguf-verify model.gguf
