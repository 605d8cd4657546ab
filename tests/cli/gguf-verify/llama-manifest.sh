# byte-identical to llama-gguf-hash (llama.cpp examples/gguf-hash, built at a
# commit after c392e50): the expected output below was produced by
#   llama-gguf-hash --xxh64 --sha1 --sha256 --uuid ref-llama-f16.gguf
# (per tensor in tensor-info order: xxh64, sha1, sha256; then the
# whole-model lines xxh64, sha1, sha256, uuid)
. "$SRC/tests/cli/lib.sh"
need_shared
ln -s "$SHARED/fixtures/ref-llama-f16.gguf" ref-llama-f16.gguf
gguf-verify hash --sha256 --uuid --sha1 --xxh64 ref-llama-f16.gguf
