/*
 * verify.h -- the verify module: error metrics between original and
 * round-tripped tensors, checksums of GGUF tensor data, manifests in
 * llama-gguf-hash's format, deep validation, model diffs and the HTML
 * error report.
 *
 * Nothing here prints or exits; functions that can fail return gk_status.
 */
#ifndef VERIFY_H
#define VERIFY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "formats/gguf.h"
#include "formats/io.h"
#include "ggufkit.h"

/* ------------------------------------------------------------------------ */
/* Error metrics                                                              */
/* ------------------------------------------------------------------------ */

/*
 * Running sums for the error between an original f32 row set x and its round
 * trip y (e.g. quantize then dequantize), kept in double precision so that
 * all metrics come out of a single pass. A plain record: zero it with
 * vfy_metrics_init(), feed it with vfy_metrics_add(), combine per-thread
 * accumulators with vfy_metrics_merge() and read the metrics with
 * vfy_metrics_finish().
 *
 * Each sum is kept in VFY_METRICS_LANES partial sums, element i of the
 * stream going to lane i % VFY_METRICS_LANES: independent lanes let the
 * additions overlap (a single running sum is one long dependency chain and
 * cost requant a third of its time). Because the lane is fixed by the
 * element's position in the stream, feeding the same elements in the same
 * order gives bit-identical sums however they are split into calls.
 */
#define VFY_METRICS_LANES 8

typedef struct {
    uint64_t n;                         /* elements seen */
    double sum_err2[VFY_METRICS_LANES]; /* sum (x - y)^2 */
    double sum_x2[VFY_METRICS_LANES];   /* sum x^2 */
    double sum_y2[VFY_METRICS_LANES];   /* sum y^2 */
    double sum_xy[VFY_METRICS_LANES];   /* sum x * y */
    double max_abs[VFY_METRICS_LANES];  /* max |x - y| (NaN errors show in sum_err2) */
} vfy_metrics_acc;

/* The metrics of an accumulator. Any NaN in the inputs makes every field
 * but n NaN (a NaN round trip is never "close"); infinities propagate as
 * IEEE arithmetic says. */
typedef struct {
    uint64_t n;         /* elements compared */
    double rmse;        /* sqrt(sum err^2 / n); 0 when n == 0 */
    double max_abs_err; /* max |x - y| */
    double rel_rms;     /* rms(err) / rms(x); 0 if err == 0, +inf if x == 0 != err */
    double cosine;      /* x.y / (|x| |y|); 1 if both are zero, 0 if only one is */
    double snr_db;      /* 10 log10(sum x^2 / sum err^2); +inf when err == 0 */
} vfy_metrics;

/* Reset acc to the empty state (no elements). acc must not be NULL. */
void vfy_metrics_init(vfy_metrics_acc *acc);

/* Add n element pairs (orig[i], roundtrip[i]) to acc, in index order.
 * Both arrays hold n floats (borrowed for the call); n may be 0. */
void vfy_metrics_add(vfy_metrics_acc *acc, const float *orig, const float *roundtrip, size_t n);

/* Fold src into dst (dst += src, lane by lane). Merging the same
 * accumulators in the same order always gives the same bits; order matters
 * only in the last ulp. */
void vfy_metrics_merge(vfy_metrics_acc *dst, const vfy_metrics_acc *src);

/* Compute the metrics of acc into *out. Neither pointer may be NULL. */
void vfy_metrics_finish(const vfy_metrics_acc *acc, vfy_metrics *out);

/*
 * Metrics of nrows rows of n_per_row floats (orig and roundtrip are
 * row-major arrays of nrows * n_per_row floats, borrowed for the call),
 * computed by nthreads POSIX threads (values < 1 mean 1). Rows are cut into
 * chunks whose size depends only on n_per_row, and the per-chunk sums are
 * merged in chunk order, so the result is bit-identical for every thread
 * count. If acc_out is not NULL the merged accumulator is stored there too
 * (for merging across tensors). A thread that cannot be started leaves
 * its share to the others (the result does not change). Returns GK_OK,
 * GK_E_USAGE for negative sizes or an element count that overflows, or
 * GK_E_NOMEM if the per-chunk sums cannot be allocated.
 */
gk_status vfy_metrics_rows(const float *orig, const float *roundtrip, int64_t nrows,
                           int64_t n_per_row, int nthreads, vfy_metrics *out,
                           vfy_metrics_acc *acc_out);

/* ------------------------------------------------------------------------ */
/* Checksums                                                                  */
/* ------------------------------------------------------------------------ */

/* Hash kinds, in the order llama-gguf-hash prints them. XXH3 is XXH3-64
 * (llama-gguf-hash's "xxh3"); XXH128 (XXH3-128) is our extension; UUID is
 * the UUIDv5 llama-gguf-hash derives from SHA-1 over its namespace and the
 * tensor data (whole model only). */
typedef enum {
    VFY_HASH_XXH64 = 0,
    VFY_HASH_XXH3,
    VFY_HASH_XXH128,
    VFY_HASH_SHA1,
    VFY_HASH_SHA256,
    VFY_HASH_UUID,
    VFY_HASH_COUNT
} vfy_hash_kind;

/* Longest digest text (SHA-256: 64 hex digits) plus the NUL. */
#define VFY_HASH_HEX_MAX 65

/* llama.cpp's UUIDv5 namespace, uuid5(NAMESPACE_URL,
 * "en.wikipedia.org/wiki/Llama.cpp") = ef001206-dadc-5f6d-a15f-3359e577d4e5. */
extern const uint8_t vfy_uuid_namespace[16];

/* Manifest name of a kind ("xxh64", "xxh3", "xxh128", "sha1", "sha256",
 * "uuid"); NULL for an out-of-range kind. */
const char *vfy_hash_name(vfy_hash_kind k);

/* Kind for a name of len bytes (not NUL-terminated), or -1. */
int vfy_hash_from_name(const char *name, size_t len);

/* Length of the digest text of a kind: 16, 16, 32, 40, 64, 36 (UUID with
 * dashes). */
size_t vfy_hash_hex_len(vfy_hash_kind k);

/* An incremental hash of one kind (opaque). */
typedef struct vfy_hasher vfy_hasher;

/* New hasher of kind k, ready for data. NULL + GK_E_NOMEM (or GK_E_USAGE
 * for a bad kind) on failure. */
vfy_hasher *vfy_hasher_new(vfy_hash_kind k, gk_status *st);

/* Feed n bytes (borrowed for the call). */
void vfy_hasher_update(vfy_hasher *h, const void *data, size_t n);

/* Write the digest as lowercase text (vfy_hash_hex_len(k) chars + NUL) into
 * hex; the hasher is then reset to its initial state and can be reused. */
void vfy_hasher_final(vfy_hasher *h, char hex[VFY_HASH_HEX_MAX]);

void vfy_hasher_free(vfy_hasher *h); /* accepts NULL */

/* One-shot digest text of data[0..n) (as new + update + final). */
gk_status vfy_hash_buffer(vfy_hash_kind k, const void *data, size_t n, char hex[VFY_HASH_HEX_MAX]);

/* Digest text of every byte of the file at path ("-" = stdin) as stored:
 * no zstd decompression (whole-file SHA-256 as sha256sum and Hugging Face
 * show it, or any other kind). On failure (GK_E_IO) the message goes to
 * err[errcap]. */
gk_status vfy_hash_file(const char *path, vfy_hash_kind k, char hex[VFY_HASH_HEX_MAX], char *err,
                        size_t errcap);

/* What to hash in a GGUF model. */
typedef struct {
    unsigned kinds; /* bit mask of (1u << vfy_hash_kind); UUID is whole-model only */
    int per_tensor; /* hash each tensor's data too (0 = --no-layer) */
    int nthreads;   /* worker threads; values < 1 mean 1 */
    int progress;   /* -1 auto, 0 off, 1 on (stderr, see fmt_progress_start) */
} vfy_hash_opts;

/* Digests of one model: per tensor (index = tensor-info index) and for the
 * whole model, i.e. every tensor's data (without padding) in tensor-info
 * order as one stream, exactly as llama-gguf-hash hashes it. Entries of
 * kinds not asked for are empty strings. */
typedef struct {
    uint64_t n_tensors;
    char (*tensor)[VFY_HASH_COUNT][VFY_HASH_HEX_MAX]; /* n_tensors rows, or NULL */
    char model[VFY_HASH_COUNT][VFY_HASH_HEX_MAX];
} vfy_gguf_hashes;

/*
 * Hash the tensor data of g (opened from in; both borrowed). A mapped input
 * is hashed by o->nthreads threads: the whole-model streams (one job per
 * kind) run beside per-tensor jobs (largest first); one thread does a single
 * fused pass. A stream is read once, forward, in offset order. The digests
 * do not depend on the thread count. Fills *out (free with
 * vfy_gguf_hashes_free); on failure err[errcap] says why (GK_E_IO,
 * GK_E_FORMAT for truncated data, GK_E_NOMEM).
 */
gk_status vfy_hash_gguf(fmt_gguf *g, fmt_input *in, const vfy_hash_opts *o, vfy_gguf_hashes *out,
                        char *err, size_t errcap);

void vfy_gguf_hashes_free(vfy_gguf_hashes *h); /* accepts NULL; leaves *h empty */

/* ------------------------------------------------------------------------ */
/* Manifests                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * Write the manifest lines of one model to f (borrowed), byte for byte as
 * llama-gguf-hash prints them: "%-8s  %s  %s\n" = kind padded to 8
 * columns, two spaces, digest, two spaces, name. First, per tensor in
 * tensor-info order, one line per kind in enum order named "FILE:TENSOR"
 * (skipped when per_tensor is 0; never for UUID); then one whole-model line
 * per kind named "FILE". file is the name as given on the command line.
 * With escape (f is a terminal), control bytes in file and tensor names
 * are shown as '?' (fmt_escape_term). Returns GK_E_IO when writing fails.
 */
gk_status vfy_manifest_write(FILE *f, const char *file, const fmt_gguf *g, const vfy_gguf_hashes *h,
                             unsigned kinds, int per_tensor, int escape);

/* Write one sha256sum-compatible line "HEX  FILE\n" (a name holding '\\' or
 * a newline is escaped as GNU coreutils does, with a leading '\\'). */
gk_status vfy_manifest_write_whole(FILE *f, const char *file, const char *hex);

/* Outcome of one checked item. */
typedef enum {
    VFY_CHECK_OK = 0,
    VFY_CHECK_FAILED,     /* digest differs */
    VFY_CHECK_MISSING,    /* tensor named in the manifest is not in the file */
    VFY_CHECK_EXTRA,      /* tensor in the file has no line in the manifest */
    VFY_CHECK_UNREADABLE, /* the file could not be opened or read */
    VFY_CHECK_SKIPPED,    /* missing file or tensor under ignore_missing */
} vfy_check_status;

/* One result, in the order of the manifest lines (extras after the lines
 * of their file). */
typedef struct {
    char *name; /* "FILE:TENSOR" or "FILE" (FILE replaced by the override) */
    vfy_hash_kind kind;
    uint64_t line; /* manifest line number (1-based); 0 for extras */
    vfy_check_status status;
} vfy_check_item;

typedef struct {
    const char *file_override; /* check this file instead of the one named (NULL: as named) */
    int ignore_missing;        /* missing files and tensors are skipped, not failures */
    int nthreads;
    int progress;
    const char *base_dir; /* the manifest's directory: names are relative to it (NULL: here) */
    int allow_outside;    /* names may be absolute or lead out of base_dir */
} vfy_check_opts;

/* Result of a check: items, malformed lines and per-file errors. */
typedef struct {
    vfy_check_item *items;
    size_t n_items;
    uint64_t *malformed; /* line numbers of improperly formatted lines */
    size_t n_malformed;
    uint64_t n_wellformed;
    char **errors; /* "FILE: what is wrong" for files that could not be checked
                      (FILE cut to 200 bytes, control bytes shown as '?') */
    size_t n_errors;
    uint64_t n_ok, n_failed, n_missing, n_extra, n_unreadable, n_skipped;
    uint64_t n_refused; /* files refused (outside base_dir, not a regular file):
                           their items are also counted as unreadable */
} vfy_check_result;

/*
 * Check the manifest text text[0..len) (borrowed): lines of llama-gguf-hash
 * ("KIND  HEX  NAME", any whitespace between fields; NAME is the rest of
 * the line) and of sha256sum ("HEX  FILE" or "HEX *FILE": whole-file
 * SHA-256). A name is a whole-model name if it has no ':', if other lines
 * name "NAME:..." or if it is an existing file; otherwise FILE:TENSOR is
 * split after the longest whole-model name that prefixes it, else at the
 * last ':'. Each file is opened and hashed once with the kinds its lines
 * use. A file with per-tensor lines of a kind must have a line for every
 * tensor (else EXTRA items). Names resolve relative to o->base_dir; unless
 * o->allow_outside, an absolute name, a ".." component or a symlink
 * resolving outside base_dir is refused, as is anything but a regular file
 * (a FIFO would block, a device never end); file_override is used as
 * given. Empty lines are ignored. Fills *res (free with
 * vfy_check_result_free). Returns GK_OK when the check ran (whatever the
 * verdict), GK_E_USAGE when file_override is given but the manifest names
 * more than one file, GK_E_NOMEM.
 */
gk_status vfy_check_manifest(const char *text, size_t len, const vfy_check_opts *o,
                             vfy_check_result *res);

void vfy_check_result_free(vfy_check_result *res); /* accepts NULL */

/* ------------------------------------------------------------------------ */
/* Validation                                                                 */
/* ------------------------------------------------------------------------ */

/*
 * Deep validation of the tensor data of g (opened from in): every tensor's
 * data is present and every row is decoded with the type's dequantizer; the
 * first tensor (in tensor-info order) that holds an impossible block scale
 * (an fp16 scale that is Inf or NaN, or an MXFP4 E8M0 scale byte of 0xFF,
 * as ggml_validate_row_data rejects) or a NaN/Inf value fails. Work is spread over nthreads threads
 * on a mapped input; a stream is read forward once. Returns GK_OK when all
 * is well, GK_E_CHECK with msg = "tensor 'NAME' row R: ..." naming the
 * first bad tensor and row, or another status with the reason in msg.
 * *bad_tensor (when not NULL) gets the tensor index or -1.
 */
gk_status vfy_validate_gguf(fmt_gguf *g, fmt_input *in, int nthreads, int64_t *bad_tensor,
                            char *msg, size_t msgcap);

/* ------------------------------------------------------------------------ */
/* Model diff                                                                 */
/* ------------------------------------------------------------------------ */

typedef enum { VFY_KV_ADDED, VFY_KV_REMOVED, VFY_KV_CHANGED } vfy_kv_change;

/* One metadata difference. Values are rendered as text (strings quoted,
 * arrays as "[n x type] first elements"); NULL for the absent side. */
typedef struct {
    vfy_kv_change change;
    char *key;
    char *a; /* value in A (reference) */
    char *b; /* value in B (tested) */
} vfy_kv_diff;

typedef enum {
    VFY_TENSOR_COMPARED = 0,
    VFY_TENSOR_MISSING,    /* in A, not in B */
    VFY_TENSOR_EXTRA,      /* in B, not in A */
    VFY_TENSOR_MISSHAPED,  /* in both, shapes differ */
    VFY_TENSOR_UNDECODABLE /* a side's type has no dequantizer */
} vfy_tensor_status;

/* One tensor of a comparison; also the row type of the HTML report. */
typedef struct {
    char *name;
    vfy_tensor_status status;
    int ref_type; /* kern type id in A, -1 when absent */
    int type;     /* kern type id in B, -1 when absent */
    uint32_t n_dims;
    int64_t ref_ne[FMT_GGUF_MAX_DIMS];
    int64_t ne[FMT_GGUF_MAX_DIMS];
    uint64_t n_elements; /* of B (or A when absent in B) */
    uint64_t ref_bytes;  /* data bytes in A */
    uint64_t bytes;      /* data bytes in B */
    vfy_metrics m;       /* A = original, B = round trip; valid when COMPARED */
    /* With VFY_DIFF_PER_EXPERT, on a COMPARED expert tensor (3-D, name
     * containing "_exps.", not empty): n_experts = ne[2] and experts[e] the
     * metrics of expert slice e (elements [e, e + 1) * ne[0] * ne[1]),
     * owned by the vfy_diff. Otherwise 0 and NULL. */
    uint64_t n_experts;
    vfy_metrics *experts;
} vfy_tensor_diff;

typedef struct {
    vfy_kv_diff *kv;
    size_t n_kv;
    vfy_tensor_diff *tensors; /* A's tensors in A's order, then B's extras */
    size_t n_tensors;
    vfy_metrics total; /* over every compared element */
    double max_rel;    /* largest rel_rms over compared tensors and expert
                          slices (NaN sticks) */
    uint64_t n_compared, n_missing, n_extra, n_misshaped, n_undecodable;
} vfy_diff;

/*
 * Compare model B against reference A (both opened with the reader from
 * their inputs, which must allow random access: mapped, or spilled with
 * fmt_input_make_seekable): metadata keys, then every tensor dequantized to
 * f32 on both sides, row chunks at a time, with vfy_metrics; tensors are
 * spread over nthreads threads and the result does not depend on their
 * number. progress: -1 auto, 0 off, 1 on (fmt_progress_start: a line on
 * stderr with the tensor being compared). flags: 0 or VFY_DIFF_PER_EXPERT,
 * which also gives each compared expert tensor its per-expert metrics
 * (vfy_tensor_diff.experts; the thread of a tensor feeds its slices in row
 * order, and the tensor's own metrics are the same bits as without the
 * flag). Fills *out (free with vfy_diff_free); on failure err says why.
 */
enum { VFY_DIFF_PER_EXPERT = 1 };

gk_status vfy_diff_gguf(fmt_gguf *a, fmt_input *ina, fmt_gguf *b, fmt_input *inb, int nthreads,
                        int progress, unsigned flags, vfy_diff *out, char *err, size_t errcap);

void vfy_diff_free(vfy_diff *d); /* accepts NULL */

/* Write the diff as text tables to f (one indented "expert E" line per
 * expert slice under an expert tensor that has them). Returns GK_E_IO on a
 * write error. */
gk_status vfy_diff_write_text(FILE *f, const vfy_diff *d, const char *a_name, const char *b_name);

/* Write the diff as one JSON document (schema: docs/gguf-verify.json.md). */
gk_status vfy_diff_write_json(FILE *f, const vfy_diff *d, const char *a_name, const char *b_name);

/* ------------------------------------------------------------------------ */
/* HTML error report                                                          */
/* ------------------------------------------------------------------------ */

/* What the report shows: per-tensor rows (only COMPARED rows enter the
 * charts) and labels for the two sides. All borrowed for the call. */
typedef struct {
    const char *title;      /* page title */
    const char *ref_label;  /* e.g. the reference file name */
    const char *test_label; /* e.g. the quantized file name */
    const vfy_tensor_diff *tensors;
    size_t n_tensors;
} vfy_report;

/*
 * Render one self-contained HTML page (no network: inline CSS, SVG and JS):
 * a line chart of relative RMS error per layer for each tensor kind of
 * "blk.N.KIND.weight" matrices (one <circle data-kind=KIND data-layer=N>
 * per layer and kind), bars of bits per weight per layer of the tested
 * model, and a per-tensor table sortable by clicking its headers. *html
 * gets a malloc'ed NUL-terminated page (caller frees) of *len bytes.
 * GK_E_NOMEM on allocation failure.
 */
gk_status vfy_report_html(const vfy_report *r, char **html, size_t *len);

#endif
