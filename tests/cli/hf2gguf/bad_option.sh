# Unknown --outtype: usage error.
hf2gguf --outtype q4_z somedir
