# --mem on a mixture of experts (make_gguf --experts: llama with 4 experts):
# -ngl 3 offloads both layers and the output; --n-cpu-moe 1 keeps layer 0's
# expert stacks on the CPU, --cpu-moe every layer's, the rest stays on GPU0.
# With --no-mmap the CPU holds exactly token_embd plus those stacks.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_gguf" --layers 2 --embd 64 --ff 128 --experts 4 --experts-used 2 m.gguf
j=$(gguf-inspect --json --no-kv m.gguf)
bytes() { jq "[.tensors[] | select(.name | test(\"$1\")) | .bytes] | add // 0" <<<"$j"; }
all=$(bytes .) emb=$(bytes '^token_embd') exps0=$(bytes '^blk\\.0\\.ffn_.*_exps') exps=$(bytes '_exps')
[ "$exps0" -gt 0 ] && [ "$exps" = $((2 * exps0)) ] || fail "fixture: experts $exps0 / $exps"
dev() { gguf-inspect --json --no-tensors --mem -c 256 -ngl 3 --no-mmap "$@" m.gguf |
    jq -c '[.memory.devices[].weights_bytes]'; }
[ "$(dev)" = "[$emb,$((all - emb))]" ] || fail "-ngl 3: $(dev)"
[ "$(dev --n-cpu-moe 1)" = "[$((emb + exps0)),$((all - emb - exps0))]" ] || fail "--n-cpu-moe 1: $(dev --n-cpu-moe 1)"
[ "$(dev -ncmoe 2)" = "[$((emb + exps)),$((all - emb - exps))]" ] || fail "-ncmoe 2: $(dev -ncmoe 2)"
[ "$(dev --cpu-moe)" = "$(dev -ncmoe 2)" ] || fail "--cpu-moe: $(dev --cpu-moe)"
[ "$(dev -cmoe)" = "$(dev -ncmoe 2)" ] || fail "-cmoe: $(dev -cmoe)"
# the knob is reported, and the text view shows the experts' weights on the CPU
[ "$(gguf-inspect --json --no-tensors --mem -c 256 -ngl 3 --cpu-moe m.gguf | jq .memory.params.n_cpu_moe)" = -1 ] ||
    fail "n_cpu_moe not reported"
gguf-inspect --no-kv --no-tensors --mem -c 256 -ngl 3 --no-mmap -cmoe m.gguf >out.txt
grep -q '^  GPU0 ' out.txt || fail "$(cat out.txt)"
