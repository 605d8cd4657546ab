# A safetensors input truncated by someone else while hf2gguf converts it
# (read through a mapping, where the lost pages fault with SIGBUS): hf2gguf
# stops with exit 2 and "input file shrank while reading" instead of dying
# by the signal. No timer: the output goes to a pipe that is not read until
# the input is truncated, so hf2gguf has written the header (the first byte
# arrived) but is held back by the full pipe with most of the ~100 MB of
# tensor data still unread.
. "$SRC/tests/cli/faults/_faults.inc"
"$MH" --dtype f32 --layers 2 --embd 1024 --ff 2048 --heads 8 --kv-heads 8 --vocab 2048 m
hf2gguf -j 1 m -o - 2>err | {
    head -c 1 >/dev/null
    truncate -s 4096 m/model.safetensors
    cat >/dev/null
}
rc=${PIPESTATUS[0]}
[ "$rc" = 2 ] || fail "hf2gguf exit $rc after the input shrank: $(cat err)"
grep -q "m/model.safetensors: input file shrank while reading" err || fail "message: $(cat err)"
no_sanitizer err
