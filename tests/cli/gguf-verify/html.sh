# --html: one self-contained page; headless Chromium renders it, the chart
# has exactly one point per layer for each tensor kind, the table sorts,
# and the screenshot is not blank
. "$SRC/tests/cli/lib.sh"
need_shared
command -v chromium >/dev/null || { echo "SKIP: chromium not installed (scripts/bootstrap)" >&2; exit 77; }
m=$SHARED/fixtures/ref-llama-f16.gguf
requant -q "$m" q4.gguf Q4_K_M
gguf-verify diff --html report.html "$m" q4.gguf > /dev/null
gguf-verify diff --html report.html "$m" q4.gguf > /dev/null 2>&1 && fail "overwrote without -f"
gguf-verify diff -f --html report.html "$m" q4.gguf > /dev/null || fail "-f"
grep -q 'https\?://' report.html && fail "page refers to the network"
chrome() {
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --no-first-run --user-data-dir="$PWD/profile" \
        --window-size=1200,900 "$@" "file://$PWD/report.html" 2>/dev/null
}
chrome --dump-dom > dom.html
[ -s dom.html ] || fail "no DOM"
for kind in attn_q attn_k attn_v attn_output ffn_gate ffn_up ffn_down; do
    n=$(grep -o "<circle class=\"pt\" data-kind=\"$kind\" data-layer=\"[0-9]*\"" dom.html | sort -u | wc -l)
    [ "$n" = 8 ] || fail "$kind: $n points, want one per layer (8)"
done
[ "$(grep -o '<circle ' dom.html | wc -l)" = 56 ] || fail "total points"
[ "$(grep -o '<rect class="bar" data-layer=' dom.html | wc -l)" = 8 ] || fail "bpw bars"
[ "$(grep -o '<tr><td>' dom.html | wc -l)" = 75 ] || fail "table rows"
chrome --screenshot="$PWD/shot.png" > /dev/null
[ -s shot.png ] || fail "no screenshot"
node -e '
// decode the PNG (8-bit RGB/RGBA, no interlace) and count distinct colours
const fs = require("fs"), zlib = require("zlib");
const b = fs.readFileSync("shot.png");
let p = 8, w, h, ct, idat = [];
while (p < b.length) {
  const len = b.readUInt32BE(p), type = b.toString("ascii", p + 4, p + 8), d = b.subarray(p + 8, p + 8 + len);
  if (type === "IHDR") { w = d.readUInt32BE(0); h = d.readUInt32BE(4); ct = d[9]; if (d[8] !== 8 || d[12]) throw new Error("png format"); }
  if (type === "IDAT") idat.push(d);
  p += 12 + len;
}
const bpp = ct === 6 ? 4 : ct === 2 ? 3 : 0;
if (!bpp) throw new Error("colour type " + ct);
const raw = zlib.inflateSync(Buffer.concat(idat)), stride = w * bpp;
let prev = Buffer.alloc(stride), cur = Buffer.alloc(stride);
const colours = new Set();
for (let y = 0; y < h; y++) {
  const f = raw[y * (stride + 1)], row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
  for (let i = 0; i < stride; i++) {
    const a = i >= bpp ? cur[i - bpp] : 0, up = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
    let v = row[i];
    if (f === 1) v += a; else if (f === 2) v += up; else if (f === 3) v += (a + up) >> 1;
    else if (f === 4) { const pp = a + up - c, pa = Math.abs(pp - a), pb = Math.abs(pp - up), pc = Math.abs(pp - c); v += pa <= pb && pa <= pc ? a : pb <= pc ? up : c; }
    cur[i] = v & 255;
  }
  for (let x = 0; x < w; x += 3) colours.add(cur.readUIntBE(x * bpp, 3));
  [prev, cur] = [cur, prev];
}
if (w !== 1200 || colours.size < 8) throw new Error("blank screenshot: " + colours.size + " colours");
'
