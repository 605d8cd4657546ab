/*
 * pickle.h -- restricted reader for PyTorch checkpoints (pytorch_model*.bin
 * written by torch.save since 1.6): a zip archive of STORED entries
 *
 *   <prefix>/data.pkl       the pickled state_dict
 *   <prefix>/data/<key>     raw little-endian storage bytes, one per key
 *   <prefix>/byteorder      "little" (optional; "big" is refused)
 *
 * The pickle is never executed. A small interpreter understands only the
 * opcodes torch.save emits for a state_dict and only the globals that build
 * one (collections.OrderedDict, torch._utils._rebuild_tensor[_v2],
 * torch._utils._rebuild_parameter, torch.Size and the typed storage
 * classes); it builds a description of the tensors, which point into the
 * mapped archive. Any other import (os.system, builtins.eval, ...) is
 * refused with GK_E_FORMAT naming it. Stack, marks and memo are bounded.
 */
#ifndef FORMATS_PICKLE_H
#define FORMATS_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "../ggufkit.h"
#include "safetensors.h"

#define FMT_PT_MAX_DIMS FMT_ST_MAX_DIMS
#define FMT_PT_MAX_STACK (1u << 20)    /* values on the pickle stack */
#define FMT_PT_MAX_MARKS 256u          /* nested MARKs */
#define FMT_PT_MAX_MEMO (1u << 22)     /* memo slots */
#define FMT_PT_MAX_NEST 16             /* dicts nested inside the state_dict */
#define FMT_PT_MAX_OBJECTS (1u << 22)  /* values the pickle may create */
#define FMT_PT_MAX_PICKLE (1ull << 30) /* bytes of data.pkl */

/* One tensor of the checkpoint. Nested dicts are flattened with '.'
 * between keys. Only contiguous row-major tensors are accepted, so data
 * holds size bytes in safetensors/PyTorch order. */
typedef struct {
    const char *name;   /* NUL-terminated, owned by the reader */
    fmt_st_dtype dtype; /* from the storage class */
    uint32_t n_dims;    /* 0 for a scalar */
    int64_t shape[FMT_PT_MAX_DIMS];
    int64_t strides[FMT_PT_MAX_DIMS]; /* in elements, as pickled */
    uint64_t n_elements;
    uint64_t size;           /* bytes */
    const char *storage_key; /* "<key>" of <prefix>/data/<key>, owned by the reader */
    uint64_t storage_offset; /* in elements, from the pickle */
    uint64_t offset;         /* absolute offset of the first byte in the file */
    const uint8_t *data;     /* into the mapping, valid until close */
} fmt_pt_tensor;

typedef struct fmt_pt fmt_pt;

/* Map a torch.save zip archive and describe its tensors. Returns NULL with
 * *st set (GK_E_FORMAT malformed or hostile, GK_E_UNSUPPORTED valid but not
 * handled: compressed entries, big-endian, non-contiguous strides, legacy
 * pre-1.6 format, ...; GK_E_IO; GK_E_NOMEM); fmt_pt_open_errmsg() then
 * holds "FILE: what is wrong (at byte N)". */
fmt_pt *fmt_pt_open(const char *path, gk_status *st);

/* The same over bytes the caller owns and keeps alive until close (tests,
 * fuzzing). label names the input in messages. */
fmt_pt *fmt_pt_open_mem(const uint8_t *buf, size_t len, const char *label, gk_status *st);

/* Message of this thread's last failed open ("" after a successful one). */
const char *fmt_pt_open_errmsg(void);

/* Tensors in the state_dict's order. NULL when i is out of range. */
uint64_t fmt_pt_n_tensors(const fmt_pt *p);
const fmt_pt_tensor *fmt_pt_tensor_at(const fmt_pt *p, uint64_t i);

/* Tensor by name, NULL when absent. */
const fmt_pt_tensor *fmt_pt_find(const fmt_pt *p, const char *name);

/* The archive's record prefix ("archive", "pytorch_model", ...). */
const char *fmt_pt_prefix(const fmt_pt *p);

/* Unmap (when fmt_pt_open mapped) and free; accepts NULL. */
void fmt_pt_close(fmt_pt *p);

#endif
