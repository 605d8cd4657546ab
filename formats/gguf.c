/*
 * gguf.c -- GGUF v2/v3 reader (mapped memory or forward-only stream) and
 * streaming writer.
 *
 * Layout facts (ggml/src/gguf.cpp, gguf-py/gguf/gguf_writer.py): magic
 * "GGUF", u32 version, i64 tensor count, i64 KV count, the KVs, the tensor
 * infos, zero padding to general.alignment (default 32), then the data
 * section. Tensor i's offset must equal the aligned running total of the
 * sizes before it (ggml rejects anything else), and both writers pad after
 * every tensor, the last one included. A file without tensors ends right
 * after its KVs (gguf-py's vocab-only output has no trailing padding).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "escape.h"
#include "../kernels/kernels.h"

/* Smallest possible encodings, used to reject counts that cannot fit in
 * the bytes that remain before anything is allocated for them. Empty keys
 * and names are invalid, so each holds at least one byte. */
#define MIN_KV_BYTES 13 /* key length 8, key 1, type 4, u8 value... */
#define MIN_TI_BYTES 33 /* name length 8, name 1, n_dims 4, ne 8, type 4, offset 8 */
#define MIN_STR_BYTES 8
#define MIN_ARR_BYTES 12
#define STREAM_STEP (1u << 20) /* largest read ahead of bytes already received */
/* A header read from a stream is buffered whole; a corrupt length in a
 * piped multi-GB model must not pull the whole model into memory. Real
 * headers (256k-token vocabularies with merges) stay far below this. */
#define MAX_STREAM_HEADER ((uint64_t)256 << 20)
#define ERRCAP 320
#define NAME_SHOW 64 /* bytes of a key/name quoted in messages */

/* ------------------------------------------------------------------------ */
/* Little-endian loads and stores                                             */
/* ------------------------------------------------------------------------ */

static uint32_t ld32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

static uint64_t ld64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static uint16_t ld16(const uint8_t *p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}

static void st32(uint8_t *p, uint32_t v) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    memcpy(p, &v, 4);
}

static void st64(uint8_t *p, uint64_t v) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

/* Round v up to a multiple of the power of two a; 0 on overflow. */
static uint64_t align_up(uint64_t v, uint64_t a) {
    if (v > UINT64_MAX - (a - 1))
        return 0;
    return (v + a - 1) & ~(a - 1);
}

/* ------------------------------------------------------------------------ */
/* Value types                                                                */
/* ------------------------------------------------------------------------ */

static const uint8_t type_sizes[FMT_GGUF_TYPE_COUNT] = {
    [FMT_GGUF_U8] = 1,  [FMT_GGUF_I8] = 1,  [FMT_GGUF_U16] = 2, [FMT_GGUF_I16] = 2,
    [FMT_GGUF_U32] = 4, [FMT_GGUF_I32] = 4, [FMT_GGUF_F32] = 4, [FMT_GGUF_BOOL] = 1,
    [FMT_GGUF_U64] = 8, [FMT_GGUF_I64] = 8, [FMT_GGUF_F64] = 8,
};

static const char *const type_names[FMT_GGUF_TYPE_COUNT] = {
    [FMT_GGUF_U8] = "u8",     [FMT_GGUF_I8] = "i8",     [FMT_GGUF_U16] = "u16",
    [FMT_GGUF_I16] = "i16",   [FMT_GGUF_U32] = "u32",   [FMT_GGUF_I32] = "i32",
    [FMT_GGUF_F32] = "f32",   [FMT_GGUF_BOOL] = "bool", [FMT_GGUF_STRING] = "str",
    [FMT_GGUF_ARRAY] = "arr", [FMT_GGUF_U64] = "u64",   [FMT_GGUF_I64] = "i64",
    [FMT_GGUF_F64] = "f64",
};

size_t fmt_gguf_type_size(fmt_gguf_type t) {
    if ((unsigned)t >= FMT_GGUF_TYPE_COUNT)
        return 0;
    return type_sizes[t];
}

const char *fmt_gguf_type_name(fmt_gguf_type t) {
    if ((unsigned)t >= FMT_GGUF_TYPE_COUNT)
        return "?";
    return type_names[t];
}

/* Decode a fixed-size scalar of type t at p into v (type set by caller). */
static void decode_scalar(fmt_gguf_type t, const uint8_t *p, fmt_gguf_value *v) {
    switch (t) {
    case FMT_GGUF_U8:
    case FMT_GGUF_BOOL: v->v.u = p[0]; break;
    case FMT_GGUF_I8: v->v.i = (int8_t)p[0]; break;
    case FMT_GGUF_U16: v->v.u = ld16(p); break;
    case FMT_GGUF_I16: v->v.i = (int16_t)ld16(p); break;
    case FMT_GGUF_U32: v->v.u = ld32(p); break;
    case FMT_GGUF_I32: v->v.i = (int32_t)ld32(p); break;
    case FMT_GGUF_U64: v->v.u = ld64(p); break;
    case FMT_GGUF_I64: v->v.i = (int64_t)ld64(p); break;
    case FMT_GGUF_F32: {
        uint32_t b = ld32(p);
        float f;
        memcpy(&f, &b, 4);
        v->v.f = f;
        break;
    }
    case FMT_GGUF_F64: {
        uint64_t b = ld64(p);
        memcpy(&v->v.f, &b, 8);
        break;
    }
    default: break;
    }
}

/* Encoded size of a value of type t at p. Only for validated data. */
static uint64_t encoded_size(fmt_gguf_type t, const uint8_t *p) {
    if (t == FMT_GGUF_STRING)
        return 8 + ld64(p);
    if (t != FMT_GGUF_ARRAY)
        return type_sizes[t];
    fmt_gguf_type et = (fmt_gguf_type)ld32(p);
    uint64_t n = ld64(p + 4);
    if (et != FMT_GGUF_STRING && et != FMT_GGUF_ARRAY)
        return 12 + n * type_sizes[et];
    uint64_t off = 12;
    for (uint64_t i = 0; i < n; i++)
        off += encoded_size(et, p + off);
    return off;
}

/* s[0..n) for a message: escaped and cut to about NAME_SHOW bytes. */
static const char *shown(char out[NAME_SHOW + 4], const uint8_t *s, uint64_t n) {
    fmt_escape_term(out, NAME_SHOW + 4, (const char *)s, (size_t)n);
    return out;
}

/* ------------------------------------------------------------------------ */
/* Name hash tables (open addressing; slot holds index + 1, 0 = empty)       */
/* ------------------------------------------------------------------------ */

typedef fmt_str (*key_fn)(const void *owner, uint64_t i);

typedef struct {
    uint64_t *slot;
    uint64_t mask;
    uint64_t used;
} strtab;

static uint64_t hash_bytes(const char *p, uint64_t n) {
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
    for (uint64_t i = 0; i < n; i++) {
        h ^= (uint8_t)p[i];
        h *= 0x100000001b3u;
    }
    return h ^ (h >> 29);
}

/* Size the table for n entries (load at most one half). 0 or -1 on OOM. */
static int strtab_init(strtab *t, uint64_t n) {
    uint64_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    t->slot = calloc(cap, sizeof *t->slot);
    if (!t->slot)
        return -1;
    t->mask = cap - 1;
    t->used = 0;
    return 0;
}

static void strtab_free(strtab *t) {
    free(t->slot);
    t->slot = NULL;
    t->mask = t->used = 0;
}

/* Index of the entry equal to (p, n), or UINT64_MAX. */
static uint64_t strtab_find(const strtab *t, const char *p, uint64_t n, key_fn key,
                            const void *owner) {
    if (!t->slot)
        return UINT64_MAX;
    for (uint64_t h = hash_bytes(p, n) & t->mask;; h = (h + 1) & t->mask) {
        uint64_t s = t->slot[h];
        if (s == 0)
            return UINT64_MAX;
        fmt_str k = key(owner, s - 1);
        if (k.len == n && memcmp(k.ptr, p, n) == 0)
            return s - 1;
    }
}

/* Insert entry i; returns UINT64_MAX, or the index of an equal entry
 * already present (then i is not inserted). The table must have room. */
static uint64_t strtab_insert(strtab *t, uint64_t i, key_fn key, const void *owner) {
    fmt_str k = key(owner, i);
    uint64_t h = hash_bytes(k.ptr, k.len) & t->mask;
    for (;; h = (h + 1) & t->mask) {
        uint64_t s = t->slot[h];
        if (s == 0)
            break;
        fmt_str o = key(owner, s - 1);
        if (o.len == k.len && memcmp(o.ptr, k.ptr, k.len) == 0)
            return s - 1;
    }
    t->slot[h] = i + 1;
    t->used++;
    return UINT64_MAX;
}

/* ------------------------------------------------------------------------ */
/* Reader                                                                     */
/* ------------------------------------------------------------------------ */

struct fmt_gguf {
    fmt_input *in;       /* borrowed; NULL for fmt_gguf_open_memory */
    const uint8_t *base; /* header bytes: the mapping or buf */
    uint8_t *buf;        /* owned copy of the header when not mapped */
    const uint8_t *map;  /* whole file when mapped, else NULL */
    uint64_t size;       /* file size, UINT64_MAX when unknown */
    int header_only;     /* fmt_gguf_writer_header_reader: no data section */
    uint32_t version;
    uint64_t alignment;
    uint64_t header_size; /* end of the tensor infos */
    uint64_t data_offset;
    uint64_t n_kv, n_tensors;
    fmt_gguf_kv *kv;
    fmt_gguf_tensor *t;
    uint64_t *t_pos; /* file offset of each tensor info */
    uint64_t *order;
    strtab kv_tab, t_tab;
    uint64_t pos; /* sequential position of in */
    char err[ERRCAP];
};

static _Thread_local char open_err[ERRCAP];

const char *fmt_gguf_open_errmsg(void) {
    return open_err;
}

/* Parse state. Header bytes are [0, have) of base; on a stream more are
 * read on demand into g->buf, which may move, so the parser keeps file
 * offsets and turns them into pointers once the header is complete. */
typedef struct {
    fmt_gguf *g;
    fmt_input *in; /* NULL when base holds the whole file */
    const uint8_t *base;
    uint64_t have, cap;
    uint64_t size; /* UINT64_MAX when unknown */
    uint64_t pos;
    uint64_t floor; /* the header, if valid, extends at least this far */
    int eof;        /* the stream ended */
    gk_status st;
} cursor;

static uint64_t sat_add(uint64_t a, uint64_t b) {
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b) {
    return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

/* Raise the floor to pos + min bytes still to come. Reading ahead to the
 * floor turns thousands of tiny reads (one per vocabulary string) into a
 * few large ones without reading past the header of a valid file. */
static void expect_more(cursor *c, uint64_t min) {
    uint64_t f = sat_add(c->pos, min);
    if (f > c->floor)
        c->floor = f;
}

static int fail_st(cursor *c, gk_status st, uint64_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Record "message (at byte N)" and the status; returns -1. */
static int fail_st(cursor *c, gk_status st, uint64_t at, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(open_err, sizeof open_err, fmt, ap);
    va_end(ap);
    if (k >= 0 && (size_t)k < sizeof open_err)
        snprintf(open_err + k, sizeof open_err - (size_t)k, " (at byte %llu)",
                 (unsigned long long)at);
    c->st = st;
    return -1;
}

#define fail(c, at, ...) fail_st((c), GK_E_FORMAT, (at), __VA_ARGS__)

/* Bytes known to remain after pos (UINT64_MAX when the size is unknown). */
static uint64_t remaining(const cursor *c) {
    if (c->size == UINT64_MAX)
        return UINT64_MAX;
    return c->size - c->pos;
}

/* Make [pos, pos + n) available. On a stream, read up to the floor when
 * possible, in steps no larger than the bytes already received (plus
 * STREAM_STEP), so a lying length cannot make us allocate much more than
 * the input really holds. */
static int need(cursor *c, uint64_t n, const char *what) {
    if (n <= c->have - c->pos)
        return 0;
    if (!c->in || n > remaining(c))
        return fail(c, c->pos, "unexpected end of file in %s", what);
    if (n > MAX_STREAM_HEADER - c->pos) /* pos <= have <= the limit */
        return fail_st(c, GK_E_NOMEM, c->pos, "%s would make the header larger than %llu MiB", what,
                       (unsigned long long)(MAX_STREAM_HEADER >> 20));
    uint64_t target = c->pos + n;
    uint64_t want = c->floor < MAX_STREAM_HEADER ? c->floor : MAX_STREAM_HEADER;
    if (want > c->size)
        want = c->size;
    if (want < target)
        want = target;
    while (c->have < want && !c->eof) {
        uint64_t step = want - c->have;
        uint64_t limit = c->have > STREAM_STEP ? c->have : STREAM_STEP;
        if (step > limit)
            step = limit;
        if (c->have + step > c->cap) {
            uint64_t cap = c->cap ? c->cap : 4096;
            while (cap < c->have + step)
                cap *= 2;
            if (cap > SIZE_MAX)
                return fail_st(c, GK_E_NOMEM, c->pos, "header too large for memory");
            uint8_t *nb = realloc(c->g->buf, (size_t)cap);
            if (!nb)
                return fail_st(c, GK_E_NOMEM, c->pos, "out of memory reading the header");
            c->g->buf = nb;
            c->cap = cap;
        }
        size_t got;
        gk_status st = fmt_input_read(c->in, c->g->buf + c->have, (size_t)step, &got);
        if (st != GK_OK)
            return fail_st(c, st, c->pos, "%s", fmt_input_errmsg(c->in));
        c->have += got;
        c->eof = got < step;
    }
    c->base = c->g->buf;
    if (c->have < target)
        return fail(c, c->pos, "unexpected end of file in %s", what);
    return 0;
}

static int read_u32(cursor *c, uint32_t *v, const char *what) {
    if (need(c, 4, what))
        return -1;
    *v = ld32(c->base + c->pos);
    c->pos += 4;
    return 0;
}

static int read_u64(cursor *c, uint64_t *v, const char *what) {
    if (need(c, 8, what))
        return -1;
    *v = ld64(c->base + c->pos);
    c->pos += 8;
    return 0;
}

/* Steps over the strings of an array, up to n, that lie wholly in the
 * bytes read so far, and returns how many. A vocabulary's 100k+ strings
 * take one load and one compare each here; the first string that is not
 * wholly there (more to read, or an error to report) is left to
 * parse_value. */
static uint64_t skip_read_strings(cursor *c, uint64_t n) {
    uint64_t i = 0, pos = c->pos;
    while (i < n && c->have - pos >= 8) {
        uint64_t len = ld64(c->base + pos);
        if (len > c->have - pos - 8)
            break;
        pos += 8 + len;
        i++;
    }
    c->pos = pos;
    return i;
}

/* Validate the value of type at pos and step over it. depth counts the
 * arrays that enclose it; at least tail bytes of header follow it. */
static int parse_value(cursor *c, fmt_gguf_type type, int depth, uint64_t tail) {
    uint64_t at = c->pos;
    if (type == FMT_GGUF_STRING) {
        uint64_t len;
        if (read_u64(c, &len, "string length"))
            return -1;
        if (len > remaining(c))
            return fail(c, at,
                        "string length %llu runs past the end of the file (%llu bytes remain)",
                        (unsigned long long)len, (unsigned long long)remaining(c));
        if (need(c, len, "string"))
            return -1;
        c->pos += len;
        return 0;
    }
    if (type != FMT_GGUF_ARRAY) {
        if (need(c, type_sizes[type], type_names[type]))
            return -1;
        c->pos += type_sizes[type];
        return 0;
    }
    if (depth >= FMT_GGUF_MAX_ARRAY_DEPTH)
        return fail(c, at, "arrays nested more than %d deep", FMT_GGUF_MAX_ARRAY_DEPTH);
    uint32_t et;
    uint64_t n;
    if (read_u32(c, &et, "array element type"))
        return -1;
    if (et >= FMT_GGUF_TYPE_COUNT)
        return fail(c, at, "unknown array element type %u", et);
    if (read_u64(c, &n, "array length"))
        return -1;
    uint64_t esz = type_sizes[et];
    uint64_t min = esz ? esz : et == FMT_GGUF_STRING ? MIN_STR_BYTES : MIN_ARR_BYTES;
    if (n > remaining(c) / min || n > UINT64_MAX / min)
        return fail(c, at + 4, "array of %llu %s elements runs past the end of the file",
                    (unsigned long long)n, type_names[et]);
    if (esz) {
        if (need(c, n * esz, "array"))
            return -1;
        c->pos += n * esz;
        return 0;
    }
    uint64_t i = 0;
    if (et == FMT_GGUF_STRING) /* a vocabulary: the strings already read */
        i = skip_read_strings(c, n);
    for (; i < n; i++) {
        uint64_t after = sat_add(sat_mul(n - i - 1, min), tail);
        expect_more(c, sat_add(min, after));
        if (parse_value(c, (fmt_gguf_type)et, depth + 1, after))
            return -1;
    }
    return 0;
}

static int grow(void **arr, uint64_t *cap, uint64_t want, size_t elem) {
    if (want <= *cap)
        return 0;
    uint64_t nc = *cap ? *cap * 2 : 64;
    if (nc < want)
        nc = want;
    if (nc > SIZE_MAX / elem)
        return -1;
    void *p = realloc(*arr, (size_t)(nc * elem));
    if (!p)
        return -1;
    *arr = p;
    *cap = nc;
    return 0;
}

static fmt_str kv_key(const void *owner, uint64_t i) {
    return ((const fmt_gguf *)owner)->kv[i].key;
}

static fmt_str tensor_name(const void *owner, uint64_t i) {
    return ((const fmt_gguf *)owner)->t[i].name;
}

/* A bool (or an array of bools) is one byte that must be 0 or 1: ggml
 * reads any other byte as true, but no writer makes one, so it is a
 * corrupt or crafted file. The value at val_at was already validated. */
static int check_bools(cursor *c, fmt_gguf_type type, uint64_t val_at, const char *key) {
    const uint8_t *v = c->base + val_at;
    uint64_t n = 1, first = 0;
    if (type == FMT_GGUF_ARRAY && ld32(v) == FMT_GGUF_BOOL)
        n = ld64(v + 4), first = 12;
    else if (type != FMT_GGUF_BOOL)
        return 0;
    for (uint64_t i = 0; i < n; i++)
        if (v[first + i] > 1)
            return fail(c, val_at + first + i, "key '%s': bool value %u is not 0 or 1", key,
                        (unsigned)v[first + i]);
    return 0;
}

static int parse_kvs(cursor *c) {
    fmt_gguf *g = c->g;
    uint64_t cap = 0;
    char show[NAME_SHOW + 4];
    for (uint64_t i = 0; i < g->n_kv; i++) {
        /* grow with what was parsed, not with the claimed count */
        if (grow((void **)&g->kv, &cap, i + 1, sizeof *g->kv))
            return fail_st(c, GK_E_NOMEM, c->pos, "out of memory for %llu KVs",
                           (unsigned long long)g->n_kv);
        fmt_gguf_kv *kv = &g->kv[i];
        uint64_t tail =
            sat_add(sat_mul(g->n_kv - i - 1, MIN_KV_BYTES), sat_mul(g->n_tensors, MIN_TI_BYTES));
        expect_more(c, sat_add(MIN_KV_BYTES, tail));
        uint64_t at = c->pos, klen;
        if (read_u64(c, &klen, "key length"))
            return -1;
        if (klen == 0)
            return fail(c, at, "empty key");
        if (klen > remaining(c))
            return fail(c, at, "key length %llu runs past the end of the file (%llu bytes remain)",
                        (unsigned long long)klen, (unsigned long long)remaining(c));
        if (need(c, klen, "key"))
            return -1;
        const uint8_t *key = c->base + c->pos;
        if (!fmt_utf8_valid(key, klen))
            return fail(c, at, "key '%s' is not valid UTF-8", shown(show, key, klen));
        c->pos += klen;
        uint64_t type_at = c->pos;
        uint32_t type;
        if (read_u32(c, &type, "value type"))
            return -1;
        if (type >= FMT_GGUF_TYPE_COUNT)
            return fail(c, type_at, "key '%s': unknown value type %u",
                        shown(show, c->base + at + 8, klen), type);
        uint64_t val_at = c->pos;
        if (parse_value(c, (fmt_gguf_type)type, 0, tail) ||
            check_bools(c, (fmt_gguf_type)type, val_at, shown(show, c->base + at + 8, klen)))
            return -1;
        memset(kv, 0, sizeof *kv);
        kv->offset = at;
        kv->key.len = klen;
        kv->value.type = (fmt_gguf_type)type;
        const uint8_t *v = c->base + val_at;
        if (type == FMT_GGUF_STRING) {
            kv->value.v.s.len = ld64(v);
        } else if (type == FMT_GGUF_ARRAY) {
            kv->value.v.arr.elem_type = (fmt_gguf_type)ld32(v);
            kv->value.v.arr.n = ld64(v + 4);
            kv->value.v.arr.raw_len = c->pos - val_at - 12;
        } else {
            decode_scalar((fmt_gguf_type)type, v, &kv->value);
        }
    }
    return 0;
}

/* Pointers into the header, once it no longer moves. */
static void fix_kv_pointers(fmt_gguf *g) {
    for (uint64_t i = 0; i < g->n_kv; i++) {
        fmt_gguf_kv *kv = &g->kv[i];
        const uint8_t *key = g->base + kv->offset + 8;
        const uint8_t *v = key + kv->key.len + 4;
        kv->key.ptr = (const char *)key;
        if (kv->value.type == FMT_GGUF_STRING)
            kv->value.v.s.ptr = (const char *)v + 8;
        else if (kv->value.type == FMT_GGUF_ARRAY)
            kv->value.v.arr.raw = v + 12;
    }
}

static int check_kvs(cursor *c) {
    fmt_gguf *g = c->g;
    char show[NAME_SHOW + 4];
    if (strtab_init(&g->kv_tab, g->n_kv))
        return fail_st(c, GK_E_NOMEM, 16, "out of memory for the KV index");
    for (uint64_t i = 0; i < g->n_kv; i++) {
        uint64_t dup = strtab_insert(&g->kv_tab, i, kv_key, g);
        if (dup != UINT64_MAX)
            return fail(c, g->kv[i].offset, "duplicate key '%s' (also KV %llu)",
                        shown(show, (const uint8_t *)g->kv[i].key.ptr, g->kv[i].key.len),
                        (unsigned long long)dup);
    }
    g->alignment = FMT_GGUF_DEFAULT_ALIGNMENT;
    const fmt_gguf_kv *a = fmt_gguf_find_kv(g, "general.alignment");
    if (a) {
        if (a->value.type != FMT_GGUF_U32)
            return fail(c, a->offset, "general.alignment must be u32, not %s",
                        fmt_gguf_type_name(a->value.type));
        if (a->value.v.u == 0 || (a->value.v.u & (a->value.v.u - 1)) != 0)
            return fail(c, a->offset, "general.alignment %llu is not a non-zero power of two",
                        (unsigned long long)a->value.v.u);
        g->alignment = a->value.v.u;
    }
    return 0;
}

static int parse_tensor(cursor *c, uint64_t i, uint64_t *expected) {
    fmt_gguf *g = c->g;
    fmt_gguf_tensor *t = &g->t[i];
    char show[NAME_SHOW + 4];
    uint64_t at = c->pos, nlen;
    memset(t, 0, sizeof *t);
    g->t_pos[i] = at;
    if (read_u64(c, &nlen, "tensor name length"))
        return -1;
    if (nlen == 0)
        return fail(c, at, "tensor %llu has an empty name", (unsigned long long)i);
    if (nlen > FMT_GGUF_MAX_NAME)
        return fail(c, at, "tensor %llu: name is %llu bytes, longer than %d", (unsigned long long)i,
                    (unsigned long long)nlen, FMT_GGUF_MAX_NAME);
    if (need(c, nlen, "tensor name"))
        return -1;
    t->name.len = nlen;
    c->pos += nlen;
    /* a copy: on a stream the buffer may move under later reads */
    const char *name = shown(show, c->base + at + 8, nlen);
    uint64_t nd_at = c->pos;
    uint32_t nd;
    if (read_u32(c, &nd, "tensor n_dims"))
        return -1;
    if (nd < 1 || nd > FMT_GGUF_MAX_DIMS)
        return fail(c, nd_at, "tensor '%s': n_dims %u outside 1..%d", name, nd, FMT_GGUF_MAX_DIMS);
    t->n_dims = nd;
    uint64_t dims_at = c->pos;
    if (need(c, 8ull * nd, "tensor dimensions"))
        return -1;
    int64_t nelem = 1;
    for (uint32_t j = 0; j < FMT_GGUF_MAX_DIMS; j++) {
        if (j >= nd) {
            t->ne[j] = 1;
            continue;
        }
        int64_t ne = (int64_t)ld64(c->base + dims_at + 8ull * j);
        if (ne <= 0)
            return fail(c, dims_at + 8ull * j,
                        "tensor '%s': dimension %u is %lld, must be positive", name, j,
                        (long long)ne);
        if (nelem > INT64_MAX / ne)
            return fail(c, dims_at, "tensor '%s': element count overflows int64", name);
        nelem *= ne;
        t->ne[j] = ne;
    }
    c->pos += 8ull * nd;
    t->n_elements = (uint64_t)nelem;
    uint64_t type_at = c->pos;
    uint32_t type;
    if (read_u32(c, &type, "tensor type"))
        return -1;
    const kern_type_traits *tt = kern_type_info((int32_t)type);
    if (!tt)
        return fail(c, type_at, "tensor '%s': unknown tensor type %d", name, (int32_t)type);
    t->type = (int32_t)type;
    if (t->ne[0] % tt->blck_size != 0)
        return fail(c, type_at,
                    "tensor '%s': row of %lld elements is not a multiple of the %s block size %lld",
                    name, (long long)t->ne[0], kern_type_label(t->type), (long long)tt->blck_size);
    uint64_t row = kern_row_bytes(t->type, t->ne[0]);
    uint64_t rows = (uint64_t)(nelem / t->ne[0]);
    if (row == 0 || rows > UINT64_MAX / row || align_up(row * rows, g->alignment) == 0)
        return fail(c, type_at, "tensor '%s': data size overflows", name);
    t->size = row * rows;
    uint64_t off_at = c->pos;
    if (read_u64(c, &t->offset, "tensor data offset"))
        return -1;
    if (t->offset % g->alignment != 0)
        return fail(c, off_at,
                    "tensor '%s': data offset %llu is not a multiple of the alignment %llu", name,
                    (unsigned long long)t->offset, (unsigned long long)g->alignment);
    if (i > 0 && t->offset < g->t[i - 1].offset + g->t[i - 1].size) {
        char prev[NAME_SHOW + 4];
        return fail(c, off_at,
                    "tensor '%s': data at offset %llu overlaps tensor '%s' (ends at %llu)", name,
                    (unsigned long long)t->offset,
                    shown(prev, c->base + g->t_pos[i - 1] + 8, g->t[i - 1].name.len),
                    (unsigned long long)(g->t[i - 1].offset + g->t[i - 1].size));
    }
    if (t->offset != *expected)
        return fail(c, off_at, "tensor '%s': data offset %llu is out of order (expected %llu)",
                    name, (unsigned long long)t->offset, (unsigned long long)*expected);
    uint64_t padded = align_up(t->size, g->alignment);
    if (*expected > UINT64_MAX - padded)
        return fail(c, off_at, "tensor '%s': data section size overflows", name);
    *expected += padded;
    return 0;
}

static int parse_tensors(cursor *c) {
    fmt_gguf *g = c->g;
    uint64_t cap = 0, cap2 = 0, expected = 0;
    char show[NAME_SHOW + 4];
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        if (grow((void **)&g->t, &cap, i + 1, sizeof *g->t) ||
            grow((void **)&g->t_pos, &cap2, i + 1, sizeof *g->t_pos))
            return fail_st(c, GK_E_NOMEM, c->pos, "out of memory for %llu tensors",
                           (unsigned long long)g->n_tensors);
        expect_more(c, sat_mul(g->n_tensors - i, MIN_TI_BYTES));
        if (parse_tensor(c, i, &expected))
            return -1;
    }
    g->base = c->base;
    for (uint64_t i = 0; i < g->n_tensors; i++)
        g->t[i].name.ptr = (const char *)g->base + g->t_pos[i] + 8;
    if (strtab_init(&g->t_tab, g->n_tensors))
        return fail_st(c, GK_E_NOMEM, 8, "out of memory for the tensor index");
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        uint64_t dup = strtab_insert(&g->t_tab, i, tensor_name, g);
        if (dup != UINT64_MAX)
            return fail(c, g->t_pos[i], "duplicate tensor name '%s' (also tensor %llu)",
                        shown(show, (const uint8_t *)g->t[i].name.ptr, g->t[i].name.len),
                        (unsigned long long)dup);
    }
    return 0;
}

static int parse(cursor *c) {
    fmt_gguf *g = c->g;
    uint32_t magic;
    if (read_u32(c, &magic, "magic"))
        return -1;
    if (magic != FMT_GGUF_MAGIC)
        return fail(c, 0, "not a GGUF file: bad magic %02x %02x %02x %02x", c->base[0], c->base[1],
                    c->base[2], c->base[3]);
    if (read_u32(c, &g->version, "version"))
        return -1;
    /* ggml's test: a byte-swapped version has its low 16 bits zero */
    if (g->version != 0 && (g->version & 0xFFFFu) == 0)
        return fail_st(c, GK_E_UNSUPPORTED, 4,
                       "big-endian GGUF (version reads 0x%08x) is not supported", g->version);
    if (g->version != 2 && g->version != 3)
        return fail_st(c, g->version == 0 ? GK_E_FORMAT : GK_E_UNSUPPORTED, 4,
                       "GGUF version %u is not supported (only 2 and 3)", g->version);
    if (read_u64(c, &g->n_tensors, "tensor count") || read_u64(c, &g->n_kv, "KV count"))
        return -1;
    uint64_t rem = remaining(c);
    if (g->n_tensors > rem / MIN_TI_BYTES)
        return fail(c, 8, "tensor count %llu cannot fit in the %llu bytes that remain",
                    (unsigned long long)g->n_tensors, (unsigned long long)rem);
    if (rem != UINT64_MAX)
        rem -= g->n_tensors * MIN_TI_BYTES;
    if (g->n_kv > rem / MIN_KV_BYTES)
        return fail(c, 16, "KV count %llu cannot fit in the %llu bytes that remain",
                    (unsigned long long)g->n_kv, (unsigned long long)rem);
    if (parse_kvs(c))
        return -1;
    g->base = c->base;
    fix_kv_pointers(g);
    if (check_kvs(c))
        return -1;
    if (parse_tensors(c))
        return -1;
    g->base = c->base;
    fix_kv_pointers(g);
    for (uint64_t i = 0; i < g->n_tensors; i++)
        g->t[i].name.ptr = (const char *)g->base + g->t_pos[i] + 8;
    g->header_size = c->pos;
    g->data_offset = align_up(c->pos, g->alignment);
    if (g->data_offset == 0)
        return fail(c, c->pos, "data section offset overflows");
    char show[NAME_SHOW + 4];
    for (uint64_t i = 0; g->size != UINT64_MAX && !g->header_only && i < g->n_tensors; i++) {
        const fmt_gguf_tensor *t = &g->t[i];
        uint64_t avail = g->size > g->data_offset ? g->size - g->data_offset : 0;
        if (t->offset > avail || t->size > avail - t->offset) {
            uint64_t end = g->data_offset + t->offset + t->size; /* cannot overflow: checked sums */
            return fail(c, g->t_pos[i] + 8 + t->name.len + 4 + 8ull * t->n_dims + 4,
                        "tensor '%s': data ends %llu bytes past the end of the file",
                        shown(show, (const uint8_t *)t->name.ptr, t->name.len),
                        (unsigned long long)(end - g->size));
        }
    }
    g->order = malloc((g->n_tensors ? g->n_tensors : 1) * sizeof *g->order);
    if (!g->order)
        return fail_st(c, GK_E_NOMEM, 0, "out of memory");
    /* offsets are validated to follow tensor-info order, so the order a
     * stream delivers is the identity */
    for (uint64_t i = 0; i < g->n_tensors; i++)
        g->order[i] = i;
    return 0;
}

static fmt_gguf *open_common(fmt_input *in, const uint8_t *map, uint64_t size, int header_only,
                             gk_status *st) {
    fmt_gguf *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(open_err, sizeof open_err, "out of memory");
        *st = GK_E_NOMEM;
        return NULL;
    }
    g->header_only = header_only;
    g->in = in;
    g->map = map;
    g->size = size;
    cursor c = {.g = g, .size = size, .st = GK_OK};
    if (map) {
        c.base = map;
        c.have = size;
    } else {
        c.in = in;
    }
    int rc = parse(&c);
    if (rc == 0 && in && !map) {
        /* leave the stream at the data section (or at the end of the header
         * when there are no tensors: the padding may be absent) */
        uint64_t target = g->n_tensors ? g->data_offset : g->header_size;
        uint64_t done = c.have;
        gk_status s = target > done ? fmt_input_skip(in, target - done) : GK_OK;
        if (s == GK_E_FORMAT)
            rc = fail(&c, done, "unexpected end of file in the padding before the data section");
        else if (s != GK_OK)
            rc = fail_st(&c, s, done, "%s", fmt_input_errmsg(in));
        g->pos = target > done ? target : done;
    }
    if (rc) {
        *st = c.st;
        fmt_gguf_close(g);
        return NULL;
    }
    snprintf(g->err, sizeof g->err, "no error");
    *st = GK_OK;
    return g;
}

fmt_gguf *fmt_gguf_open(fmt_input *in, gk_status *st) {
    const uint8_t *map = fmt_input_is_mapped(in) ? fmt_input_data(in) : NULL;
    return open_common(in, map, fmt_input_size(in), 0, st);
}

fmt_gguf *fmt_gguf_open_memory(const void *data, size_t size, gk_status *st) {
    static const uint8_t empty[1];
    return open_common(NULL, data ? data : empty, size, 0, st);
}

void fmt_gguf_close(fmt_gguf *g) {
    if (!g)
        return;
    strtab_free(&g->kv_tab);
    strtab_free(&g->t_tab);
    free(g->kv);
    free(g->t);
    free(g->t_pos);
    free(g->order);
    free(g->buf);
    free(g);
}

/* ------------------------------------------------------------------------ */
/* Reader accessors                                                           */
/* ------------------------------------------------------------------------ */

uint32_t fmt_gguf_version(const fmt_gguf *g) {
    return g->version;
}

uint64_t fmt_gguf_alignment(const fmt_gguf *g) {
    return g->alignment;
}

uint64_t fmt_gguf_data_offset(const fmt_gguf *g) {
    return g->data_offset;
}

uint64_t fmt_gguf_header_size(const fmt_gguf *g) {
    return g->header_size;
}

uint64_t fmt_gguf_n_kv(const fmt_gguf *g) {
    return g->n_kv;
}

uint64_t fmt_gguf_n_tensors(const fmt_gguf *g) {
    return g->n_tensors;
}

const fmt_gguf_kv *fmt_gguf_kv_at(const fmt_gguf *g, uint64_t i) {
    return i < g->n_kv ? &g->kv[i] : NULL;
}

const fmt_gguf_tensor *fmt_gguf_tensor_at(const fmt_gguf *g, uint64_t i) {
    return i < g->n_tensors ? &g->t[i] : NULL;
}

const fmt_gguf_kv *fmt_gguf_find_kv(const fmt_gguf *g, const char *key) {
    uint64_t i = strtab_find(&g->kv_tab, key, strlen(key), kv_key, g);
    return i == UINT64_MAX ? NULL : &g->kv[i];
}

int64_t fmt_gguf_tensor_index(const fmt_gguf *g, const char *name) {
    uint64_t i = strtab_find(&g->t_tab, name, strlen(name), tensor_name, g);
    return i == UINT64_MAX ? -1 : (int64_t)i;
}

const fmt_gguf_tensor *fmt_gguf_find_tensor(const fmt_gguf *g, const char *name) {
    int64_t i = fmt_gguf_tensor_index(g, name);
    return i < 0 ? NULL : &g->t[i];
}

static int is_unsigned(fmt_gguf_type t) {
    return t == FMT_GGUF_U8 || t == FMT_GGUF_U16 || t == FMT_GGUF_U32 || t == FMT_GGUF_U64;
}

static int is_signed(fmt_gguf_type t) {
    return t == FMT_GGUF_I8 || t == FMT_GGUF_I16 || t == FMT_GGUF_I32 || t == FMT_GGUF_I64;
}

int fmt_gguf_get_u64(const fmt_gguf *g, const char *key, uint64_t *out) {
    const fmt_gguf_kv *kv = fmt_gguf_find_kv(g, key);
    if (!kv)
        return 0;
    if (is_unsigned(kv->value.type)) {
        *out = kv->value.v.u;
        return 1;
    }
    if (is_signed(kv->value.type) && kv->value.v.i >= 0) {
        *out = (uint64_t)kv->value.v.i;
        return 1;
    }
    return 0;
}

int fmt_gguf_get_i64(const fmt_gguf *g, const char *key, int64_t *out) {
    const fmt_gguf_kv *kv = fmt_gguf_find_kv(g, key);
    if (!kv)
        return 0;
    if (is_signed(kv->value.type)) {
        *out = kv->value.v.i;
        return 1;
    }
    if (is_unsigned(kv->value.type) && kv->value.v.u <= INT64_MAX) {
        *out = (int64_t)kv->value.v.u;
        return 1;
    }
    return 0;
}

int fmt_gguf_get_f64(const fmt_gguf *g, const char *key, double *out) {
    const fmt_gguf_kv *kv = fmt_gguf_find_kv(g, key);
    if (!kv)
        return 0;
    fmt_gguf_type t = kv->value.type;
    if (t == FMT_GGUF_F32 || t == FMT_GGUF_F64)
        *out = kv->value.v.f;
    else if (is_signed(t))
        *out = (double)kv->value.v.i;
    else if (is_unsigned(t))
        *out = (double)kv->value.v.u;
    else
        return 0;
    return 1;
}

int fmt_gguf_get_bool(const fmt_gguf *g, const char *key, int *out) {
    const fmt_gguf_kv *kv = fmt_gguf_find_kv(g, key);
    if (!kv || kv->value.type != FMT_GGUF_BOOL)
        return 0;
    *out = kv->value.v.u != 0;
    return 1;
}

int fmt_gguf_get_str(const fmt_gguf *g, const char *key, fmt_str *out) {
    const fmt_gguf_kv *kv = fmt_gguf_find_kv(g, key);
    if (!kv || kv->value.type != FMT_GGUF_STRING)
        return 0;
    *out = kv->value.v.s;
    return 1;
}

void fmt_gguf_iter_init(fmt_gguf_iter *it, const fmt_gguf_value *array) {
    it->p = array->v.arr.raw;
    it->end = array->v.arr.raw + array->v.arr.raw_len;
    it->elem_type = array->v.arr.elem_type;
    it->i = 0;
    it->n = array->v.arr.n;
}

int fmt_gguf_iter_next(fmt_gguf_iter *it, fmt_gguf_value *out) {
    if (it->i >= it->n)
        return 0;
    memset(out, 0, sizeof *out);
    out->type = it->elem_type;
    const uint8_t *p = it->p;
    uint64_t len = encoded_size(it->elem_type, p);
    if (it->elem_type == FMT_GGUF_STRING) {
        out->v.s.ptr = (const char *)p + 8;
        out->v.s.len = len - 8;
    } else if (it->elem_type == FMT_GGUF_ARRAY) {
        out->v.arr.elem_type = (fmt_gguf_type)ld32(p);
        out->v.arr.n = ld64(p + 4);
        out->v.arr.raw = p + 12;
        out->v.arr.raw_len = len - 12;
    } else {
        decode_scalar(it->elem_type, p, out);
    }
    it->p += len;
    it->i++;
    return 1;
}

const uint8_t *fmt_gguf_tensor_data(const fmt_gguf *g, uint64_t i) {
    if (i >= g->n_tensors)
        return NULL;
    const uint8_t *map = g->map;
    if (!map && g->in && fmt_input_is_mapped(g->in))
        map = fmt_input_data(g->in); /* a stream spilled to a temp file */
    if (!map)
        return NULL;
    /* a stream's tensors were not checked against its size at open */
    const fmt_gguf_tensor *t = &g->t[i];
    uint64_t size = g->in ? fmt_input_size(g->in) : g->size;
    if (g->data_offset > size || t->offset > size - g->data_offset ||
        t->size > size - g->data_offset - t->offset)
        return NULL;
    return map + g->data_offset + t->offset;
}

gk_status fmt_gguf_read_tensor(fmt_gguf *g, uint64_t i, void *buf) {
    if (i >= g->n_tensors) {
        snprintf(g->err, sizeof g->err, "tensor index %llu out of range", (unsigned long long)i);
        return GK_E_USAGE;
    }
    const fmt_gguf_tensor *t = &g->t[i];
    uint64_t abs = g->data_offset + t->offset;
    if (t->size > SIZE_MAX) {
        snprintf(g->err, sizeof g->err, "tensor too large for memory");
        return GK_E_NOMEM;
    }
    const uint8_t *data = fmt_gguf_tensor_data(g, i);
    if (data) {
        memcpy(buf, data, (size_t)t->size);
        return GK_OK;
    }
    if (!g->in) {
        snprintf(g->err, sizeof g->err, "tensor %llu has no data", (unsigned long long)i);
        return GK_E_FORMAT;
    }
    gk_status st;
    if (abs >= g->pos) {
        st = abs > g->pos ? fmt_input_skip(g->in, abs - g->pos) : GK_OK;
        if (st == GK_OK)
            st = fmt_input_read_exact(g->in, buf, (size_t)t->size);
        /* after a failed read the position is unknown: random access only */
        g->pos = st == GK_OK ? abs + t->size : UINT64_MAX;
    } else {
        st = fmt_input_pread(g->in, buf, (size_t)t->size, abs);
    }
    if (st == GK_E_FORMAT && strncmp(fmt_input_errmsg(g->in), "unexpected end of file", 22) == 0) {
        char show[NAME_SHOW + 4];
        snprintf(g->err, sizeof g->err,
                 "tensor '%s': unexpected end of file in its data (at byte %llu)",
                 shown(show, (const uint8_t *)t->name.ptr, t->name.len), (unsigned long long)abs);
    } else if (st == GK_E_FORMAT) {
        /* the input itself is broken (a zstd bomb past GGUFKIT_ZSTD_MAX,
         * corrupt zstd data): say so rather than "end of file" */
        char show[NAME_SHOW + 4];
        snprintf(g->err, sizeof g->err, "tensor '%s': %s",
                 shown(show, (const uint8_t *)t->name.ptr, t->name.len), fmt_input_errmsg(g->in));
    } else if (st != GK_OK) {
        snprintf(g->err, sizeof g->err, "%s", fmt_input_errmsg(g->in));
    }
    return st;
}

const uint64_t *fmt_gguf_offset_order(const fmt_gguf *g) {
    return g->order;
}

const char *fmt_gguf_errmsg(const fmt_gguf *g) {
    return g->err;
}

/* ------------------------------------------------------------------------ */
/* Writer                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct {
    uint8_t *p;
    size_t n, cap;
} bytes;

static int put(bytes *b, const void *src, size_t n) {
    if (n > SIZE_MAX - b->n)
        return -1;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n)
            cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
        uint8_t *np = realloc(b->p, cap);
        if (!np)
            return -1;
        b->p = np;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, src, n);
    b->n += n;
    return 0;
}

static int put32(bytes *b, uint32_t v) {
    uint8_t x[4];
    st32(x, v);
    return put(b, x, 4);
}

static int put64(bytes *b, uint64_t v) {
    uint8_t x[8];
    st64(x, v);
    return put(b, x, 8);
}

typedef struct {
    char *key;
    size_t key_len;
    uint8_t *enc; /* value type + encoded value, as in the file */
    size_t enc_len;
} wkv;

typedef struct {
    char *name;
    size_t name_len;
    uint32_t n_dims;
    int64_t ne[FMT_GGUF_MAX_DIMS];
    int type;
    uint64_t offset, size;
} wtensor;

struct fmt_gguf_writer {
    uint32_t version;
    uint64_t alignment;
    wkv *kv;
    uint64_t n_kv, cap_kv;
    wtensor *t;
    uint64_t n_t, cap_t;
    strtab t_tab;
    uint64_t data_size; /* sum of padded tensor sizes */
    int header_written;
    uint64_t header_size;
    uint64_t cur, cur_done; /* tensor being written, bytes of it done */
    char err[ERRCAP];
};

static gk_status werr(fmt_gguf_writer *w, gk_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static gk_status werr(fmt_gguf_writer *w, gk_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof w->err, fmt, ap);
    va_end(ap);
    return st;
}

fmt_gguf_writer *fmt_gguf_writer_create(uint32_t version, uint64_t alignment, gk_status *st) {
    if (version == 0)
        version = 3;
    if ((version != 2 && version != 3) || alignment == 0 || (alignment & (alignment - 1)) != 0 ||
        alignment > UINT32_MAX) {
        *st = GK_E_USAGE;
        return NULL;
    }
    fmt_gguf_writer *w = calloc(1, sizeof *w);
    if (!w || strtab_init(&w->t_tab, 8)) {
        free(w);
        *st = GK_E_NOMEM;
        return NULL;
    }
    w->version = version;
    w->alignment = alignment;
    snprintf(w->err, sizeof w->err, "no error");
    *st = GK_OK;
    return w;
}

void fmt_gguf_writer_free(fmt_gguf_writer *w) {
    if (!w)
        return;
    for (uint64_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key);
        free(w->kv[i].enc);
    }
    for (uint64_t i = 0; i < w->n_t; i++)
        free(w->t[i].name);
    free(w->kv);
    free(w->t);
    strtab_free(&w->t_tab);
    free(w);
}

const char *fmt_gguf_writer_errmsg(const fmt_gguf_writer *w) {
    return w->err;
}

static int64_t find_wkv(const fmt_gguf_writer *w, const char *key, size_t len) {
    for (uint64_t i = 0; i < w->n_kv; i++) {
        if (w->kv[i].key_len == len && memcmp(w->kv[i].key, key, len) == 0)
            return (int64_t)i;
    }
    return -1;
}

int fmt_gguf_writer_has_kv(const fmt_gguf_writer *w, const char *key) {
    return find_wkv(w, key, strlen(key)) >= 0;
}

void fmt_gguf_writer_remove_kv(fmt_gguf_writer *w, const char *key) {
    int64_t i = find_wkv(w, key, strlen(key));
    if (i < 0 || w->header_written)
        return;
    free(w->kv[i].key);
    free(w->kv[i].enc);
    memmove(&w->kv[i], &w->kv[i + 1], (size_t)(w->n_kv - (uint64_t)i - 1) * sizeof *w->kv);
    w->n_kv--;
}

/* Take ownership of enc (freed on failure too) as the value of key. */
static gk_status add_encoded(fmt_gguf_writer *w, const char *key, size_t key_len, bytes *enc) {
    gk_status st = GK_OK;
    if (w->header_written)
        st = werr(w, GK_E_USAGE, "KV '%.*s' added after the header was written", (int)key_len, key);
    else if (key_len == 0)
        st = werr(w, GK_E_USAGE, "empty key");
    else if (!fmt_utf8_valid((const uint8_t *)key, key_len))
        st = werr(w, GK_E_USAGE, "key is not valid UTF-8");
    else if (find_wkv(w, key, key_len) >= 0)
        st = werr(w, GK_E_USAGE, "duplicate key '%.*s'", (int)key_len, key);
    else if (grow((void **)&w->kv, &w->cap_kv, w->n_kv + 1, sizeof *w->kv))
        st = werr(w, GK_E_NOMEM, "out of memory");
    char *k = st == GK_OK ? malloc(key_len) : NULL;
    if (st == GK_OK && !k)
        st = werr(w, GK_E_NOMEM, "out of memory");
    if (st != GK_OK) {
        free(enc->p);
        return st;
    }
    memcpy(k, key, key_len);
    w->kv[w->n_kv++] = (wkv){k, key_len, enc->p, enc->n};
    return GK_OK;
}

static int encode_scalar(bytes *b, const fmt_gguf_value *v) {
    uint8_t x[8];
    switch (v->type) {
    case FMT_GGUF_U8: x[0] = (uint8_t)v->v.u; break;
    case FMT_GGUF_BOOL: x[0] = v->v.u ? 1 : 0; break;
    case FMT_GGUF_I8: x[0] = (uint8_t)(int8_t)v->v.i; break;
    case FMT_GGUF_U16: x[0] = (uint8_t)v->v.u, x[1] = (uint8_t)(v->v.u >> 8); break;
    case FMT_GGUF_I16:
        x[0] = (uint8_t)(uint64_t)v->v.i, x[1] = (uint8_t)((uint64_t)v->v.i >> 8);
        break;
    case FMT_GGUF_U32: st32(x, (uint32_t)v->v.u); break;
    case FMT_GGUF_I32: st32(x, (uint32_t)(int32_t)v->v.i); break;
    case FMT_GGUF_U64: st64(x, v->v.u); break;
    case FMT_GGUF_I64: st64(x, (uint64_t)v->v.i); break;
    case FMT_GGUF_F32: {
        float f = (float)v->v.f;
        uint32_t u;
        memcpy(&u, &f, 4);
        st32(x, u);
        break;
    }
    case FMT_GGUF_F64: {
        uint64_t u;
        memcpy(&u, &v->v.f, 8);
        st64(x, u);
        break;
    }
    default: return -1;
    }
    return put(b, x, type_sizes[v->type]);
}

gk_status fmt_gguf_writer_add_kv(fmt_gguf_writer *w, const char *key, size_t key_len,
                                 const fmt_gguf_value *v) {
    bytes b = {0};
    int rc;
    if ((unsigned)v->type >= FMT_GGUF_TYPE_COUNT)
        return werr(w, GK_E_USAGE, "unknown value type %d", (int)v->type);
    rc = put32(&b, (uint32_t)v->type);
    if (v->type == FMT_GGUF_STRING) {
        rc = rc || v->v.s.len > SIZE_MAX || put64(&b, v->v.s.len) ||
             put(&b, v->v.s.ptr, (size_t)v->v.s.len);
    } else if (v->type == FMT_GGUF_ARRAY) {
        fmt_gguf_type et = v->v.arr.elem_type;
        if ((unsigned)et >= FMT_GGUF_TYPE_COUNT ||
            (type_sizes[et] && (v->v.arr.n > UINT64_MAX / type_sizes[et] ||
                                v->v.arr.raw_len != v->v.arr.n * type_sizes[et]))) {
            free(b.p);
            return werr(w, GK_E_USAGE, "key '%.*s': inconsistent array value", (int)key_len, key);
        }
        rc = rc || v->v.arr.raw_len > SIZE_MAX || put32(&b, (uint32_t)et) ||
             put64(&b, v->v.arr.n) || put(&b, v->v.arr.raw, (size_t)v->v.arr.raw_len);
    } else {
        rc = rc || encode_scalar(&b, v);
    }
    if (rc) {
        free(b.p);
        return werr(w, GK_E_NOMEM, "out of memory");
    }
    return add_encoded(w, key, key_len, &b);
}

gk_status fmt_gguf_writer_set_kv(fmt_gguf_writer *w, const char *key, const fmt_gguf_value *v) {
    size_t len = strlen(key);
    int64_t i = find_wkv(w, key, len);
    if (i < 0)
        return fmt_gguf_writer_add_kv(w, key, len, v);
    /* encode by appending under a hidden old entry, then move the value */
    wkv old = w->kv[i];
    w->kv[i].key_len = 0;
    gk_status st = fmt_gguf_writer_add_kv(w, key, len, v);
    w->kv[i] = old;
    if (st != GK_OK)
        return st;
    wkv *added = &w->kv[--w->n_kv];
    free(added->key);
    free(w->kv[i].enc);
    w->kv[i].enc = added->enc;
    w->kv[i].enc_len = added->enc_len;
    return GK_OK;
}

static gk_status add_scalar(fmt_gguf_writer *w, const char *key, fmt_gguf_value v) {
    return fmt_gguf_writer_add_kv(w, key, strlen(key), &v);
}

gk_status fmt_gguf_writer_add_u32(fmt_gguf_writer *w, const char *key, uint32_t v) {
    return add_scalar(w, key, (fmt_gguf_value){.type = FMT_GGUF_U32, .v.u = v});
}

gk_status fmt_gguf_writer_add_i32(fmt_gguf_writer *w, const char *key, int32_t v) {
    return add_scalar(w, key, (fmt_gguf_value){.type = FMT_GGUF_I32, .v.i = v});
}

gk_status fmt_gguf_writer_add_u64(fmt_gguf_writer *w, const char *key, uint64_t v) {
    return add_scalar(w, key, (fmt_gguf_value){.type = FMT_GGUF_U64, .v.u = v});
}

gk_status fmt_gguf_writer_add_f32(fmt_gguf_writer *w, const char *key, float v) {
    return add_scalar(w, key, (fmt_gguf_value){.type = FMT_GGUF_F32, .v.f = v});
}

gk_status fmt_gguf_writer_add_bool(fmt_gguf_writer *w, const char *key, int v) {
    return add_scalar(w, key, (fmt_gguf_value){.type = FMT_GGUF_BOOL, .v.u = v != 0});
}

gk_status fmt_gguf_writer_add_str(fmt_gguf_writer *w, const char *key, const char *s, size_t len) {
    return add_scalar(w, key, (fmt_gguf_value){.type = FMT_GGUF_STRING, .v.s = {s, len}});
}

gk_status fmt_gguf_writer_add_array(fmt_gguf_writer *w, const char *key, fmt_gguf_type elem_type,
                                    uint64_t n, const void *raw) {
    size_t esz = fmt_gguf_type_size(elem_type);
    if (esz == 0 || n > UINT64_MAX / esz)
        return werr(w, GK_E_USAGE, "key '%s': arrays of %s need their own encoder", key,
                    fmt_gguf_type_name(elem_type));
    fmt_gguf_value v = {.type = FMT_GGUF_ARRAY};
    v.v.arr.elem_type = elem_type;
    v.v.arr.n = n;
    v.v.arr.raw = raw;
    v.v.arr.raw_len = n * esz;
    return fmt_gguf_writer_add_kv(w, key, strlen(key), &v);
}

gk_status fmt_gguf_writer_add_str_array(fmt_gguf_writer *w, const char *key,
                                        const char *const *strs, const size_t *lens, uint64_t n) {
    bytes b = {0};
    int rc = put32(&b, FMT_GGUF_ARRAY) || put32(&b, FMT_GGUF_STRING) || put64(&b, n);
    for (uint64_t i = 0; !rc && i < n; i++) {
        size_t len = lens ? lens[i] : strlen(strs[i]);
        rc = put64(&b, len) || put(&b, strs[i], len);
    }
    if (rc) {
        free(b.p);
        return werr(w, GK_E_NOMEM, "out of memory");
    }
    return add_encoded(w, key, strlen(key), &b);
}

static fmt_str wtensor_name(const void *owner, uint64_t i) {
    const wtensor *t = &((const fmt_gguf_writer *)owner)->t[i];
    return (fmt_str){t->name, t->name_len};
}

gk_status fmt_gguf_writer_add_tensor(fmt_gguf_writer *w, const char *name, uint32_t n_dims,
                                     const int64_t *ne, int type) {
    size_t len = strlen(name);
    if (w->header_written)
        return werr(w, GK_E_USAGE, "tensor '%s' added after the header was written", name);
    if (len == 0 || len > FMT_GGUF_MAX_NAME)
        return werr(w, GK_E_USAGE, "tensor name '%s' must be 1..%d bytes", name, FMT_GGUF_MAX_NAME);
    if (strtab_find(&w->t_tab, name, len, wtensor_name, w) != UINT64_MAX)
        return werr(w, GK_E_USAGE, "duplicate tensor name '%s'", name);
    if (n_dims < 1 || n_dims > FMT_GGUF_MAX_DIMS)
        return werr(w, GK_E_USAGE, "tensor '%s': n_dims %u outside 1..%d", name, n_dims,
                    FMT_GGUF_MAX_DIMS);
    const kern_type_traits *tt = kern_type_info(type);
    if (!tt)
        return werr(w, GK_E_USAGE, "tensor '%s': unknown type %d", name, type);
    wtensor t = {.n_dims = n_dims, .type = type, .name_len = len};
    int64_t nelem = 1;
    for (uint32_t j = 0; j < FMT_GGUF_MAX_DIMS; j++) {
        t.ne[j] = j < n_dims ? ne[j] : 1;
        if (t.ne[j] <= 0 || nelem > INT64_MAX / t.ne[j])
            return werr(w, GK_E_USAGE, "tensor '%s': bad dimension %lld", name, (long long)t.ne[j]);
        nelem *= t.ne[j];
    }
    uint64_t row = kern_row_bytes(type, t.ne[0]);
    uint64_t rows = (uint64_t)(nelem / t.ne[0]);
    if (row == 0)
        return werr(w, GK_E_USAGE,
                    "tensor '%s': row of %lld is not a multiple of the %s block size", name,
                    (long long)t.ne[0], kern_type_label(type));
    if (rows > UINT64_MAX / row || align_up(row * rows, w->alignment) == 0)
        return werr(w, GK_E_USAGE, "tensor '%s': size overflows", name);
    t.size = row * rows;
    uint64_t padded = align_up(t.size, w->alignment);
    if (w->data_size > UINT64_MAX - padded)
        return werr(w, GK_E_USAGE, "tensor '%s': data section overflows", name);
    t.offset = w->data_size;
    if (grow((void **)&w->t, &w->cap_t, w->n_t + 1, sizeof *w->t))
        return werr(w, GK_E_NOMEM, "out of memory");
    if (2 * (w->t_tab.used + 1) > w->t_tab.mask + 1) {
        strtab nt;
        if (strtab_init(&nt, 2 * (w->n_t + 1)))
            return werr(w, GK_E_NOMEM, "out of memory");
        strtab_free(&w->t_tab);
        w->t_tab = nt;
        for (uint64_t i = 0; i < w->n_t; i++)
            strtab_insert(&w->t_tab, i, wtensor_name, w);
    }
    t.name = malloc(len);
    if (!t.name)
        return werr(w, GK_E_NOMEM, "out of memory");
    memcpy(t.name, name, len);
    w->t[w->n_t] = t;
    strtab_insert(&w->t_tab, w->n_t, wtensor_name, w);
    w->n_t++;
    w->data_size += padded;
    return GK_OK;
}

uint64_t fmt_gguf_writer_n_tensors(const fmt_gguf_writer *w) {
    return w->n_t;
}

uint64_t fmt_gguf_writer_tensor_size(const fmt_gguf_writer *w, uint64_t i) {
    return i < w->n_t ? w->t[i].size : 0;
}

static uint64_t header_bytes(const fmt_gguf_writer *w) {
    uint64_t n = 24;
    for (uint64_t i = 0; i < w->n_kv; i++)
        n += 8 + w->kv[i].key_len + w->kv[i].enc_len;
    for (uint64_t i = 0; i < w->n_t; i++)
        n += 8 + w->t[i].name_len + 4 + 8ull * w->t[i].n_dims + 4 + 8;
    return n;
}

uint64_t fmt_gguf_writer_file_size(const fmt_gguf_writer *w) {
    uint64_t h = header_bytes(w);
    if (w->n_t == 0)
        return h; /* no padding without tensors, as gguf-py writes vocab-only files */
    return align_up(h, w->alignment) + w->data_size;
}

/* general.alignment, when present, must say what the writer does. */
static gk_status check_alignment_kv(fmt_gguf_writer *w) {
    int64_t i = find_wkv(w, "general.alignment", strlen("general.alignment"));
    if (i < 0) {
        if (w->alignment != FMT_GGUF_DEFAULT_ALIGNMENT)
            return werr(w, GK_E_USAGE, "alignment %llu needs a general.alignment KV",
                        (unsigned long long)w->alignment);
        return GK_OK;
    }
    const wkv *kv = &w->kv[i];
    if (kv->enc_len != 8 || ld32(kv->enc) != FMT_GGUF_U32 || ld32(kv->enc + 4) != w->alignment)
        return werr(w, GK_E_USAGE, "general.alignment KV must be u32 %llu",
                    (unsigned long long)w->alignment);
    return GK_OK;
}

static gk_status wout(fmt_gguf_writer *w, fmt_output *out, gk_status st) {
    if (st != GK_OK)
        werr(w, st, "%s", fmt_output_errmsg(out));
    return st;
}

/* Header bytes (magic to the last tensor info, without padding) into b. */
static int build_header(const fmt_gguf_writer *w, bytes *b) {
    int rc =
        put32(b, FMT_GGUF_MAGIC) || put32(b, w->version) || put64(b, w->n_t) || put64(b, w->n_kv);
    for (uint64_t i = 0; !rc && i < w->n_kv; i++) {
        const wkv *kv = &w->kv[i];
        rc = put64(b, kv->key_len) || put(b, kv->key, kv->key_len) || put(b, kv->enc, kv->enc_len);
    }
    for (uint64_t i = 0; !rc && i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        rc = put64(b, t->name_len) || put(b, t->name, t->name_len) || put32(b, t->n_dims);
        for (uint32_t j = 0; !rc && j < t->n_dims; j++)
            rc = put64(b, (uint64_t)t->ne[j]);
        rc = rc || put32(b, (uint32_t)t->type) || put64(b, t->offset);
    }
    return rc;
}

gk_status fmt_gguf_writer_write_header(fmt_gguf_writer *w, fmt_output *out) {
    if (w->header_written)
        return werr(w, GK_E_USAGE, "header already written");
    gk_status st = check_alignment_kv(w);
    if (st != GK_OK)
        return st;
    bytes b = {0};
    if (build_header(w, &b)) {
        free(b.p);
        return werr(w, GK_E_NOMEM, "out of memory building the header");
    }
    uint64_t pad = w->n_t ? align_up(b.n, w->alignment) - b.n : 0;
    st = fmt_output_write(out, b.p, b.n);
    free(b.p);
    if (st == GK_OK && pad)
        st = fmt_output_write_zeros(out, (size_t)pad);
    w->header_written = 1;
    w->header_size = b.n + pad;
    return wout(w, out, st);
}

fmt_gguf *fmt_gguf_writer_header_reader(const fmt_gguf_writer *w, gk_status *st) {
    bytes b = {0};
    if (build_header(w, &b)) {
        free(b.p);
        snprintf(open_err, sizeof open_err, "out of memory building the header");
        *st = GK_E_NOMEM;
        return NULL;
    }
    fmt_gguf *g = open_common(NULL, b.p, b.n, 1, st);
    if (!g) {
        free(b.p);
        return NULL;
    }
    g->buf = b.p; /* the reader's strings point here; freed by close */
    return g;
}

gk_status fmt_gguf_writer_write_data(fmt_gguf_writer *w, fmt_output *out, const void *data,
                                     size_t n) {
    const uint8_t *p = data;
    if (!w->header_written)
        return werr(w, GK_E_USAGE, "tensor data written before the header");
    while (n > 0) {
        if (w->cur >= w->n_t)
            return werr(w, GK_E_USAGE, "more data than the %llu tensors hold",
                        (unsigned long long)w->n_t);
        const wtensor *t = &w->t[w->cur];
        uint64_t left = t->size - w->cur_done;
        size_t take = n < left ? n : (size_t)left;
        gk_status st = fmt_output_write(out, p, take);
        if (st != GK_OK)
            return wout(w, out, st);
        p += take;
        n -= take;
        w->cur_done += take;
        if (w->cur_done == t->size) {
            uint64_t pad = align_up(t->size, w->alignment) - t->size;
            if (pad && (st = fmt_output_write_zeros(out, (size_t)pad)) != GK_OK)
                return wout(w, out, st);
            w->cur++;
            w->cur_done = 0;
        }
    }
    return GK_OK;
}

gk_status fmt_gguf_writer_finish(fmt_gguf_writer *w) {
    if (!w->header_written)
        return werr(w, GK_E_USAGE, "header was never written");
    if (w->cur < w->n_t)
        return werr(w, GK_E_USAGE, "tensor '%.*s' has %llu of its %llu bytes",
                    (int)w->t[w->cur].name_len, w->t[w->cur].name, (unsigned long long)w->cur_done,
                    (unsigned long long)w->t[w->cur].size);
    return GK_OK;
}
