# an option of another command is refused, naming it
gguf-verify validate --uuid x.gguf
