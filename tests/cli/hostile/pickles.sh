# PyTorch checkpoints whose pickle imports something other than the few
# torch/collections constructors: os.system, builtins.eval, posix.system,
# __builtin__.getattr, subprocess.Popen. hf2gguf refuses each before
# anything runs (exit 2, naming the import), and writes nothing; so is a
# real archive cut short.
. "$SRC/tests/cli/hostile/_hostile.inc"
"$BUILD/fixtures/make_hf" --arch llama --dtype f16 --layers 1 --embd 16 --ff 32 --heads 2 \
    --kv-heads 1 --vocab 300 --ctx 64 --bin m >/dev/null
while IFS='|' read -r kind pat; do
    $MK "$kind" m/pytorch_model.bin
    refused "$pat" out.gguf hf2gguf m -o out.gguf
    [ ! -e pwned ] || fail "$kind ran something"
done <<'LIST'
pkl-os-system|'os.system', which is not allowed
pkl-eval|'builtins.eval', which is not allowed
pkl-posix|'posix.system', which is not allowed
pkl-getattr|'__builtin__.getattr', which is not allowed
pkl-subprocess|'subprocess.Popen', which is not allowed
LIST
# a real torch.save archive cut short (its zip directory is at the end)
"$BUILD/fixtures/make_hf" --arch llama --dtype f16 --layers 1 --embd 16 --ff 32 --heads 2 \
    --kv-heads 1 --vocab 300 --ctx 64 --bin good >/dev/null
size=$(stat -c %s good/pytorch_model.bin)
for n in 0 4 30 100 $((size / 2)) $((size - 22)) $((size - 1)); do
    head -c "$n" good/pytorch_model.bin > m/pytorch_model.bin
    refused "pytorch_model.bin: " out.gguf hf2gguf m -o out.gguf
done
