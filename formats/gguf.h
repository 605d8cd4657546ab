/*
 * gguf.h -- GGUF v2/v3 reader (random access or forward-only) and
 * streaming writer (header first, then tensor data with padding).
 *
 * Every count, length, offset and dimension is validated against the bytes
 * that remain before it is trusted; a malformed file gives GK_E_FORMAT with
 * fmt_gguf_errmsg() = "what is wrong (at byte N)".
 */
#ifndef FORMATS_GGUF_H
#define FORMATS_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "../ggufkit.h"
#include "io.h"

#define FMT_GGUF_MAGIC 0x46554747u /* "GGUF" little-endian */
#define FMT_GGUF_DEFAULT_ALIGNMENT 32
#define FMT_GGUF_MAX_DIMS 4
#define FMT_GGUF_MAX_NAME 63       /* longest tensor name ggml accepts */
#define FMT_GGUF_MAX_ARRAY_DEPTH 8 /* arrays of arrays nest at most this deep */

/* Metadata value types (GGUF spec numbering). */
typedef enum {
    FMT_GGUF_U8 = 0,
    FMT_GGUF_I8 = 1,
    FMT_GGUF_U16 = 2,
    FMT_GGUF_I16 = 3,
    FMT_GGUF_U32 = 4,
    FMT_GGUF_I32 = 5,
    FMT_GGUF_F32 = 6,
    FMT_GGUF_BOOL = 7,
    FMT_GGUF_STRING = 8,
    FMT_GGUF_ARRAY = 9,
    FMT_GGUF_U64 = 10,
    FMT_GGUF_I64 = 11,
    FMT_GGUF_F64 = 12,
    FMT_GGUF_TYPE_COUNT
} fmt_gguf_type;

/* A length-delimited string (not NUL-terminated; may hold any bytes). */
typedef struct {
    const char *ptr;
    uint64_t len;
} fmt_str;

/* A decoded value. Scalars are widened: unsigned and bool in u, signed in
 * i, F32/F64 in f. Strings and arrays point into reader-owned memory,
 * valid until fmt_gguf_close(). */
typedef struct {
    fmt_gguf_type type;
    union {
        uint64_t u;
        int64_t i;
        double f;
        fmt_str s;
        struct {
            fmt_gguf_type elem_type;
            uint64_t n;         /* element count */
            const uint8_t *raw; /* encoded elements as in the file */
            uint64_t raw_len;   /* bytes of raw */
        } arr;
    } v;
} fmt_gguf_value;

typedef struct {
    fmt_str key;
    fmt_gguf_value value;
    uint64_t offset; /* file offset of the KV's key length field */
} fmt_gguf_kv;

typedef struct {
    fmt_str name; /* points into reader memory */
    uint32_t n_dims;
    int64_t ne[FMT_GGUF_MAX_DIMS]; /* ggml order: ne[0] is the row length; unused dims are 1 */
    int type;                      /* kern_type id */
    uint64_t offset;               /* relative to the data section */
    uint64_t size;                 /* bytes of data (kern_row_bytes(type, ne0) * rows) */
    uint64_t n_elements;
} fmt_gguf_tensor;

/* ------------------------------------------------------------------------ */
/* Reader                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct fmt_gguf fmt_gguf;

/* Parse and validate the header from in (which the reader borrows: close
 * the reader before the input). Reads only the header; on a stream the
 * position is left at the start of the data section (at the end of the
 * header when there are no tensors); a mapped input's sequential position
 * is not touched. Strings and arrays point into the mapping, or into a
 * reader-owned copy of the header on a stream. */
fmt_gguf *fmt_gguf_open(fmt_input *in, gk_status *st);

/* Parse a complete GGUF file held in memory (data[0..size), borrowed until
 * close): the fuzz entry point, and for tests. Same validation as
 * fmt_gguf_open; tensor data is read from data. */
fmt_gguf *fmt_gguf_open_memory(const void *data, size_t size, gk_status *st);

/* On a failed open, the message for the last failure of this thread
 * (a thread-local buffer, overwritten by the next failed open). */
const char *fmt_gguf_open_errmsg(void);

uint32_t fmt_gguf_version(const fmt_gguf *g);
uint64_t fmt_gguf_alignment(const fmt_gguf *g);
uint64_t fmt_gguf_data_offset(const fmt_gguf *g); /* absolute, aligned */
/* End of the tensor infos (before padding). A file without tensors may
 * end here: gguf-py writes vocab-only files without trailing padding. */
uint64_t fmt_gguf_header_size(const fmt_gguf *g);
uint64_t fmt_gguf_n_kv(const fmt_gguf *g);
uint64_t fmt_gguf_n_tensors(const fmt_gguf *g);
const fmt_gguf_kv *fmt_gguf_kv_at(const fmt_gguf *g, uint64_t i);
const fmt_gguf_tensor *fmt_gguf_tensor_at(const fmt_gguf *g, uint64_t i);

/* Lookup by name (NUL-terminated); NULL when absent. */
const fmt_gguf_kv *fmt_gguf_find_kv(const fmt_gguf *g, const char *key);
const fmt_gguf_tensor *fmt_gguf_find_tensor(const fmt_gguf *g, const char *name);
int64_t fmt_gguf_tensor_index(const fmt_gguf *g, const char *name); /* -1 if absent */

/* Typed getters: 1 when key exists and converts, else 0. get_u64 accepts
 * any non-negative integer type; get_i64 any integer; get_f64 any number;
 * get_str a string (pointer into reader memory). */
int fmt_gguf_get_u64(const fmt_gguf *g, const char *key, uint64_t *out);
int fmt_gguf_get_i64(const fmt_gguf *g, const char *key, int64_t *out);
int fmt_gguf_get_f64(const fmt_gguf *g, const char *key, double *out);
int fmt_gguf_get_bool(const fmt_gguf *g, const char *key, int *out);
int fmt_gguf_get_str(const fmt_gguf *g, const char *key, fmt_str *out);

/* Array iteration (the header is validated, so this cannot fail). */
typedef struct {
    const uint8_t *p, *end;
    fmt_gguf_type elem_type;
    uint64_t i, n;
} fmt_gguf_iter;

void fmt_gguf_iter_init(fmt_gguf_iter *it, const fmt_gguf_value *array);
/* Fill *out with the next element; 1 while elements remain, else 0. */
int fmt_gguf_iter_next(fmt_gguf_iter *it, fmt_gguf_value *out);

/* Size in bytes of one element of a fixed-size value type; 0 for
 * strings/arrays. Name of a value type ("u32", "str", "arr", ...). */
size_t fmt_gguf_type_size(fmt_gguf_type t);
const char *fmt_gguf_type_name(fmt_gguf_type t);

/* Mapped tensor data, or NULL when the input is not mapped. Valid until the
 * input is closed. */
const uint8_t *fmt_gguf_tensor_data(const fmt_gguf *g, uint64_t i);

/* Copy tensor i's bytes into buf (t->size bytes). Random access on mapped
 * input; on a stream, reads forward (tensors in offset order are cheap;
 * going back spills the stream to a temp file). */
gk_status fmt_gguf_read_tensor(fmt_gguf *g, uint64_t i, void *buf);

/* Tensor indices sorted by data offset (the order a stream delivers).
 * The reader requires offsets to follow tensor-info order (as ggml does),
 * so this is currently the identity. */
const uint64_t *fmt_gguf_offset_order(const fmt_gguf *g);

/* Detail of the last failure. Never NULL. */
const char *fmt_gguf_errmsg(const fmt_gguf *g);

void fmt_gguf_close(fmt_gguf *g); /* accepts NULL */

/* ------------------------------------------------------------------------ */
/* Writer                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct fmt_gguf_writer fmt_gguf_writer;

/* version 2 or 3 (0 means 3, the default); alignment a power of two
 * (normally 32; any other value needs a u32 general.alignment KV equal to
 * it, checked by write_header). NULL + GK_E_USAGE on bad arguments. */
fmt_gguf_writer *fmt_gguf_writer_create(uint32_t version, uint64_t alignment, gk_status *st);

/* Append a KV (copies key and value, including array payloads). A
 * duplicate key is GK_E_USAGE. */
gk_status fmt_gguf_writer_add_kv(fmt_gguf_writer *w, const char *key, size_t key_len,
                                 const fmt_gguf_value *v);
gk_status fmt_gguf_writer_add_u32(fmt_gguf_writer *w, const char *key, uint32_t v);
gk_status fmt_gguf_writer_add_i32(fmt_gguf_writer *w, const char *key, int32_t v);
gk_status fmt_gguf_writer_add_u64(fmt_gguf_writer *w, const char *key, uint64_t v);
gk_status fmt_gguf_writer_add_f32(fmt_gguf_writer *w, const char *key, float v);
gk_status fmt_gguf_writer_add_bool(fmt_gguf_writer *w, const char *key, int v);
gk_status fmt_gguf_writer_add_str(fmt_gguf_writer *w, const char *key, const char *s, size_t len);
/* Array of fixed-size elements given as little-endian raw bytes. */
gk_status fmt_gguf_writer_add_array(fmt_gguf_writer *w, const char *key, fmt_gguf_type elem_type,
                                    uint64_t n, const void *raw);
/* Array of strings. lens may be NULL (then strs are NUL-terminated). */
gk_status fmt_gguf_writer_add_str_array(fmt_gguf_writer *w, const char *key,
                                        const char *const *strs, const size_t *lens, uint64_t n);

/* Set a KV: an existing key gets the new value (and type) in its position,
 * as gguf-py's add_key_value overwrites a duplicate; a new key is appended. */
gk_status fmt_gguf_writer_set_kv(fmt_gguf_writer *w, const char *key, const fmt_gguf_value *v);

/* Remove a KV if present (to re-append it at the end, as gguf_set_* do). */
void fmt_gguf_writer_remove_kv(fmt_gguf_writer *w, const char *key);
int fmt_gguf_writer_has_kv(const fmt_gguf_writer *w, const char *key);

/* Append a tensor info; its offset follows the previous tensor, aligned.
 * Validates name (1..63 bytes, unique), dims and type/row size. */
gk_status fmt_gguf_writer_add_tensor(fmt_gguf_writer *w, const char *name, uint32_t n_dims,
                                     const int64_t *ne, int type);

uint64_t fmt_gguf_writer_n_tensors(const fmt_gguf_writer *w);
uint64_t fmt_gguf_writer_tensor_size(const fmt_gguf_writer *w, uint64_t i);
/* Total bytes the finished file will have. */
uint64_t fmt_gguf_writer_file_size(const fmt_gguf_writer *w);

/* Write magic, version, counts, KVs, tensor infos and padding to the
 * alignment. Call once, after all KVs and tensors are added. */
gk_status fmt_gguf_writer_write_header(fmt_gguf_writer *w, fmt_output *out);

/* Write data for the next tensor in order, in one or more chunks; after
 * the tensor's last byte the writer adds the zero padding itself. */
gk_status fmt_gguf_writer_write_data(fmt_gguf_writer *w, fmt_output *out, const void *data,
                                     size_t n);

/* Check that every tensor's data was written completely. */
gk_status fmt_gguf_writer_finish(fmt_gguf_writer *w);

/* A reader over the header w would write now (KVs and tensor infos, no
 * data section): lets a producer hand its planned output to code that
 * consumes fmt_gguf metadata (hf2gguf --outtype PRESET feeds requant's
 * planner this way). Tensor data accessors fail on it. The reader owns a
 * copy; w may be changed or freed afterwards. NULL + *st on failure
 * (message in fmt_gguf_open_errmsg). */
fmt_gguf *fmt_gguf_writer_header_reader(const fmt_gguf_writer *w, gk_status *st);

const char *fmt_gguf_writer_errmsg(const fmt_gguf_writer *w);
void fmt_gguf_writer_free(fmt_gguf_writer *w); /* accepts NULL */

#endif
