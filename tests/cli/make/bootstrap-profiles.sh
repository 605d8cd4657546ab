# make demo installs only what the demo uses: scripts/bootstrap -n PROFILE
# lists a profile's packages without installing. The demo profile has no
# chromium, no test-only tool (clang, Check, valgrind) and only the npm
# dependencies, which are exactly the packages scripts/demo.mjs and the
# README's example (what make demo runs) import; check has everything
case "$PATH" in *asan*) exit 0 ;; esac # no programs involved: once is enough
. "$SRC/tests/cli/lib.sh"
b=$SRC/scripts/bootstrap
if command -v node > /dev/null 2>&1; then
    "$b" -n demo > demo.txt || fail "bootstrap -n demo: exit $?"
else # the demo needs node: bootstrap says so and stops
    "$b" -n demo > demo.txt 2> err.txt && fail "bootstrap -n demo without node: exit 0"
    grep -q 'needs node >= 20' err.txt || fail "message: $(cat err.txt)"
    exit 0
fi
"$b" -n check > check.txt || fail "bootstrap -n check: exit $?"
"$b" -n build > build.txt || fail "bootstrap -n build: exit $?"
debs() { sed -n "s/^bootstrap: $1: debian: //p" "$1.txt" | tr ' ' '\n' | sort; }
[ -n "$(debs demo)" ] || fail "no debian line: $(cat demo.txt)"
for p in chromium clang clang-format check valgrind libclang-rt-14-dev; do
    debs demo | grep -qx "$p" && fail "the demo profile installs $p"
    debs check | grep -qx "$p" || fail "the check profile lacks $p"
done
for p in jq python3 libjansson-dev; do
    debs demo | grep -qx "$p" || fail "the demo profile lacks $p"
done
debs build | grep -qx jq && fail "the build profile installs jq"
# a profile is a superset of build
debs build > b.lst
debs demo > d.lst
[ -z "$(comm -23 b.lst d.lst)" ] || fail "demo lacks build packages: $(comm -23 b.lst d.lst)"
if command -v node > /dev/null 2>&1; then
    grep -qx 'bootstrap: demo: npm: tests/interop dependencies (to install: .*)' demo.txt ||
        fail "demo npm: $(grep npm demo.txt)"
    grep -qx 'bootstrap: check: npm: tests/interop dependencies devDependencies (to install: .*)' check.txt ||
        fail "check npm: $(grep npm check.txt)"
fi
grep -qx 'bootstrap: build: npm: none' build.txt || fail "build npm: $(grep npm build.txt)"
# the npm dependencies are what the demo's JavaScript imports, no more, no less
sed -n '/^```js$/,/^```$/p' "$SRC/README.md" | cat - "$SRC/scripts/demo.mjs" |
    grep -o 'from "[^"]*"\|import("[^"]*")' | sed 's/.*"\(.*\)".*/\1/' | grep -v '^node:' |
    sort -u > used.lst
jq -r '.dependencies | keys[]' "$SRC/tests/interop/package.json" |
    grep -v '^@node-llama-cpp/' | sort > deps.lst # a platform build, loaded by node-llama-cpp
[ "$(cat used.lst)" = "$(cat deps.lst)" ] ||
    fail "npm dependencies differ from the demo's imports: $(diff used.lst deps.lst | tr '\n' ' ')"
# make demo calls the demo profile, make check the check profile
make -s -n -C "$SRC" BUILD="$BUILD" demo 2> /dev/null | grep -q 'scripts/bootstrap demo' ||
    fail "make demo does not bootstrap the demo profile"
make -s -n -C "$SRC" BUILD="$BUILD" bootstrap 2> /dev/null | grep -q 'scripts/bootstrap check' ||
    fail "make check's bootstrap is not the check profile"
"$b" -n bogus 2> err.txt && fail "an unknown profile was accepted"
grep -q "unknown profile 'bogus'" err.txt || fail "message: $(cat err.txt)"
