# --json for hash, check and validate: one jq-parsable document on stdout
# (docs/gguf-verify.json.md) with the same verdicts and exit codes as text
. "$SRC/tests/cli/lib.sh"
command -v jq > /dev/null || fail "jq missing (scripts/bootstrap installs it)"
"$BUILD/fixtures/make_gguf" --preset tiny --seed 7 m.gguf
gguf-verify hash --xxh64 --sha256 m.gguf > m.manifest
gguf-verify hash --json --xxh64 --sha256 m.gguf > h.json
jq -e '.version == 1 and .command == "hash" and (.files | length) == 1' h.json > /dev/null ||
    fail "hash --json: $(head -c 300 h.json)"
# the JSON digests equal the manifest's, tensor by tensor
want=$(awk '$1 == "xxh64" { print $2 }' m.manifest | head -1)
got=$(jq -r '.files[0].tensors[0].xxh64' h.json)
[ "$want" = "$got" ] || fail "first tensor xxh64 $got, manifest $want"
[ "$(jq -r '.files[0].model.sha256' h.json)" = "$(awk '$1 == "sha256" && $3 == "m.gguf" { print $2 }' m.manifest)" ] ||
    fail "model sha256"
[ "$(jq '.files[0].tensors | length' h.json)" = "$(gguf-inspect --json m.gguf | jq '.tensors | length')" ] ||
    fail "tensor count"
gguf-verify hash --json --whole m.gguf | jq -e --arg h "$(sha256sum m.gguf | cut -c1-64)" \
    '.files[0].whole and .files[0].model.sha256 == $h' > /dev/null || fail "hash --whole --json"
# check: passes, then fails (exit 1) on a changed digest
gguf-verify check --json m.manifest > c.json || fail "check --json: exit $?"
jq -e '.command == "check" and .passed and .summary.failed == 0 and .summary.ok > 0 and
       (.items | all(.status == "ok"))' c.json > /dev/null || fail "check --json: $(head -c 300 c.json)"
sed '1s/^\(xxh64 *\)\(.\)/\1X/' m.manifest > bad.manifest
rc=0
gguf-verify check --json bad.manifest > c2.json 2> /dev/null || rc=$?
[ "$rc" = 1 ] || fail "check --json on a bad manifest: exit $rc"
jq -e '(.passed | not) and (.summary.failed + .summary.malformed) >= 1' c2.json > /dev/null ||
    fail "check --json verdict: $(head -c 300 c2.json)"
# validate: ok, then an error for a truncated file (exit 2, still one document)
gguf-verify validate --json m.gguf | jq -e '.files[0].status == "ok" and .files[0].error == null' > /dev/null ||
    fail "validate --json"
head -c 2000 m.gguf > t.gguf
rc=0
gguf-verify validate --json m.gguf t.gguf > v.json 2> /dev/null || rc=$?
[ "$rc" != 0 ] || fail "validate --json of a truncated file: exit 0"
jq -e '.files[0].status == "ok" and .files[1].status != "ok" and (.files[1].error | length) > 0' v.json > /dev/null ||
    fail "validate --json: $(cat v.json)"
