# What hf2gguf --lora refuses, each with exit 2, a message naming the file
# and the reason, and nothing written: DoRA (upstream fails on the
# lora_magnitude_vector tensors), rank-stabilized scaling (upstream ignores
# use_rslora and writes a scale llama.cpp misreads), modules_to_save and
# embeddings in the adapter (upstream stops on them), per-module alpha, a
# missing
# adapter_config.json, and --lora without a base.
. "$SRC/tests/cli/lib.sh"
mk="$SRC/tests/cli/hf2gguf/lora_make.py"
"$BUILD/fixtures/make_hf" --arch llama llama
refused() { # DIR GLOB [hf2gguf args]
    local dir=$1 glob=$2 s=0
    shift 2
    hf2gguf --lora "$dir" "${@:---base=llama}" -o out.gguf 2> err || s=$?
    [ "$s" = 2 ] || fail "$dir: exit $s, expected 2"
    [[ "$(cat err)" == $glob ]] || fail "$dir: message $(cat err)"
    assert_no_file out.gguf
}
python3 "$mk" llama dora --set use_dora=true
refused dora "*dora/adapter_config.json: DoRA adapters (use_dora) are not supported*"
python3 "$mk" llama dora2 --extra base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector:1:64
refused dora2 "*dora2/adapter_model.safetensors: *lora_magnitude_vector*: DoRA adapters are not supported*"
python3 "$mk" llama rs --set use_rslora=true
refused rs "*rs/adapter_config.json: rank-stabilized LoRA (use_rslora) is not supported*"
python3 "$mk" llama mts --set 'modules_to_save=["lm_head"]'
refused mts "*mts/adapter_config.json: modules_to_save *is not supported*"
python3 "$mk" llama emb --extra base_model.model.model.embed_tokens.weight:512:64
refused emb "*emb/adapter_model.safetensors: 'base_model.model.model.embed_tokens.weight': embeddings are present in the adapter*"
python3 "$mk" llama ap --set 'alpha_pattern={"q_proj":8}'
refused ap "*ap/adapter_config.json: alpha_pattern (per-module alpha) is not supported*"
python3 "$mk" llama noconf && rm noconf/adapter_config.json
refused noconf "*noconf/adapter_config.json: missing*"
refused noconf "*--lora needs one of --base DIR and --base-gguf FILE*" --model-name x
echo ok
