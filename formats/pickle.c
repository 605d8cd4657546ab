/*
 * pickle.c -- restricted reader for torch.save zip archives.
 *
 * Two layers, both over untrusted bytes:
 *
 *  1. Zip (APPNOTE.TXT): find the end-of-central-directory record (and the
 *     zip64 one when present), walk the central directory, check each local
 *     header, and keep name -> (data offset, size) for STORED entries.
 *
 *       [local hdr 30+n+x][data] ... [central dir 46+n+x+c ...]
 *       [zip64 EOCD 56][zip64 locator 20][EOCD 22+comment]
 *
 *  2. Pickle: a stack machine that knows only the opcodes torch.save emits
 *     for a state_dict. A checkpoint pickles as
 *
 *       OrderedDict() { name: _rebuild_tensor_v2(
 *           PERSID(('storage', torch.FloatStorage, '0', 'cpu', numel)),
 *           storage_offset, (sizes...), (strides...), requires_grad,
 *           OrderedDict()) ... }  BUILD({'_metadata': ...})
 *
 *     GLOBAL/STACK_GLOBAL resolve against a fixed allowlist to a tag, and
 *     REDUCE on a tag builds a plain description (empty dict, tensor record)
 *     instead of calling anything; any other import is refused. The whole
 *     interpreter is iterative, with bounded stack, marks, memo and object
 *     count, so hostile input cannot recurse or allocate without limit.
 */
#include "io.h"
#include "pickle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Errors and little helpers                                                  */
/* ------------------------------------------------------------------------ */

static _Thread_local char open_err[1024];

const char *fmt_pt_open_errmsg(void) {
    return open_err;
}

/* Record "FILE: message" for this thread and return code. */
static gk_status fail(gk_status code, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static gk_status fail(gk_status code, const char *file, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fmt_vformat_errmsg(open_err, sizeof open_err, file, fmt, ap);
    va_end(ap);
    return code;
}

static uint16_t le16(const uint8_t *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p) {
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* CRC-32 (IEEE, reflected, as zip uses), bitwise: only data.pkl is hashed. */
static uint32_t crc32_ieee(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

/* 1 when s[0..n) is valid UTF-8 without NUL (RFC 3629). */
static int utf8_ok(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t k;
        uint32_t cp, min;
        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0)
            k = 1, cp = c & 0x1F, min = 0x80;
        else if ((c & 0xF0) == 0xE0)
            k = 2, cp = c & 0x0F, min = 0x800;
        else if ((c & 0xF8) == 0xF0)
            k = 3, cp = c & 0x07, min = 0x10000;
        else
            return 0;
        if (n - i <= k)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Zip central directory                                                      */
/* ------------------------------------------------------------------------ */

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOCATOR64 0x07064b50u

typedef struct {
    const char *name; /* into the buffer, not NUL-terminated */
    uint16_t name_len;
    uint32_t crc;
    uint64_t data_off; /* absolute */
    uint64_t size;
} zentry;

typedef struct {
    const char *label;
    const uint8_t *b;
    uint64_t len;
    zentry *e;
    uint64_t n;
} zip;

static int zentry_cmp(const void *a, const void *b) {
    const zentry *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    if (c)
        return c;
    return (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

static const zentry *zip_find(const zip *z, const char *name, size_t len) {
    if (len > UINT16_MAX || !z->n)
        return NULL;
    zentry key = {.name = name, .name_len = (uint16_t)len};
    return bsearch(&key, z->e, (size_t)z->n, sizeof *z->e, zentry_cmp);
}

/* Locate the end-of-central-directory record: the last signature whose
 * comment length reaches exactly the end of the file. */
static gk_status find_eocd(const zip *z, uint64_t *at) {
    if (z->len >= 2 && z->b[0] == 0x80 && z->b[1] <= 5)
        return fail(GK_E_UNSUPPORTED, z->label,
                    "a bare pickle (legacy torch.save format before 1.6) is not supported; "
                    "re-save it with a current PyTorch (at byte 0)");
    if (z->len < 22)
        return fail(GK_E_FORMAT, z->label, "%llu bytes: too small to be a zip archive (at byte 0)",
                    (unsigned long long)z->len);
    uint64_t lo = z->len - 22 > 0xFFFF ? z->len - 22 - 0xFFFF : 0;
    for (uint64_t p = z->len - 22 + 1; p-- > lo;) {
        if (le32(z->b + p) == SIG_EOCD && p + 22 + le16(z->b + p + 20) == z->len) {
            *at = p;
            return GK_OK;
        }
    }
    return fail(GK_E_FORMAT, z->label,
                "not a zip archive: no end of central directory record (at byte %llu)",
                (unsigned long long)z->len);
}

/* Apply a central entry's zip64 extra field (id 1) to the fields saturated
 * at 0xFFFFFFFF, in the order APPNOTE 4.5.3 gives. */
static gk_status zip64_extra(const zip *z, const uint8_t *x, uint16_t xlen, uint64_t at,
                             uint64_t *usize, uint64_t *csize, uint64_t *loff, int *disk_big) {
    uint64_t *fields[3] = {usize, csize, loff};
    uint32_t p = 0;
    while (p + 4 <= xlen) {
        uint16_t id = le16(x + p), sz = le16(x + p + 2);
        if ((uint32_t)p + 4 + sz > xlen)
            return fail(GK_E_FORMAT, z->label, "extra field runs past its entry (at byte %llu)",
                        (unsigned long long)(at + p));
        if (id == 1) {
            uint32_t q = p + 4, end = p + 4u + sz;
            for (int k = 0; k < 3; k++) {
                if (*fields[k] != 0xFFFFFFFFu)
                    continue;
                if (q + 8 > end)
                    return fail(GK_E_FORMAT, z->label, "zip64 extra field too short (at byte %llu)",
                                (unsigned long long)(at + p));
                *fields[k] = le64(x + q);
                q += 8;
            }
            if (*disk_big) {
                if (q + 4 > end)
                    return fail(GK_E_FORMAT, z->label, "zip64 extra field too short (at byte %llu)",
                                (unsigned long long)(at + p));
                *disk_big = le32(x + q) != 0;
            }
            return GK_OK;
        }
        p += 4u + sz;
    }
    return GK_OK;
}

/* The zip64 end of central directory record that the locator just before
 * the end record at eocd points to: entry count and directory extent;
 * *limit is where the directory must end. */
static gk_status read_eocd64(const zip *z, uint64_t eocd, uint64_t *n, uint64_t *cd_size,
                             uint64_t *cd_off, uint64_t *limit) {
    const uint8_t *l = z->b + eocd - 20;
    uint64_t z64 = le64(l + 8);
    if (le32(l + 4) != 0 || le32(l + 16) != 1)
        return fail(GK_E_UNSUPPORTED, z->label,
                    "multi-disk zip archives are not supported (at byte %llu)",
                    (unsigned long long)(eocd - 20));
    if (z64 > eocd - 20 || eocd - 20 - z64 < 56 || le32(z->b + z64) != SIG_EOCD64)
        return fail(GK_E_FORMAT, z->label,
                    "zip64 end of central directory record missing at %llu (at byte %llu)",
                    (unsigned long long)z64, (unsigned long long)(eocd - 20 + 8));
    const uint8_t *r = z->b + z64;
    if (le32(r + 16) != 0 || le32(r + 20) != 0 || le64(r + 24) != le64(r + 32))
        return fail(GK_E_UNSUPPORTED, z->label,
                    "multi-disk zip archives are not supported (at byte %llu)",
                    (unsigned long long)z64);
    *n = le64(r + 32);
    *cd_size = le64(r + 40);
    *cd_off = le64(r + 48);
    *limit = z64;
    return GK_OK;
}

/* Entry count and extent of the central directory, from the end record
 * (and its zip64 record when there is one), checked against the file. */
static gk_status central_dir(const zip *z, uint64_t *n, uint64_t *cd_off, uint64_t *cd_size) {
    uint64_t eocd = 0;
    gk_status rc = find_eocd(z, &eocd);
    if (rc)
        return rc;
    const uint8_t *e = z->b + eocd;
    *n = le16(e + 10);
    *cd_size = le32(e + 12);
    *cd_off = le32(e + 16);
    uint64_t limit = eocd; /* the central directory ends before this */
    if (le16(e + 4) != 0 || le16(e + 6) != 0 || le16(e + 8) != le16(e + 10))
        return fail(GK_E_UNSUPPORTED, z->label,
                    "multi-disk zip archives are not supported (at byte %llu)",
                    (unsigned long long)eocd);
    if (eocd >= 20 && le32(z->b + eocd - 20) == SIG_LOCATOR64) {
        if ((rc = read_eocd64(z, eocd, n, cd_size, cd_off, &limit)) != GK_OK)
            return rc;
    } else if (*n == 0xFFFF || *cd_size == 0xFFFFFFFFu || *cd_off == 0xFFFFFFFFu) {
        return fail(GK_E_FORMAT, z->label,
                    "end of central directory has zip64 markers but no zip64 record "
                    "(at byte %llu)",
                    (unsigned long long)eocd);
    }
    if (*cd_off > limit || *cd_size > limit - *cd_off)
        return fail(GK_E_FORMAT, z->label,
                    "central directory [%llu, +%llu) runs past its end record (at byte %llu)",
                    (unsigned long long)*cd_off, (unsigned long long)*cd_size,
                    (unsigned long long)eocd);
    if (*n > *cd_size / 46)
        return fail(GK_E_FORMAT, z->label,
                    "%llu entries cannot fit in a %llu-byte central directory (at byte %llu)",
                    (unsigned long long)*n, (unsigned long long)*cd_size, (unsigned long long)eocd);
    return GK_OK;
}

/* The local header at loff of entry ze (central record at p): same name,
 * stored, and usize bytes of data that end before the central directory at
 * cd_off. Sets ze's data offset and size. */
static gk_status read_local_header(const zip *z, zentry *ze, uint64_t loff, uint64_t usize,
                                   uint64_t cd_off, uint64_t p) {
    int nlen = (int)ze->name_len;
    if (loff > cd_off || cd_off - loff < 30 || le32(z->b + loff) != SIG_LOCAL)
        return fail(GK_E_FORMAT, z->label, "entry '%.*s': no local header at %llu (at byte %llu)",
                    nlen, ze->name, (unsigned long long)loff, (unsigned long long)(p + 42));
    const uint8_t *lh = z->b + loff;
    uint16_t lnlen = le16(lh + 26), lxlen = le16(lh + 28);
    uint64_t data = loff + 30 + lnlen + lxlen;
    if (data > cd_off || lnlen != ze->name_len || memcmp(lh + 30, ze->name, ze->name_len) != 0 ||
        le16(lh + 8) != 0)
        return fail(GK_E_FORMAT, z->label,
                    "entry '%.*s': local header disagrees with the central directory "
                    "(at byte %llu)",
                    nlen, ze->name, (unsigned long long)loff);
    if (usize > cd_off - data)
        return fail(GK_E_FORMAT, z->label,
                    "entry '%.*s': %llu bytes of data run into the central directory "
                    "(at byte %llu)",
                    nlen, ze->name, (unsigned long long)usize, (unsigned long long)data);
    ze->data_off = data;
    ze->size = usize;
    return GK_OK;
}

/* Central directory entry i, at p in a directory [cd_off, cd_end), into
 * ze; *next gets the offset of the entry after it. */
static gk_status read_central_entry(const zip *z, uint64_t i, uint64_t p, uint64_t cd_off,
                                    uint64_t cd_end, zentry *ze, uint64_t *next) {
    if (cd_end - p < 46 || le32(z->b + p) != SIG_CENTRAL)
        return fail(GK_E_FORMAT, z->label, "central directory entry %llu is bad (at byte %llu)",
                    (unsigned long long)i, (unsigned long long)p);
    const uint8_t *c = z->b + p;
    uint16_t flags = le16(c + 8), method = le16(c + 10);
    uint16_t nlen = le16(c + 28), xlen = le16(c + 30), clen = le16(c + 32);
    uint64_t csize = le32(c + 20), usize = le32(c + 24), loff = le32(c + 42);
    int disk_big = le16(c + 34) == 0xFFFF;
    if (cd_end - p - 46 < (uint64_t)nlen + xlen + clen)
        return fail(GK_E_FORMAT, z->label,
                    "central directory entry %llu runs past the directory (at byte %llu)",
                    (unsigned long long)i, (unsigned long long)p);
    ze->name = (const char *)c + 46;
    ze->name_len = nlen;
    ze->crc = le32(c + 16);
    gk_status rc =
        zip64_extra(z, c + 46 + nlen, xlen, p + 46 + nlen, &usize, &csize, &loff, &disk_big);
    if (rc)
        return rc;
    if (usize == 0xFFFFFFFFu || csize == 0xFFFFFFFFu || loff == 0xFFFFFFFFu)
        return fail(GK_E_FORMAT, z->label, "entry '%.*s': zip64 extra field missing (at byte %llu)",
                    (int)nlen, ze->name, (unsigned long long)p);
    if ((le16(c + 34) != 0 && le16(c + 34) != 0xFFFF) || disk_big)
        return fail(GK_E_UNSUPPORTED, z->label, "entry '%.*s' is on another disk (at byte %llu)",
                    (int)nlen, ze->name, (unsigned long long)p);
    if (flags & 1u)
        return fail(GK_E_UNSUPPORTED, z->label, "entry '%.*s' is encrypted (at byte %llu)",
                    (int)nlen, ze->name, (unsigned long long)p);
    if (method != 0)
        return fail(GK_E_UNSUPPORTED, z->label,
                    "entry '%.*s' is compressed (method %u); torch.save stores entries "
                    "uncompressed (at byte %llu)",
                    (int)nlen, ze->name, method, (unsigned long long)p);
    if (csize != usize)
        return fail(GK_E_FORMAT, z->label,
                    "stored entry '%.*s' has compressed size %llu != size %llu "
                    "(at byte %llu)",
                    (int)nlen, ze->name, (unsigned long long)csize, (unsigned long long)usize,
                    (unsigned long long)p);
    if ((rc = read_local_header(z, ze, loff, usize, cd_off, p)) != GK_OK)
        return rc;
    *next = p + 46u + nlen + xlen + clen;
    return GK_OK;
}

static gk_status zip_read(zip *z) {
    uint64_t n = 0, cd_off = 0, cd_size = 0;
    gk_status rc = central_dir(z, &n, &cd_off, &cd_size);
    if (rc)
        return rc;
    z->e = calloc(n ? (size_t)n : 1, sizeof *z->e);
    if (!z->e)
        return fail(GK_E_NOMEM, z->label, "out of memory");
    uint64_t p = cd_off, cd_end = cd_off + cd_size;
    for (uint64_t i = 0; i < n; i++)
        if ((rc = read_central_entry(z, i, p, cd_off, cd_end, &z->e[i], &p)) != GK_OK)
            return rc;
    if (p != cd_end)
        return fail(GK_E_FORMAT, z->label,
                    "central directory has %llu bytes after its %llu entries (at byte %llu)",
                    (unsigned long long)(cd_end - p), (unsigned long long)n, (unsigned long long)p);
    z->n = n;
    if (n)
        qsort(z->e, (size_t)n, sizeof *z->e, zentry_cmp);
    for (uint64_t i = 1; i < n; i++)
        if (zentry_cmp(&z->e[i - 1], &z->e[i]) == 0)
            return fail(GK_E_FORMAT, z->label, "entry '%.*s' appears twice", (int)z->e[i].name_len,
                        z->e[i].name);
    return GK_OK;
}

/* ------------------------------------------------------------------------ */
/* Pickle values                                                              */
/* ------------------------------------------------------------------------ */

/* What an allowlisted global stands for; calling one is simulated. */
enum {
    G_ORDERED_DICT,
    G_REBUILD_TENSOR_V2,
    G_REBUILD_TENSOR,
    G_REBUILD_PARAMETER,
    G_SIZE,
    G_STORAGE, /* + dtype in val.sub */
};

static const struct {
    const char *module, *name;
    int tag;
    fmt_st_dtype dtype;
} allowed[] = {
    {"collections", "OrderedDict", G_ORDERED_DICT, 0},
    {"torch._utils", "_rebuild_tensor_v2", G_REBUILD_TENSOR_V2, 0},
    {"torch._utils", "_rebuild_tensor", G_REBUILD_TENSOR, 0},
    {"torch._utils", "_rebuild_parameter", G_REBUILD_PARAMETER, 0},
    {"torch", "Size", G_SIZE, 0},
    {"torch", "DoubleStorage", G_STORAGE, FMT_ST_F64},
    {"torch", "FloatStorage", G_STORAGE, FMT_ST_F32},
    {"torch", "HalfStorage", G_STORAGE, FMT_ST_F16},
    {"torch", "BFloat16Storage", G_STORAGE, FMT_ST_BF16},
    {"torch", "LongStorage", G_STORAGE, FMT_ST_I64},
    {"torch", "IntStorage", G_STORAGE, FMT_ST_I32},
    {"torch", "ShortStorage", G_STORAGE, FMT_ST_I16},
    {"torch", "CharStorage", G_STORAGE, FMT_ST_I8},
    {"torch", "ByteStorage", G_STORAGE, FMT_ST_U8},
    {"torch", "BoolStorage", G_STORAGE, FMT_ST_BOOL},
    {"torch", "Float8_e4m3fnStorage", G_STORAGE, FMT_ST_F8_E4M3},
    {"torch", "Float8_e5m2Storage", G_STORAGE, FMT_ST_F8_E5M2},
};

typedef enum {
    V_NONE,
    V_BOOL,
    V_INT,
    V_FLOAT,
    V_STR,
    V_TUPLE,
    V_LIST,
    V_DICT, /* items: key, value, key, value, ... */
    V_GLOBAL,
    V_STORAGE,
    V_TENSOR,
} vkind;

static const char *const kind_names[] = {
    "None", "bool", "int", "float", "str", "tuple", "list", "dict", "global", "storage", "tensor",
};

typedef struct val val;

typedef struct {
    val *storage;
    int64_t offset;
    uint32_t n_dims;
    int64_t shape[FMT_PT_MAX_DIMS];
    int64_t stride[FMT_PT_MAX_DIMS];
} tinfo;

struct val {
    uint8_t kind;
    uint8_t tag;     /* V_GLOBAL: G_*; V_STORAGE: dtype */
    uint32_t n, cap; /* items (V_TUPLE, V_LIST, V_DICT) */
    union {
        int64_t i;
        double f;
        struct {
            const char *p; /* into the pickle bytes */
            uint64_t len;
        } s;
        val **items;
        tinfo *t;
        struct {
            const char *key;
            uint64_t key_len;
            int64_t numel;
        } stg;
    } u;
};

#define CHUNK_VALS 1024

typedef struct chunk {
    struct chunk *next;
    uint32_t used;
    val v[CHUNK_VALS];
} chunk;

typedef struct {
    const char *label; /* "FILE: prefix/data.pkl" */
    const uint8_t *b;
    size_t len, pos, op_at;
    uint64_t base; /* absolute offset of b[0] in the file */
    val **stack;
    uint32_t sp, scap;
    uint32_t marks[FMT_PT_MAX_MARKS];
    uint32_t n_marks;
    val **memo;
    uint64_t memo_cap, memo_count;
    chunk *chunks;
    uint64_t n_vals;
} vm;

static gk_status vm_fail(vm *m, gk_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static gk_status vm_fail(vm *m, gk_status code, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fail(code, m->label, "%s (at byte %llu)", msg, (unsigned long long)(m->base + m->op_at));
}

static val *new_val(vm *m, vkind kind) {
    if (m->n_vals >= FMT_PT_MAX_OBJECTS)
        return NULL;
    if (!m->chunks || m->chunks->used == CHUNK_VALS) {
        chunk *c = malloc(sizeof *c);
        if (!c)
            return NULL;
        c->next = m->chunks;
        c->used = 0;
        m->chunks = c;
    }
    val *v = &m->chunks->v[m->chunks->used++];
    memset(v, 0, sizeof *v);
    v->kind = (uint8_t)kind;
    m->n_vals++;
    return v;
}

static void vm_free(vm *m) {
    for (chunk *c = m->chunks, *next; c; c = next) {
        next = c->next;
        for (uint32_t i = 0; i < c->used; i++) {
            val *v = &c->v[i];
            if (v->kind == V_TUPLE || v->kind == V_LIST || v->kind == V_DICT)
                free(v->u.items);
            else if (v->kind == V_TENSOR)
                free(v->u.t);
        }
        free(c);
    }
    free(m->stack);
    free(m->memo);
}

static int add_item(val *seq, val *x) {
    if (seq->n == seq->cap) {
        uint32_t nc = seq->cap ? seq->cap * 2 : 4;
        if (nc < seq->cap || nc > FMT_PT_MAX_STACK * 4u)
            return 0;
        val **p = realloc(seq->u.items, nc * sizeof *p);
        if (!p)
            return 0;
        seq->u.items = p;
        seq->cap = nc;
    }
    seq->u.items[seq->n++] = x;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Pickle machine: stack, marks, memo                                         */
/* ------------------------------------------------------------------------ */

static uint32_t floor_sp(const vm *m) {
    return m->n_marks ? m->marks[m->n_marks - 1] : 0;
}

static gk_status push(vm *m, val *v) {
    if (!v)
        return vm_fail(m, GK_E_NOMEM, "pickle creates more than %u objects or memory ran out",
                       FMT_PT_MAX_OBJECTS);
    if (m->sp == m->scap) {
        if (m->scap >= FMT_PT_MAX_STACK)
            return vm_fail(m, GK_E_NOMEM, "pickle stack deeper than %u", FMT_PT_MAX_STACK);
        uint32_t nc = m->scap ? m->scap * 2 : 64;
        val **p = realloc(m->stack, nc * sizeof *p);
        if (!p)
            return vm_fail(m, GK_E_NOMEM, "out of memory");
        m->stack = p;
        m->scap = nc;
    }
    m->stack[m->sp++] = v;
    return GK_OK;
}

/* Pop n values above the innermost mark into out[0..n) (bottom first). */
static gk_status pop_n(vm *m, uint32_t n, val **out, const char *op) {
    if (m->sp - floor_sp(m) < n)
        return vm_fail(m, GK_E_FORMAT, "pickle stack underflow in %s", op);
    m->sp -= n;
    for (uint32_t i = 0; i < n; i++)
        out[i] = m->stack[m->sp + i];
    return GK_OK;
}

/* Values from the innermost mark to the top: *first is their stack index;
 * the caller consumes them and calls drop_mark. */
static gk_status take_mark(vm *m, uint32_t *first, const char *op) {
    if (!m->n_marks)
        return vm_fail(m, GK_E_FORMAT, "%s without a MARK", op);
    *first = m->marks[m->n_marks - 1];
    return GK_OK;
}

static void drop_mark(vm *m) {
    m->sp = m->marks[--m->n_marks];
}

static gk_status memo_put(vm *m, uint64_t idx) {
    if (m->sp == floor_sp(m))
        return vm_fail(m, GK_E_FORMAT, "memo store with an empty stack");
    /* The pickler numbers memo slots 0, 1, 2, ...: an index beyond what the
     * input could ever fill is hostile, not sparse. */
    if (idx >= FMT_PT_MAX_MEMO || idx >= m->len)
        return vm_fail(m, GK_E_FORMAT, "memo index %llu out of range", (unsigned long long)idx);
    if (idx >= m->memo_cap) {
        uint64_t nc = m->memo_cap ? m->memo_cap : 64;
        while (nc <= idx)
            nc *= 2;
        val **p = realloc(m->memo, (size_t)nc * sizeof *p);
        if (!p)
            return vm_fail(m, GK_E_NOMEM, "out of memory");
        memset(p + m->memo_cap, 0, (size_t)(nc - m->memo_cap) * sizeof *p);
        m->memo = p;
        m->memo_cap = nc;
    }
    if (!m->memo[idx])
        m->memo_count++;
    m->memo[idx] = m->stack[m->sp - 1];
    return GK_OK;
}

static gk_status memo_get(vm *m, uint64_t idx) {
    if (idx >= m->memo_cap || !m->memo[idx])
        return vm_fail(m, GK_E_FORMAT, "memo index %llu was never stored", (unsigned long long)idx);
    return push(m, m->memo[idx]);
}

/* Read n operand bytes after the opcode. */
static gk_status operand(vm *m, size_t n, const uint8_t **p) {
    if (m->len - m->pos < n)
        return vm_fail(m, GK_E_FORMAT, "pickle truncated: opcode needs %zu more bytes", n);
    *p = m->b + m->pos;
    m->pos += n;
    return GK_OK;
}

static gk_status push_str(vm *m, uint64_t len) {
    if (len > m->len - m->pos)
        return vm_fail(m, GK_E_FORMAT,
                       "string of %llu bytes runs past the end of the pickle (%zu bytes left)",
                       (unsigned long long)len, m->len - m->pos);
    val *v = new_val(m, V_STR);
    if (v) {
        v->u.s.p = (const char *)m->b + m->pos;
        v->u.s.len = len;
    }
    m->pos += (size_t)len;
    return push(m, v);
}

static gk_status push_int(vm *m, int64_t x) {
    val *v = new_val(m, V_INT);
    if (v)
        v->u.i = x;
    return push(m, v);
}

/* Resolve module.name against the allowlist. */
static gk_status push_global(vm *m, const char *mod, size_t ml, const char *name, size_t nl) {
    for (size_t k = 0; k < sizeof allowed / sizeof *allowed; k++) {
        if (strlen(allowed[k].module) == ml && memcmp(allowed[k].module, mod, ml) == 0 &&
            strlen(allowed[k].name) == nl && memcmp(allowed[k].name, name, nl) == 0) {
            val *v = new_val(m, V_GLOBAL);
            if (v)
                v->tag = (uint8_t)k;
            return push(m, v);
        }
    }
    /* fail() replaces control bytes; long names are cut */
    return vm_fail(m, GK_E_FORMAT, "pickle imports '%.*s.%.*s', which is not allowed",
                   (int)(ml > 64 ? 64 : ml), mod, (int)(nl > 64 ? 64 : nl), name);
}

/* GLOBAL's operand: "module\nname\n". */
static gk_status read_line(vm *m, const char **s, size_t *len) {
    const uint8_t *start = m->b + m->pos;
    size_t room = m->len - m->pos;
    const uint8_t *nl = memchr(start, '\n', room > 256 ? 256 : room);
    if (!nl)
        return vm_fail(m, GK_E_FORMAT, "GLOBAL name not terminated by a newline");
    *s = (const char *)start;
    *len = (size_t)(nl - start);
    m->pos += *len + 1;
    return GK_OK;
}

/* ------------------------------------------------------------------------ */
/* Simulated calls                                                            */
/* ------------------------------------------------------------------------ */

static int is_uint(const val *v) {
    return v->kind == V_INT && v->u.i >= 0;
}

/* A tuple of non-negative ints with at most FMT_PT_MAX_DIMS entries. */
static int int_tuple(const val *v, uint32_t *n, int64_t *out) {
    if (v->kind != V_TUPLE || v->n > FMT_PT_MAX_DIMS)
        return 0;
    for (uint32_t i = 0; i < v->n; i++) {
        if (!is_uint(v->u.items[i]))
            return 0;
        out[i] = v->u.items[i]->u.i;
    }
    *n = v->n;
    return 1;
}

static gk_status call_rebuild_tensor(vm *m, val *args, int v2) {
    const char *fn = v2 ? "_rebuild_tensor_v2" : "_rebuild_tensor";
    /* v2: (storage, offset, size, stride, requires_grad, hooks[, metadata]) */
    if (v2 ? (args->n != 6 && args->n != 7) : args->n != 4)
        return vm_fail(m, GK_E_FORMAT, "%s called with %u arguments", fn, args->n);
    val **a = args->u.items;
    if (a[0]->kind != V_STORAGE)
        return vm_fail(m, GK_E_FORMAT, "%s: first argument is a %s, not a storage", fn,
                       kind_names[a[0]->kind]);
    if (!is_uint(a[1]))
        return vm_fail(m, GK_E_FORMAT, "%s: storage offset is not a non-negative int", fn);
    tinfo *t = calloc(1, sizeof *t);
    if (!t)
        return vm_fail(m, GK_E_NOMEM, "out of memory");
    uint32_t ns = 0, nst = 0;
    int ok_size = int_tuple(a[2], &ns, t->shape), ok_stride = int_tuple(a[3], &nst, t->stride);
    if (!ok_size || !ok_stride || ns != nst) {
        free(t);
        if (a[2]->kind == V_TUPLE && a[2]->n > FMT_PT_MAX_DIMS)
            return vm_fail(m, GK_E_UNSUPPORTED, "%s: %u dimensions, at most %d supported", fn,
                           a[2]->n, FMT_PT_MAX_DIMS);
        return vm_fail(m, GK_E_FORMAT,
                       "%s: size and stride are not tuples of non-negative ints of one length", fn);
    }
    if (v2 && a[4]->kind != V_BOOL) {
        free(t);
        return vm_fail(m, GK_E_FORMAT, "%s: requires_grad is not a bool", fn);
    }
    t->storage = a[0];
    t->offset = a[1]->u.i;
    t->n_dims = ns;
    val *v = new_val(m, V_TENSOR);
    if (!v) {
        free(t);
        return push(m, NULL);
    }
    v->u.t = t;
    return push(m, v);
}

/* REDUCE: callable(*args) for the allowlisted callables only. */
static gk_status do_reduce(vm *m) {
    val *x[2] = {0};
    gk_status rc = pop_n(m, 2, x, "REDUCE");
    if (rc)
        return rc;
    val *fn = x[0], *args = x[1];
    if (fn->kind != V_GLOBAL)
        return vm_fail(m, GK_E_FORMAT, "REDUCE calls a %s, not an allowed global",
                       kind_names[fn->kind]);
    if (args->kind != V_TUPLE)
        return vm_fail(m, GK_E_FORMAT, "REDUCE arguments are a %s, not a tuple",
                       kind_names[args->kind]);
    switch (allowed[fn->tag].tag) {
    case G_ORDERED_DICT:
        if (args->n != 0)
            return vm_fail(m, GK_E_UNSUPPORTED, "OrderedDict called with arguments");
        return push(m, new_val(m, V_DICT));
    case G_REBUILD_TENSOR_V2: return call_rebuild_tensor(m, args, 1);
    case G_REBUILD_TENSOR: return call_rebuild_tensor(m, args, 0);
    case G_REBUILD_PARAMETER:
        /* (data, requires_grad, backward_hooks): the parameter is its data */
        if (args->n != 3 || args->u.items[0]->kind != V_TENSOR)
            return vm_fail(m, GK_E_FORMAT, "_rebuild_parameter arguments are not (tensor, ...)");
        return push(m, args->u.items[0]);
    case G_SIZE:
        if (args->n != 1 || args->u.items[0]->kind != V_TUPLE)
            return vm_fail(m, GK_E_FORMAT, "torch.Size argument is not a tuple");
        return push(m, args->u.items[0]);
    default:
        return vm_fail(m, GK_E_FORMAT, "REDUCE calls %s.%s, which is not callable here",
                       allowed[fn->tag].module, allowed[fn->tag].name);
    }
}

/* BINPERSID: ('storage', <storage class>, key, location, numel). */
static gk_status do_persid(vm *m) {
    val *pid = NULL;
    gk_status rc = pop_n(m, 1, &pid, "BINPERSID");
    if (rc)
        return rc;
    val **a = pid->u.items;
    if (pid->kind != V_TUPLE || pid->n != 5 || a[0]->kind != V_STR || a[0]->u.s.len != 7 ||
        memcmp(a[0]->u.s.p, "storage", 7) != 0)
        return vm_fail(m, GK_E_FORMAT,
                       "persistent id is not ('storage', type, key, location, numel)");
    if (a[1]->kind != V_GLOBAL || allowed[a[1]->tag].tag != G_STORAGE)
        return vm_fail(m, GK_E_FORMAT, "persistent id names a %s, not a storage class",
                       a[1]->kind == V_GLOBAL ? allowed[a[1]->tag].name : kind_names[a[1]->kind]);
    if (a[2]->kind != V_STR || a[3]->kind != V_STR || !is_uint(a[4]))
        return vm_fail(m, GK_E_FORMAT,
                       "persistent id fields are not (str key, str location, int numel)");
    val *v = new_val(m, V_STORAGE);
    if (v) {
        v->tag = (uint8_t)allowed[a[1]->tag].dtype;
        v->u.stg.key = a[2]->u.s.p;
        v->u.stg.key_len = a[2]->u.s.len;
        v->u.stg.numel = a[4]->u.i;
    }
    return push(m, v);
}

/* BUILD: obj.__setstate__(state). OrderedDict state is its _metadata,
 * a tensor's is empty or backward hooks: both are ignored. */
static gk_status do_build(vm *m) {
    val *x[2] = {0};
    gk_status rc = pop_n(m, 2, x, "BUILD");
    if (rc)
        return rc;
    if (x[0]->kind != V_DICT && x[0]->kind != V_TENSOR)
        return vm_fail(m, GK_E_FORMAT, "BUILD on a %s", kind_names[x[0]->kind]);
    return push(m, x[0]);
}

/* ------------------------------------------------------------------------ */
/* Pickle machine: the opcode loop                                            */
/* ------------------------------------------------------------------------ */

/* Pickle opcodes (Lib/pickletools.py) that we do not implement: a real
 * pickle feature, reported as unsupported rather than malformed. */
static const char other_opcodes[] = "BCFILPSTUVdgiop\x81\x82\x83\x84\x8b\x8e\x8f\x90\x91\x92"
                                    "\x96\x97\x98";

static gk_status run(vm *m, val **result) {
    gk_status rc = GK_OK;
    const uint8_t *p = NULL;
    val *x[3] = {0};
    while (!rc) {
        if (m->pos >= m->len) {
            m->op_at = m->pos;
            return vm_fail(m, GK_E_FORMAT, "pickle truncated: no STOP opcode");
        }
        m->op_at = m->pos;
        uint8_t op = m->b[m->pos++];
        switch (op) {
        case 0x80: /* PROTO */
            if (!(rc = operand(m, 1, &p)) && *p > 5)
                rc = vm_fail(m, GK_E_UNSUPPORTED, "pickle protocol %u", *p);
            break;
        case 0x95: /* FRAME: a length hint only */
            if (!(rc = operand(m, 8, &p)) && le64(p) > m->len - m->pos)
                rc = vm_fail(m, GK_E_FORMAT, "FRAME of %llu bytes runs past the end",
                             (unsigned long long)le64(p));
            break;
        case '.': /* STOP */
            if ((rc = pop_n(m, 1, x, "STOP")))
                break;
            *result = x[0];
            return GK_OK;
        case '}': rc = push(m, new_val(m, V_DICT)); break;
        case ']': rc = push(m, new_val(m, V_LIST)); break;
        case ')': rc = push(m, new_val(m, V_TUPLE)); break;
        case 'N': rc = push(m, new_val(m, V_NONE)); break;
        case 0x88: /* NEWTRUE */
        case 0x89: /* NEWFALSE */ {
            val *v = new_val(m, V_BOOL);
            if (v)
                v->u.i = op == 0x88;
            rc = push(m, v);
            break;
        }
        case '(': /* MARK */
            if (m->n_marks == FMT_PT_MAX_MARKS)
                rc = vm_fail(m, GK_E_FORMAT, "MARKs nested deeper than %u", FMT_PT_MAX_MARKS);
            else
                m->marks[m->n_marks++] = m->sp;
            break;
        case 'X': /* BINUNICODE */
            if (!(rc = operand(m, 4, &p)))
                rc = push_str(m, le32(p));
            break;
        case 0x8c: /* SHORT_BINUNICODE */
            if (!(rc = operand(m, 1, &p)))
                rc = push_str(m, *p);
            break;
        case 0x8d: /* BINUNICODE8 */
            if (!(rc = operand(m, 8, &p)))
                rc = push_str(m, le64(p));
            break;
        case 'J': /* BININT */
            if (!(rc = operand(m, 4, &p)))
                rc = push_int(m, (int32_t)le32(p));
            break;
        case 'K': /* BININT1 */
            if (!(rc = operand(m, 1, &p)))
                rc = push_int(m, *p);
            break;
        case 'M': /* BININT2 */
            if (!(rc = operand(m, 2, &p)))
                rc = push_int(m, le16(p));
            break;
        case 0x8a: { /* LONG1: n-byte little-endian two's complement */
            if ((rc = operand(m, 1, &p)))
                break;
            uint8_t n = *p;
            if (n > 8) {
                rc = vm_fail(m, GK_E_UNSUPPORTED, "integer of %u bytes is too large", n);
                break;
            }
            if ((rc = operand(m, n, &p)))
                break;
            uint64_t u = 0;
            for (int i = n - 1; i >= 0; i--)
                u = (u << 8) | p[i];
            if (n && n < 8 && (p[n - 1] & 0x80))
                u |= ~0ull << (8 * n);
            int64_t s;
            memcpy(&s, &u, sizeof s);
            rc = push_int(m, s);
            break;
        }
        case 'G': { /* BINFLOAT: big-endian double */
            if ((rc = operand(m, 8, &p)))
                break;
            uint64_t u = 0;
            for (int i = 0; i < 8; i++)
                u = (u << 8) | p[i];
            val *v = new_val(m, V_FLOAT);
            if (v)
                memcpy(&v->u.f, &u, sizeof u);
            rc = push(m, v);
            break;
        }
        case 't': /* TUPLE */
        case 'l': /* LIST */ {
            uint32_t first = 0;
            if ((rc = take_mark(m, &first, op == 't' ? "TUPLE" : "LIST")))
                break;
            val *v = new_val(m, op == 't' ? V_TUPLE : V_LIST);
            for (uint32_t i = first; v && i < m->sp; i++)
                if (!add_item(v, m->stack[i]))
                    v = NULL;
            drop_mark(m);
            rc = push(m, v);
            break;
        }
        case 0x85: /* TUPLE1 */
        case 0x86: /* TUPLE2 */
        case 0x87: /* TUPLE3 */ {
            uint32_t n = (uint32_t)(op - 0x84);
            if ((rc = pop_n(m, n, x, "TUPLEn")))
                break;
            val *v = new_val(m, V_TUPLE);
            for (uint32_t i = 0; v && i < n; i++)
                if (!add_item(v, x[i]))
                    v = NULL;
            rc = push(m, v);
            break;
        }
        case 'a': /* APPEND */
            if ((rc = pop_n(m, 1, x, "APPEND")))
                break;
            if (m->sp == floor_sp(m) || m->stack[m->sp - 1]->kind != V_LIST)
                rc = vm_fail(m, GK_E_FORMAT, "APPEND to something that is not a list");
            else if (!add_item(m->stack[m->sp - 1], x[0]))
                rc = vm_fail(m, GK_E_NOMEM, "out of memory");
            break;
        case 'e': /* APPENDS */
        case 'u': /* SETITEMS */ {
            uint32_t first = 0;
            const char *name = op == 'e' ? "APPENDS" : "SETITEMS";
            if ((rc = take_mark(m, &first, name)))
                break;
            /* the container sits just below the mark */
            vkind want = op == 'e' ? V_LIST : V_DICT;
            if (first == (m->n_marks > 1 ? m->marks[m->n_marks - 2] : 0) ||
                m->stack[first - 1]->kind != want) {
                rc = vm_fail(m, GK_E_FORMAT, "%s without a %s below its MARK", name,
                             kind_names[want]);
                break;
            }
            if (op == 'u' && (m->sp - first) % 2) {
                rc = vm_fail(m, GK_E_FORMAT, "SETITEMS with an odd number of values");
                break;
            }
            val *c = m->stack[first - 1];
            for (uint32_t i = first; i < m->sp && !rc; i++)
                if (!add_item(c, m->stack[i]))
                    rc = vm_fail(m, GK_E_NOMEM, "out of memory");
            drop_mark(m);
            break;
        }
        case 's': /* SETITEM */
            if ((rc = pop_n(m, 2, x, "SETITEM")))
                break;
            if (m->sp == floor_sp(m) || m->stack[m->sp - 1]->kind != V_DICT)
                rc = vm_fail(m, GK_E_FORMAT, "SETITEM on something that is not a dict");
            else if (!add_item(m->stack[m->sp - 1], x[0]) || !add_item(m->stack[m->sp - 1], x[1]))
                rc = vm_fail(m, GK_E_NOMEM, "out of memory");
            break;
        case 'q': /* BINPUT */
            if (!(rc = operand(m, 1, &p)))
                rc = memo_put(m, *p);
            break;
        case 'r': /* LONG_BINPUT */
            if (!(rc = operand(m, 4, &p)))
                rc = memo_put(m, le32(p));
            break;
        case 0x94: /* MEMOIZE */ rc = memo_put(m, m->memo_count); break;
        case 'h': /* BINGET */
            if (!(rc = operand(m, 1, &p)))
                rc = memo_get(m, *p);
            break;
        case 'j': /* LONG_BINGET */
            if (!(rc = operand(m, 4, &p)))
                rc = memo_get(m, le32(p));
            break;
        case 'c': { /* GLOBAL */
            const char *mod, *name;
            size_t ml, nl;
            if (!(rc = read_line(m, &mod, &ml)) && !(rc = read_line(m, &name, &nl)))
                rc = push_global(m, mod, ml, name, nl);
            break;
        }
        case 0x93: /* STACK_GLOBAL */
            if ((rc = pop_n(m, 2, x, "STACK_GLOBAL")))
                break;
            if (x[0]->kind != V_STR || x[1]->kind != V_STR)
                rc = vm_fail(m, GK_E_FORMAT, "STACK_GLOBAL operands are not strings");
            else
                rc = push_global(m, x[0]->u.s.p, (size_t)x[0]->u.s.len, x[1]->u.s.p,
                                 (size_t)x[1]->u.s.len);
            break;
        case 'R': rc = do_reduce(m); break;
        case 'b': rc = do_build(m); break;
        case 'Q': rc = do_persid(m); break;
        case '0': /* POP */ rc = pop_n(m, 1, x, "POP"); break;
        case '1': /* POP_MARK */ {
            uint32_t first = 0;
            if (!(rc = take_mark(m, &first, "POP_MARK")))
                drop_mark(m);
            break;
        }
        case '2': /* DUP */
            if (m->sp == floor_sp(m))
                rc = vm_fail(m, GK_E_FORMAT, "pickle stack underflow in DUP");
            else
                rc = push(m, m->stack[m->sp - 1]);
            break;
        default:
            if (op && memchr(other_opcodes, op, sizeof other_opcodes - 1))
                rc = vm_fail(m, GK_E_UNSUPPORTED, "pickle opcode 0x%02x is not supported", op);
            else
                rc = vm_fail(m, GK_E_FORMAT, "unknown pickle opcode 0x%02x", op);
        }
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* From the unpickled object to tensor records                                */
/* ------------------------------------------------------------------------ */

struct fmt_pt {
    fmt_map map; /* when fmt_pt_open mapped the file */
    char *label;
    char *prefix;
    fmt_pt_tensor *tensors;
    uint64_t n_tensors, cap;
    uint64_t *by_name;
};

typedef struct {
    fmt_pt *p;
    const zip *z;
    const char *label; /* "FILE: prefix/data.pkl" */
    uint64_t budget;   /* dict entries still allowed to visit */
} walk_ctx;

/* Check a tensor's strides, extent and storage entry, then record it. */
static gk_status add_tensor(walk_ctx *w, const char *name, const tinfo *t) {
    fmt_pt *p = w->p;
    const val *sv = t->storage;
    fmt_st_dtype dt = (fmt_st_dtype)sv->tag;
    uint64_t es = fmt_st_dtype_size(dt);
    uint64_t n = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        uint64_t v = (uint64_t)t->shape[d];
        if (v && n > UINT64_MAX / v)
            return fail(GK_E_FORMAT, w->label, "tensor '%s': element count overflows", name);
        n *= v;
    }
    /* Row-major contiguity; a dimension of size 1 may have any stride. */
    uint64_t want = 1;
    for (uint32_t d = t->n_dims; d-- > 0;) {
        if (t->shape[d] != 1 && n && (uint64_t)t->stride[d] != want)
            return fail(GK_E_UNSUPPORTED, w->label,
                        "tensor '%s' is not contiguous: stride[%u] is %lld, expected %llu", name, d,
                        (long long)t->stride[d], (unsigned long long)want);
        want *= (uint64_t)t->shape[d] ? (uint64_t)t->shape[d] : 1;
    }
    uint64_t numel = (uint64_t)sv->u.stg.numel, off = (uint64_t)t->offset;
    if (n && (off > numel || n > numel - off))
        return fail(GK_E_FORMAT, w->label,
                    "tensor '%s': elements [%llu, +%llu) exceed its storage of %llu", name,
                    (unsigned long long)off, (unsigned long long)n, (unsigned long long)numel);
    if (numel > UINT64_MAX / es)
        return fail(GK_E_FORMAT, w->label, "tensor '%s': storage size overflows", name);

    /* entry "<prefix>/data/<key>" */
    size_t pl = strlen(p->prefix), kl = (size_t)sv->u.stg.key_len;
    if (kl > 4096)
        return fail(GK_E_FORMAT, w->label, "tensor '%s': storage key too long", name);
    char *ename = malloc(pl + 6 + kl + 1);
    if (!ename)
        return fail(GK_E_NOMEM, w->label, "out of memory");
    memcpy(ename, p->prefix, pl);
    memcpy(ename + pl, "/data/", 6);
    memcpy(ename + pl + 6, sv->u.stg.key, kl);
    ename[pl + 6 + kl] = '\0';
    const zentry *ze = zip_find(w->z, ename, pl + 6 + kl);
    if (!ze) {
        gk_status rc = fail(GK_E_FORMAT, w->label,
                            "tensor '%s': storage entry '%s' is not in the archive", name, ename);
        free(ename);
        return rc;
    }
    free(ename);
    if (ze->size != numel * es)
        return fail(GK_E_FORMAT, w->label,
                    "tensor '%s': storage '%.*s' holds %llu bytes, %llu %s elements need %llu "
                    "(at byte %llu)",
                    name, (int)kl, sv->u.stg.key, (unsigned long long)ze->size,
                    (unsigned long long)numel, fmt_st_dtype_name(dt),
                    (unsigned long long)(numel * es), (unsigned long long)ze->data_off);

    if (p->n_tensors == p->cap) {
        uint64_t nc = p->cap ? p->cap * 2 : 64;
        fmt_pt_tensor *nt = realloc(p->tensors, (size_t)nc * sizeof *nt);
        if (!nt)
            return fail(GK_E_NOMEM, w->label, "out of memory");
        p->tensors = nt;
        p->cap = nc;
    }
    fmt_pt_tensor *o = &p->tensors[p->n_tensors];
    memset(o, 0, sizeof *o);
    o->name = strdup(name);
    o->storage_key = strndup(sv->u.stg.key, kl);
    if (!o->name || !o->storage_key) {
        free((char *)o->name);
        free((char *)o->storage_key);
        return fail(GK_E_NOMEM, w->label, "out of memory");
    }
    p->n_tensors++;
    o->dtype = dt;
    o->n_dims = t->n_dims;
    memcpy(o->shape, t->shape, sizeof o->shape);
    memcpy(o->strides, t->stride, sizeof o->strides);
    o->n_elements = n;
    o->size = n * es;
    o->storage_offset = off;
    o->offset = ze->data_off + (n ? off * es : 0);
    o->data = w->z->b + o->offset;
    return GK_OK;
}

/* Walk a dict of name -> tensor | nested dict | scalar. depth bounds the
 * nesting (hostile pickles can nest dicts via memo references). */
static gk_status walk(walk_ctx *w, const val *d, const char *prefix, int depth) {
    for (uint32_t i = 0; i + 1 < d->n; i += 2) {
        const val *k = d->u.items[i], *v = d->u.items[i + 1];
        /* dicts shared through the memo could otherwise expand
         * exponentially */
        if (w->budget-- == 0)
            return fail(GK_E_FORMAT, w->label,
                        "state_dict expands to more entries than the pickle holds (shared "
                        "nested dicts)");
        if (k->kind != V_STR)
            return fail(GK_E_UNSUPPORTED, w->label, "state_dict key is a %s, not a str",
                        kind_names[k->kind]);
        if (!utf8_ok((const uint8_t *)k->u.s.p, (size_t)k->u.s.len) || k->u.s.len > 4096)
            return fail(GK_E_FORMAT, w->label,
                        "state_dict key is not valid UTF-8 text of at most 4096 bytes");
        size_t pl = prefix ? strlen(prefix) + 1 : 0;
        char *name = malloc(pl + (size_t)k->u.s.len + 1);
        if (!name)
            return fail(GK_E_NOMEM, w->label, "out of memory");
        if (prefix) {
            memcpy(name, prefix, pl - 1);
            name[pl - 1] = '.';
        }
        memcpy(name + pl, k->u.s.p, (size_t)k->u.s.len);
        name[pl + k->u.s.len] = '\0';
        gk_status rc = GK_OK;
        switch (v->kind) {
        case V_TENSOR: rc = add_tensor(w, name, v->u.t); break;
        case V_DICT:
            if (depth >= FMT_PT_MAX_NEST)
                rc = fail(GK_E_UNSUPPORTED, w->label, "'%s': dicts nested deeper than %d", name,
                          FMT_PT_MAX_NEST);
            else
                rc = walk(w, v, name, depth + 1);
            break;
        case V_NONE:
        case V_BOOL:
        case V_INT:
        case V_FLOAT:
        case V_STR: break; /* training bookkeeping (epoch, step, ...): not weights */
        default:
            rc = fail(GK_E_UNSUPPORTED, w->label, "'%s' is a %s, not a tensor", name,
                      kind_names[v->kind]);
        }
        free(name);
        if (rc)
            return rc;
    }
    return GK_OK;
}

static int by_name_cmp(const void *a, const void *b, void *ctx) {
    const fmt_pt_tensor *t = ctx;
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    int c = strcmp(t[x].name, t[y].name);
    return c ? c : (x > y) - (x < y);
}

/* ------------------------------------------------------------------------ */
/* Open / close                                                               */
/* ------------------------------------------------------------------------ */

/* The single "<prefix>/data.pkl" with a one-component prefix. */
static gk_status find_pickle(const zip *z, const zentry **pkl, char **prefix) {
    *pkl = NULL;
    for (uint64_t i = 0; i < z->n; i++) {
        const zentry *e = &z->e[i];
        if (e->name_len <= 9 || memcmp(e->name + e->name_len - 9, "/data.pkl", 9) != 0 ||
            memchr(e->name, '/', e->name_len - 9))
            continue;
        if (*pkl)
            return fail(GK_E_FORMAT, z->label, "more than one data.pkl ('%.*s' and '%.*s')",
                        (int)(*pkl)->name_len, (*pkl)->name, (int)e->name_len, e->name);
        *pkl = e;
    }
    if (!*pkl)
        return fail(GK_E_FORMAT, z->label,
                    "zip archive has no <name>/data.pkl: not a torch.save checkpoint");
    *prefix = strndup((*pkl)->name, (size_t)(*pkl)->name_len - 9);
    return *prefix ? GK_OK : fail(GK_E_NOMEM, z->label, "out of memory");
}

static gk_status parse(fmt_pt *p, const uint8_t *buf, size_t len) {
    zip z = {.label = p->label, .b = buf, .len = len};
    vm m = {0};
    char *plabel = NULL;
    gk_status rc = zip_read(&z);
    const zentry *pkl;
    if (rc || (rc = find_pickle(&z, &pkl, &p->prefix)))
        goto out;

    /* byteorder: absent before torch 2.1 (then little-endian) */
    size_t pl = strlen(p->prefix);
    char bo[512];
    if (pl + 10 < sizeof bo) {
        memcpy(bo, p->prefix, pl);
        memcpy(bo + pl, "/byteorder", 11);
        const zentry *e = zip_find(&z, bo, pl + 10);
        if (e && !(e->size == 6 && memcmp(buf + e->data_off, "little", 6) == 0)) {
            int big = e->size == 3 && memcmp(buf + e->data_off, "big", 3) == 0;
            rc = fail(big ? GK_E_UNSUPPORTED : GK_E_FORMAT, p->label, "%s: %s (at byte %llu)", bo,
                      big ? "big-endian checkpoints are not supported" : "is not \"little\"",
                      (unsigned long long)e->data_off);
            goto out;
        }
    }
    size_t ll = strlen(p->label) + pl + 12;
    plabel = malloc(ll);
    if (!plabel) {
        rc = fail(GK_E_NOMEM, p->label, "out of memory");
        goto out;
    }
    snprintf(plabel, ll, "%s: %s/data.pkl", p->label, p->prefix);
    if (pkl->size > FMT_PT_MAX_PICKLE) {
        rc = fail(GK_E_UNSUPPORTED, plabel, "%llu bytes, over the %llu-byte limit",
                  (unsigned long long)pkl->size, FMT_PT_MAX_PICKLE);
        goto out;
    }
    if (crc32_ieee(buf + pkl->data_off, (size_t)pkl->size) != pkl->crc) {
        rc = fail(GK_E_FORMAT, plabel, "CRC-32 mismatch (at byte %llu)",
                  (unsigned long long)pkl->data_off);
        goto out;
    }

    m.label = plabel;
    m.b = buf + pkl->data_off;
    m.len = (size_t)pkl->size;
    m.base = pkl->data_off;
    val *root = NULL;
    if ((rc = run(&m, &root)))
        goto out;
    if (root->kind != V_DICT) {
        rc = fail(GK_E_UNSUPPORTED, plabel, "pickle holds a %s, not a state_dict",
                  kind_names[root->kind]);
        goto out;
    }
    /* an honest state_dict visits each dict entry once */
    walk_ctx w = {.p = p, .z = &z, .label = plabel, .budget = 2 * m.n_vals + 1024};
    if ((rc = walk(&w, root, NULL, 0)))
        goto out;
    if (p->n_tensors) {
        p->by_name = malloc((size_t)p->n_tensors * sizeof *p->by_name);
        if (!p->by_name) {
            rc = fail(GK_E_NOMEM, plabel, "out of memory");
            goto out;
        }
        for (uint64_t i = 0; i < p->n_tensors; i++)
            p->by_name[i] = i;
        qsort_r(p->by_name, (size_t)p->n_tensors, sizeof *p->by_name, by_name_cmp, p->tensors);
        for (uint64_t i = 1; i < p->n_tensors; i++)
            if (strcmp(p->tensors[p->by_name[i]].name, p->tensors[p->by_name[i - 1]].name) == 0) {
                rc = fail(GK_E_FORMAT, plabel, "tensor '%s' appears twice",
                          p->tensors[p->by_name[i]].name);
                goto out;
            }
    }
out:
    vm_free(&m);
    free(plabel);
    free(z.e);
    return rc;
}

fmt_pt *fmt_pt_open_mem(const uint8_t *buf, size_t len, const char *label, gk_status *st) {
    open_err[0] = '\0';
    fmt_pt *p = calloc(1, sizeof *p);
    if (!p || !(p->label = strdup(label))) {
        free(p);
        *st = fail(GK_E_NOMEM, label, "out of memory");
        return NULL;
    }
    *st = parse(p, buf, len);
    if (*st) {
        fmt_pt_close(p);
        return NULL;
    }
    return p;
}

fmt_pt *fmt_pt_open(const char *path, gk_status *st) {
    open_err[0] = '\0';
    fmt_map map;
    char msg[256];
    *st = fmt_map_file(path, 0, &map, msg, sizeof msg);
    if (*st) {
        fail(*st, path, "%s", msg);
        return NULL;
    }
    fmt_pt *p = fmt_pt_open_mem(map.data, map.size, path, st);
    if (!p) {
        fmt_unmap(&map);
        return NULL;
    }
    p->map = map;
    return p;
}

void fmt_pt_close(fmt_pt *p) {
    if (!p)
        return;
    for (uint64_t i = 0; i < p->n_tensors; i++) {
        free((char *)p->tensors[i].name);
        free((char *)p->tensors[i].storage_key);
    }
    free(p->tensors);
    free(p->by_name);
    free(p->prefix);
    free(p->label);
    fmt_unmap(&p->map);
    free(p);
}

/* ------------------------------------------------------------------------ */
/* Accessors                                                                  */
/* ------------------------------------------------------------------------ */

uint64_t fmt_pt_n_tensors(const fmt_pt *p) {
    return p->n_tensors;
}

const fmt_pt_tensor *fmt_pt_tensor_at(const fmt_pt *p, uint64_t i) {
    return i < p->n_tensors ? &p->tensors[i] : NULL;
}

const fmt_pt_tensor *fmt_pt_find(const fmt_pt *p, const char *name) {
    uint64_t lo = 0, hi = p->n_tensors;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        const fmt_pt_tensor *t = &p->tensors[p->by_name[mid]];
        int c = strcmp(name, t->name);
        if (c == 0)
            return t;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *fmt_pt_prefix(const fmt_pt *p) {
    return p->prefix;
}
