// gguf_tsv.mjs FILE.gguf META.tsv TENSORS.tsv
// Writes the metadata and tensor listings of a GGUF file in the format of
// ../shared/golden/convert_hf_to_gguf/*.tsv (see ../shared/README.md):
//   meta:    key TAB value-type TAB value   (arrays: "[N x TYPE]" TAB first 16
//            hex of SHA-256 of Python's json.dumps(list of values))
//   tensors: name TAB ggml type TAB shape (ne0 first, 'x'-joined) TAB XXH64
// Values are rendered as Python renders them (repr of floats, True/False,
// json.dumps with ensure_ascii for strings), since the golden files were
// produced by Python. No npm packages needed.
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

const [file, metaOut, tensorsOut] = process.argv.slice(2);
const buf = readFileSync(file);
let o = 0;
const u32 = () => { const v = buf.readUInt32LE(o); o += 4; return v; };
const u64 = () => { const v = buf.readBigUInt64LE(o); o += 8; return Number(v); };
const str = () => { const n = u64(); const s = buf.subarray(o, o + n); o += n; return s; };

const VT = ['UINT8', 'INT8', 'UINT16', 'INT16', 'UINT32', 'INT32', 'FLOAT32', 'BOOL', 'STRING',
  'ARRAY', 'UINT64', 'INT64', 'FLOAT64'];
const GT = { 0: 'F32', 1: 'F16', 8: 'Q8_0', 30: 'BF16', 2: 'Q4_0', 3: 'Q4_1', 6: 'Q5_0', 7: 'Q5_1',
  10: 'Q2_K', 11: 'Q3_K', 12: 'Q4_K', 13: 'Q5_K', 14: 'Q6_K', 34: 'TQ1_0', 35: 'TQ2_0' };
const BLK = { 0: [1, 4], 1: [1, 2], 30: [1, 2], 8: [32, 34], 2: [32, 18], 3: [32, 20], 6: [32, 22],
  7: [32, 24], 10: [256, 84], 11: [256, 110], 12: [256, 144], 13: [256, 176], 14: [256, 210] };

function scalar(t) {
  switch (t) {
    case 0: return buf.readUInt8(o++);
    case 1: return buf.readInt8(o++);
    case 2: { const v = buf.readUInt16LE(o); o += 2; return v; }
    case 3: { const v = buf.readInt16LE(o); o += 2; return v; }
    case 4: return u32();
    case 5: { const v = buf.readInt32LE(o); o += 4; return v; }
    case 6: { const v = buf.readFloatLE(o); o += 4; return { f: v }; }
    case 7: return { b: buf.readUInt8(o++) !== 0 };
    case 8: return { s: str().toString('utf8') };
    case 10: { const v = buf.readBigUInt64LE(o); o += 8; return v; }
    case 11: { const v = buf.readBigInt64LE(o); o += 8; return v; }
    case 12: { const v = buf.readDoubleLE(o); o += 8; return { f: v }; }
    default: throw new Error(`bad value type ${t}`);
  }
}

// Python float repr
function pyFloat(x) {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [m, e] = x.toExponential().split('e');
  const exp = parseInt(e, 10);
  const neg = m.startsWith('-');
  const digits = m.replace('-', '').replace('.', '');
  let out;
  if (exp >= -4 && exp < 16) {
    if (exp >= 0) {
      const ip = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
      const fp = digits.slice(exp + 1);
      out = ip + '.' + (fp || '0');
    } else {
      out = '0.' + '0'.repeat(-exp - 1) + digits;
    }
  } else {
    const mant = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
    out = mant + 'e' + (exp < 0 ? '-' : '+') + String(Math.abs(exp)).padStart(2, '0');
  }
  return (neg ? '-' : '') + out;
}

// json.dumps(str, ensure_ascii=False): the golden files keep non-ASCII as UTF-8
function pyJsonStr(s) {
  let r = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i];
    if (ch === '"') r += '\\"';
    else if (ch === '\\') r += '\\\\';
    else if (ch === '\n') r += '\\n';
    else if (ch === '\r') r += '\\r';
    else if (ch === '\t') r += '\\t';
    else if (ch === '\b') r += '\\b';
    else if (ch === '\f') r += '\\f';
    else if (c < 0x20) r += '\\u' + c.toString(16).padStart(4, '0');
    else r += ch;
  }
  return r + '"';
}

function pyJson(v) {
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if ('f' in v) return pyFloat(v.f);
  if ('b' in v) return v.b ? 'true' : 'false';
  if ('s' in v) return pyJsonStr(v.s);
  throw new Error('unexpected value');
}

function pyStr(v) {
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if ('f' in v) return pyFloat(v.f);
  if ('b' in v) return v.b ? 'True' : 'False';
  return pyJsonStr(v.s);
}

// XXH64, seed 0
const M64 = (1n << 64n) - 1n;
const P1 = 11400714785074694791n, P2 = 14029467366897019727n, P3 = 1609587929392839161n;
const P4 = 9650029242287828579n, P5 = 2870177450012600261n;
const rotl = (x, r) => ((x << r) | (x >> (64n - r))) & M64;
const round = (acc, lane) => (rotl((acc + lane * P2) & M64, 31n) * P1) & M64;
const merge = (acc, v) => (((acc ^ round(0n, v)) * P1) & M64) + P4 & M64;
function xxh64(b) {
  const n = b.length;
  let p = 0, h;
  if (n >= 32) {
    let v1 = (P1 + P2) & M64, v2 = P2, v3 = 0n, v4 = (0n - P1) & M64;
    while (p + 32 <= n) {
      v1 = round(v1, b.readBigUInt64LE(p)); v2 = round(v2, b.readBigUInt64LE(p + 8));
      v3 = round(v3, b.readBigUInt64LE(p + 16)); v4 = round(v4, b.readBigUInt64LE(p + 24));
      p += 32;
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M64;
    h = merge(h, v1); h = merge(h, v2); h = merge(h, v3); h = merge(h, v4);
  } else {
    h = P5;
  }
  h = (h + BigInt(n)) & M64;
  while (p + 8 <= n) {
    h ^= round(0n, b.readBigUInt64LE(p));
    h = (rotl(h, 27n) * P1 + P4) & M64;
    p += 8;
  }
  if (p + 4 <= n) {
    h ^= (BigInt(b.readUInt32LE(p)) * P1) & M64;
    h = (rotl(h, 23n) * P2 + P3) & M64;
    p += 4;
  }
  while (p < n) {
    h ^= (BigInt(b[p]) * P5) & M64;
    h = (rotl(h, 11n) * P1) & M64;
    p++;
  }
  h ^= h >> 33n; h = (h * P2) & M64;
  h ^= h >> 29n; h = (h * P3) & M64;
  h ^= h >> 32n;
  return h.toString(16).padStart(16, '0');
}

if (buf.toString('latin1', 0, 4) !== 'GGUF') throw new Error('not a GGUF file');
o = 4;
u32();
const nt = u64(), nkv = u64();
const meta = [];
let align = 32;
for (let i = 0; i < nkv; i++) {
  const key = str().toString('utf8');
  const t = u32();
  if (t === 9) {
    const et = u32(), n = u64();
    const vals = [];
    for (let k = 0; k < n; k++) vals.push(scalar(et));
    const json = '[' + vals.map(pyJson).join(', ') + ']';
    const h = createHash('sha256').update(json, 'utf8').digest('hex').slice(0, 16);
    meta.push(`${key}\t[${n} x ${VT[et]}]\t${h}`);
  } else {
    const v = scalar(t);
    if (key === 'general.alignment') align = Number(v);
    meta.push(`${key}\t${VT[t]}\t${pyStr(v)}`);
  }
}
const tensors = [];
for (let i = 0; i < nt; i++) {
  const name = str().toString('utf8');
  const nd = u32();
  const ne = [];
  for (let k = 0; k < nd; k++) ne.push(u64());
  const type = u32();
  const off = u64();
  tensors.push({ name, ne, type, off });
}
const data0 = Math.ceil(o / align) * align;
const lines = tensors.map(t => {
  const [bs, ts] = BLK[t.type];
  const n = t.ne.reduce((a, b) => a * b, 1);
  const bytes = n / bs * ts;
  const h = xxh64(buf.subarray(data0 + t.off, data0 + t.off + bytes));
  return `${t.name}\t${GT[t.type] ?? t.type}\t${t.ne.join('x')}\t${h}`;
});
writeFileSync(metaOut, meta.join('\n') + '\n');
writeFileSync(tensorsOut, lines.join('\n') + '\n');
