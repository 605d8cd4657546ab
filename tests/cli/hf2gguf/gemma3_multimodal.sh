# Gemma3ForConditionalGeneration: text_config merged over the root,
# "language_model." removed from tensor names, vision/projector tensors
# skipped with one note. The result equals the Gemma3ForCausalLM conversion.
. "$SRC/tests/cli/lib.sh"
need_shared
mkdir -p text/gemma3 mm/gemma3
cp "$SHARED"/fixtures/hf-2026/gemma3/* text/gemma3/
cp "$SHARED"/fixtures/hf-2026/gemma3/* mm/gemma3/
python3 - mm/gemma3 <<'PY'
import json, struct, sys
d = sys.argv[1] + '/'
cfg = json.load(open(d + 'config.json'))
ids = ('bos_token_id', 'eos_token_id', 'pad_token_id')
text = {k: v for k, v in cfg.items() if k != 'architectures' and k not in ids}
root = {'architectures': ['Gemma3ForConditionalGeneration'], 'model_type': 'gemma3',
        'text_config': text, 'vision_config': {'hidden_size': 8}}
root.update({k: cfg[k] for k in ids})
json.dump(root, open(d + 'config.json', 'w'), indent=2)
b = open(d + 'model.safetensors', 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
head, data = json.loads(b[8:8 + n]), b[8 + n:]
out = {('model.language_model.' + k[6:] if k.startswith('model.') else k): v
       for k, v in head.items()}
end = len(data)
out['model.vision_tower.vision_model.embeddings.patch_embedding.weight'] = {
    'dtype': 'BF16', 'shape': [4], 'data_offsets': [end, end + 8]}
out['model.multi_modal_projector.mm_soft_emb_norm.weight'] = {
    'dtype': 'BF16', 'shape': [4], 'data_offsets': [end + 8, end + 16]}
hb = json.dumps(out).encode()
hb += b' ' * (-len(hb) % 8)
open(d + 'model.safetensors', 'wb').write(struct.pack('<Q', len(hb)) + hb + data + bytes(16))
PY
hf2gguf -q --outtype q8_0 text/gemma3 -o text.gguf
hf2gguf --outtype q8_0 mm/gemma3 -o mm.gguf 2>err
grep -q 'skipped 2 vision/audio/projector tensors' err || fail "no note on the skipped tensors"
cmp text.gguf mm.gguf || fail "the language model differs from the Gemma3ForCausalLM conversion"
echo ok
