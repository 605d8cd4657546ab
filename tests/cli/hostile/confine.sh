# Names read from a file stay inside its directory. A manifest's lines
# resolve relative to the manifest's directory and may not leave it (an
# absolute name, "..", a symlink pointing out) unless --allow-outside;
# a split set's sibling shard may not be a symlink leading out of the set's
# directory (a whole set linked from elsewhere is fine). Refusals exit 2,
# and a long name is never echoed whole.
. "$SRC/tests/cli/hostile/_hostile.inc"
mkdir -p d/sub
"$BUILD/fixtures/make_gguf" --layers 1 --embd 64 --ff 64 --heads 2 --vocab 64 d/m.gguf
cp d/m.gguf outside.gguf
(cd d && gguf-verify hash --no-layer m.gguf > m.manifest)
# relative to the manifest's directory, wherever the check runs from
gguf-verify check d/m.manifest > out.txt || fail "check from the parent directory"
grep -qx "m.gguf: OK" out.txt || fail "result: $(cat out.txt)"
for bad in ../outside.gguf "$PWD/outside.gguf" sub/../../outside.gguf link.gguf; do
    sed "s#  m\.gguf\$#  $bad#" d/m.manifest > d/bad.manifest
    ln -sf ../outside.gguf d/link.gguf
    refused "manifest's directory (--allow-outside allows it)" no-output gguf-verify check d/bad.manifest
    grep -qx "$bad: FAILED open or read" cmd.out || fail "$bad: result: $(cat cmd.out)"
    gguf-verify check --allow-outside d/bad.manifest > out.txt || fail "$bad: --allow-outside"
done
printf '%s  ../outside.gguf\n' "$(sha256sum < outside.gguf | cut -c1-64)" > d/bad.sha256
refused "../outside.gguf: leads out of the manifest's directory" no-output gguf-verify check d/bad.sha256
gguf-verify check --allow-outside d/bad.sha256 > out.txt || fail "sha256 line, --allow-outside"

# long names: a 50 MB one is a malformed line (never echoed), a 1000-byte
# one is cut in the message
{ printf '%064d  ' 0; head -c 50000000 /dev/zero | tr '\0' a; echo; } > d/huge.sha256
gguf-verify check --warn d/huge.sha256 > out.txt 2> err.txt && fail "a 50 MB name passed"
[ "$(cat out.txt err.txt | wc -c)" -lt 2000 ] || fail "the 50 MB name was echoed"
grep -q "huge.sha256:1: improperly formatted" err.txt || fail "line not reported: $(head -c 300 err.txt)"
long=$(head -c 1000 /dev/zero | tr '\0' b)
printf '%064d  %s\n' 0 "$long" > d/long.sha256
gguf-verify check d/long.sha256 > out.txt 2> err.txt && fail "a missing file passed"
grep -q "^gguf-verify: b\{200\}\.\.\.: cannot open" err.txt || fail "long name not cut: $(head -c 300 err.txt)"
[ "$(wc -c < err.txt)" -lt 1000 ] || fail "the 1000-byte name was echoed"

# split sets: a sibling that is a symlink out of the directory, and a whole
# set linked from elsewhere
mkdir real set
"$BUILD/fixtures/make_gguf" --layers 1 --embd 64 --ff 64 --heads 2 --vocab 64 --split 2 real/s.gguf
cp real/s-00001-of-00002.gguf set/
ln -s ../real/s-00002-of-00002.gguf set/s-00002-of-00002.gguf
refused "s-00002-of-00002.gguf: shard resolves outside the directory of set/s-00001-of-00002.gguf" \
    no-output gguf-inspect set/s-00001-of-00002.gguf
refused "resolves outside" out.gguf requant set/s-00001-of-00002.gguf out.gguf Q8_0
rm set/*
ln -s ../real/s-00001-of-00002.gguf ../real/s-00002-of-00002.gguf set/
gguf-inspect set/s-00001-of-00002.gguf > out.txt || fail "a set linked as a whole"
