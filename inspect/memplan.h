/*
 * memplan.h -- gguf-inspect --mem: the memory llama.cpp (ec562eb) allocates
 * for a model, per device, from the header alone. Pure formulas: no I/O,
 * one scratch allocation per plan. Facts are llama.cpp's: layer placement (llama-model.cpp
 * load_tensors), KV cache and SWA cache sizes (llama-kv-cache*.cpp),
 * context padding (llama-context.cpp). The compute buffer is an estimate
 * of ggml-alloc's peak for the worst-case ubatch graph.
 */
#ifndef INSPECT_MEMPLAN_H
#define INSPECT_MEMPLAN_H

#include <stddef.h>
#include <stdint.h>

#define MP_MAX_GPUS 16
#define MP_UNKNOWN UINT64_MAX /* a figure that would be a guess */

/* One weight tensor: its GGUF name, type id, shape (ggml order), bytes and
 * where they lie. */
typedef struct {
    const char *name;
    int type;
    int64_t ne[4];
    uint64_t bytes;
    uint64_t offset; /* in its file's data section */
    uint32_t file;   /* shard of a split set */
} mp_tensor;

/* The hyper-parameters the plan needs (0 when absent). */
typedef struct {
    const char *arch;
    uint64_t n_layer, n_embd, n_ff, n_head, n_head_kv, n_embd_head_k, n_embd_head_v;
    uint64_t n_vocab, n_ctx_train, n_expert, n_expert_used, n_ff_exp;
    uint64_t n_swa;      /* sliding window; 0 = none */
    uint32_t swa_period; /* layer il slides unless il % period == period - 1; 0 = all */
    int is_mla;          /* DeepSeek MLA: key_length_mla and value_length_mla present */
} mp_hparams;

/* llama.cpp's knobs, with its names. */
typedef struct {
    uint64_t n_ctx;     /* -c; 0 = the training context */
    uint64_t n_batch;   /* -b */
    uint64_t n_ubatch;  /* -ub */
    uint64_t n_seq;     /* -np */
    int type_k, type_v; /* -ctk/-ctv: kern type ids */
    int flash_attn;     /* -fa */
    int n_gpu_layers;   /* -ngl */
    int n_cpu_moe;      /* --n-cpu-moe; -1 = every layer (--cpu-moe) */
    int no_mmap, swa_full;
    int repack;                /* the CPU's extra buffers: 0 = -nr, --no-repack */
    int amx;                   /* among them AMX (llama.cpp built for an AMX-INT8 CPU) */
    int n_gpus;                /* devices after the CPU */
    double split[MP_MAX_GPUS]; /* -ts proportions (n_gpus of them) */
} mp_params;

/* KV layout of the architecture. */
typedef enum { MP_KV_OK, MP_KV_NOT_MODELLED, MP_KV_UNKNOWN } mp_kv_status;

/* One device's figures (MP_UNKNOWN when they would be a guess). */
typedef struct {
    uint64_t weights; /* model buffer (CPU: the mapped file ranges, or allocated with --no-mmap) */
    uint64_t repack;  /* CPU_REPACK model buffer */
    uint64_t amx;     /* AMX model buffer */
    uint64_t kv, compute, output, total;
    int layers; /* repeating layers placed here */
} mp_device;

typedef struct {
    uint64_t n_ctx, n_ctx_seq, n_batch, n_ubatch, n_stream;
    uint64_t kv_cells, kv_cells_swa; /* per stream; swa 0 when no SWA layers */
    uint64_t n_swa_layers;
    int output_device; /* where output.weight lives: 0 = CPU */
    mp_kv_status kv_status;
    int n_dev; /* 1 + n_gpus */
    mp_device dev[1 + MP_MAX_GPUS];
} mp_plan;

/* Plan t[0..n-1] under p. Returns 0, or -1 with a message in err (bad
 * parameters: a cache type whose blocks do not divide the K/V rows, a
 * context that would overflow). */
int mp_plan_compute(const mp_hparams *hp, const mp_tensor *t, size_t n, const mp_params *p,
                    mp_plan *out, char *err, size_t errcap);

/* The KV layout llama.cpp uses for arch. */
mp_kv_status mp_kv_layout(const char *arch);

/* Bytes of one row of n elements of type (ggml_row_size), or 0 when the
 * type is unknown or its block does not divide n. */
uint64_t mp_row_bytes(int type, uint64_t n);

/* The cache types llama.cpp accepts for -ctk/-ctv (f32, f16, bf16, q8_0,
 * q4_0, q4_1, iq4_nl, q5_0, q5_1): the type id, or -1. */
int mp_cache_type(const char *name);

#endif
