# gguf-inspect on a mixture of experts (issue 16 §4): experts, experts used
# per token and shared experts; total and active parameters per token in
# the summary and --json; per-layer parameters and bpw with the expert
# stacks and the dense part apart (--layers). Counts computed by hand for
# make_gguf --experts 4 --experts-used 2, 2 layers, embd 256, ff 256, 4
# heads of 64, 2 KV heads, vocabulary 512:
#   per layer, experts: 3 stacks of 256 x 256 x 4          = 786432
#   per layer, dense: q 65536 + k 32768 + v 32768 + o 65536
#                     + 2 norms 512 + router 256 x 4 1024   = 198144
#   other: token_embd 131072 + output 131072 + norm 256      = 262400
#   total 2 x (786432 + 198144) + 262400                     = 2231552
#   active: total - 2 x 786432 x (1 - 2/4)                   = 1445120
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_gguf" --layers 2 --embd 256 --ff 256 --experts 4 --experts-used 2 moe.gguf
gguf-inspect --json --layers --no-kv --no-tensors moe.gguf >moe.json || fail "json exit $?"
[ "$(jq -c '.summary | [.parameters, .expert_parameters, .active_parameters, .active_parameters_label, .experts]' moe.json)" = \
    '[2231552,1572864,1445120,"1.4M",{"count":4,"used":2,"shared":0}]' ] ||
    fail "summary: $(jq -c .summary moe.json)"
[ "$(jq -c '[.layers[] | [.layer, .parameters, .experts.parameters, .experts.tensors, .dense.parameters, .dense.tensors]]' moe.json)" = \
    '[[0,984576,786432,3,198144,7],[1,984576,786432,3,198144,7],[null,262400,0,0,262400,3]]' ] ||
    fail "layers: $(jq -c .layers moe.json)"
# F16: the stacks are 16 bits per weight; the dense part: F16 attention
# (196608 x 2) and F32 norms and router ((512 + 1024) x 4)
[ "$(jq -c '[.layers[0].experts.bpw, .layers[0].experts.bytes, .layers[0].dense.bytes]' moe.json)" = \
    '[16,1572864,399360]' ] || fail "bpw: $(jq -c '.layers[0]' moe.json)"
gguf-inspect --layers --no-kv --no-tensors moe.gguf >moe.txt || fail "text exit $?"
grep -q '^experts  *4 per layer, 2 used per token, 0 shared$' moe.txt &&
    grep -q '^active params  *1,445,120 (1.4M) per token$' moe.txt &&
    grep -q '^  blk.0  *10  *984576  *1972224  *16.0250  *786432  *16.0000  *198144  *16.1240$' moe.txt ||
    fail "text: $(cat moe.txt)"
# requant Q4_0: the stacks go to 4.5 bits per weight, the parameters stay
requant -q moe.gguf q.gguf Q4_0 || fail "requant"
[ "$(gguf-inspect --json --layers --no-kv --no-tensors q.gguf | jq -c '[.summary.active_parameters, .layers[0].experts.bpw]')" = \
    '[1445120,4.5]' ] || fail "Q4_0"
# a shared expert (a *_shexp tensor, here a renamed router) counts as
# shared and stays active whole; an expert_shared_count key wins
gguf-edit -q -f --rename-tensor blk.0.ffn_gate_inp.weight=blk.0.ffn_gate_inp_shexp.weight moe.gguf sh.gguf ||
    fail "rename"
[ "$(gguf-inspect --json --no-kv --no-tensors sh.gguf | jq -c '[.summary.experts.shared, .summary.active_parameters]')" = \
    '[1,1445120]' ] || fail "shexp"
gguf-edit -q --set llama.expert_shared_count=u32:2 moe.gguf sh2.gguf || fail "set"
[ "$(gguf-inspect --json --no-kv --no-tensors sh2.gguf | jq -c .summary.experts.shared)" = 2 ] ||
    fail "expert_shared_count"
# without expert_used_count the active figure would be a guess: unknown
gguf-edit -q --remove llama.expert_used_count moe.gguf nu.gguf 2>/dev/null || fail "remove"
[ "$(gguf-inspect --json --no-kv --no-tensors nu.gguf | jq -c '[.summary.active_parameters, .summary.experts.used]')" = \
    '[null,0]' ] || fail "unknown active"
gguf-inspect --no-kv --no-tensors nu.gguf | grep -q '^active params  *unknown' || fail "text unknown"
# a dense model has none of these fields
"$BUILD/fixtures/make_gguf" --layers 2 --embd 256 --ff 256 dense.gguf
[ "$(gguf-inspect --json --layers --no-kv --no-tensors dense.gguf | jq -c '[.summary.experts, .summary.active_parameters, .layers[0].experts]')" = \
    '[null,null,null]' ] || fail "dense"
gguf-inspect --no-kv --no-tensors dense.gguf | grep -q '^active params' && fail "dense text"
exit 0
