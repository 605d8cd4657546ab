# gguf-py SpecialVocab as of ec562eb: the tokenizer.json post-processor
# sets add_bos/add_eos/add_sep (in that insertion order, tokenizer_config
# flags overwriting in place), tokenizer.ggml.add_sep_token is written,
# chat_template.jinja is the fallback for a tokenizer_config without
# chat_template (read with universal newlines), and config.json's
# text_config supplies *_token_id missing at the root.
. "$SRC/tests/cli/lib.sh"
"$BUILD/fixtures/make_hf" --arch llama m
python3 - <<'PY'
import json
tok = {'added_tokens': [{'id': 1, 'content': '<s>'}, {'id': 2, 'content': '</s>'}],
       'post_processor': {'type': 'TemplateProcessing',
                          'single': [{'SpecialToken': {'id': '<s>', 'type_id': 0}},
                                     {'Sequence': {'id': 'A', 'type_id': 0}}],
                          'pair': [{'SpecialToken': {'id': '<s>', 'type_id': 0}},
                                   {'Sequence': {'id': 'A', 'type_id': 0}},
                                   {'SpecialToken': {'id': '<s>', 'type_id': 1}},
                                   {'Sequence': {'id': 'B', 'type_id': 1}}]},
       'model': {'type': 'BPE', 'vocab': {}, 'merges': []}}
json.dump(tok, open('m/tokenizer.json', 'w'))
json.dump({'bos_token': {'content': '<s>'}, 'eos_token': {'content': '</s>'},
           'add_bos_token': True, 'add_eos_token': False}, open('m/tokenizer_config.json', 'w'))
open('m/chat_template.jinja', 'wb').write(b'{{ bos_token }}\r\n{{ x }}\r')
cfg = json.load(open('m/config.json'))
cfg['text_config'] = {'pad_token_id': 0}
json.dump(cfg, open('m/config.json', 'w'))
PY
hf2gguf -q m -o out.gguf
python3 "$SRC/tests/cli/hf2gguf/gguf_tables.py" out.gguf meta.tsv tensors.tsv
sed -n '/^tokenizer.ggml.token_type/,$p' meta.tsv | tail -n +2
