/*
 * memplan.c -- llama.cpp's memory, per device, from hyper-parameters and
 * tensor sizes (see memplan.h).
 */
#include "memplan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"

#define PAD(x, n) (((x) + (n)-1) / (n) * (n))
/* ggml's CPU buffer aligns every tensor to 32 bytes; GGUF data is aligned alike */
#define TENSOR_ALIGN 32

/* ------------------------------------------------------------------------ */
/* Types and layouts                                                          */
/* ------------------------------------------------------------------------ */

uint64_t mp_row_bytes(int type, uint64_t n) {
    const kern_type_traits *t = kern_type_info(type);
    if (!t || n % (uint64_t)t->blck_size)
        return 0;
    return n / (uint64_t)t->blck_size * t->type_size;
}

int mp_cache_type(const char *name) {
    static const int allowed[] = {KERN_TYPE_F32,    KERN_TYPE_F16,  KERN_TYPE_BF16,
                                  KERN_TYPE_Q8_0,   KERN_TYPE_Q4_0, KERN_TYPE_Q4_1,
                                  KERN_TYPE_IQ4_NL, KERN_TYPE_Q5_0, KERN_TYPE_Q5_1};
    int t = kern_type_from_name(name);
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (t == allowed[i])
            return t;
    return -1;
}

/* Families whose layers all use llama.cpp's plain KV cache (llama_kv_cache,
 * or llama_kv_cache_iswa for the sliding-window ones), and those whose
 * memory is recurrent or hybrid (llama_memory_recurrent/_hybrid). */
static const char *const plain_kv[] = {
    "llama",    "llama4",    "mistral3",   "qwen2",        "qwen2moe",  "qwen3",     "qwen3moe",
    "gemma",    "gemma2",    "gemma3",     "phi2",         "phi3",      "granite",   "granitemoe",
    "smollm3",  "olmo",      "olmo2",      "olmoe",        "cohere2",   "command-r", "gpt-oss",
    "deepseek", "deepseek2", "starcoder2", "stablelm",     "internlm2", "exaone",    "minicpm",
    "baichuan", "mixtral",   "ernie4_5",   "ernie4_5-moe", "glm4",      "glm4moe",   "hunyuan-moe",
    "dots1",    "arcee",     "seed_oss",   "apertus",      "gpt2",      "falcon",    "bloom",
    "mpt",      "starcoder", "refact",     "gptneox",      "orion",     "xverse",
};
static const char *const recurrent[] = {
    "mamba",     "mamba2",        "rwkv6", "rwkv6qwen2", "rwkv7",      "arwkv7",    "jamba",
    "falcon-h1", "granitehybrid", "lfm2",  "lfm2moe",    "nemotron_h", "qwen3next", "plamo2",
};

mp_kv_status mp_kv_layout(const char *arch) {
    for (size_t i = 0; arch && i < sizeof plain_kv / sizeof plain_kv[0]; i++)
        if (strcmp(arch, plain_kv[i]) == 0)
            return MP_KV_OK;
    for (size_t i = 0; arch && i < sizeof recurrent / sizeof recurrent[0]; i++)
        if (strcmp(arch, recurrent[i]) == 0)
            return MP_KV_NOT_MODELLED;
    return MP_KV_UNKNOWN;
}

/* ------------------------------------------------------------------------ */
/* Placement (llama_model::load_tensors)                                      */
/* ------------------------------------------------------------------------ */

typedef struct {
    int i_gpu_start, act_gpu_layers, n_gpus;
    double splits[MP_MAX_GPUS]; /* cumulative, normalised */
} placement;

static void placement_init(placement *pl, const mp_hparams *hp, const mp_params *p) {
    int n_layer = (int)hp->n_layer, ngl = p->n_gpu_layers;
    double sum = 0, acc = 0;
    memset(pl, 0, sizeof *pl);
    pl->n_gpus = p->n_gpus;
    pl->i_gpu_start = n_layer + 1 - ngl > 0 ? n_layer + 1 - ngl : 0;
    pl->act_gpu_layers = p->n_gpus == 0 ? 0 : (ngl < n_layer + 1 ? ngl : n_layer + 1);
    for (int i = 0; i < p->n_gpus; i++)
        sum += p->split[i];
    for (int i = 0; i < p->n_gpus; i++) {
        acc += p->split[i];
        pl->splits[i] = sum > 0 ? acc / sum : (double)(i + 1) / p->n_gpus;
    }
}

/* Device of layer il (n_layer = the output layer): 0 = CPU, k = GPU k-1. */
static int device_of(const placement *pl, int il) {
    if (il < pl->i_gpu_start || il - pl->i_gpu_start >= pl->act_gpu_layers)
        return 0;
    double x = (double)(il - pl->i_gpu_start) / pl->act_gpu_layers;
    int k = 0;
    while (k < pl->n_gpus - 1 && !(pl->splits[k] > x)) /* std::upper_bound */
        k++;
    return 1 + k;
}

static int tensor_layer(const char *name, uint64_t n_layer) {
    unsigned long l;
    int used = 0;
    if (sscanf(name, "blk.%lu.%n", &l, &used) == 1 && used > 0 && l < n_layer)
        return (int)l;
    if (strncmp(name, "output", 6) == 0 || strncmp(name, "cls", 3) == 0)
        return (int)n_layer;
    return -1; /* the input layer: token embeddings, always on the CPU */
}

/* The CPU backend's extra buffer (ggml-cpu repack.cpp) takes matmul
 * weights of these types with rows in groups of 8: 2-D ones, and the 3-D
 * expert stacks (MUL_MAT_ID), at their own size. */
static int repackable(const mp_tensor *t) {
    return (t->type == KERN_TYPE_Q4_0 || t->type == KERN_TYPE_Q4_K ||
            t->type == KERN_TYPE_IQ4_NL) &&
           t->ne[1] % 8 == 0 && t->ne[3] <= 1 && strncmp(t->name, "token_embd", 10) != 0;
}

/* The tensors --cpu-moe and --n-cpu-moe keep on the CPU: llama.cpp's
 * LLM_FFN_EXPS_REGEX, "\\.ffn_(up|down|gate|gate_up)_(ch|)exps". */
static int expert_stack(const char *name) {
    static const char *const stacks[] = {
        ".ffn_up_exps",   ".ffn_down_exps",   ".ffn_gate_exps",   ".ffn_gate_up_exps",
        ".ffn_up_chexps", ".ffn_down_chexps", ".ffn_gate_chexps", ".ffn_gate_up_chexps"};
    for (size_t i = 0; i < sizeof stacks / sizeof stacks[0]; i++)
        if (strstr(name, stacks[i]))
            return 1;
    return 0;
}

/* The AMX buffer (ggml-cpu amx/, in llama.cpp's builds for AMX-INT8
 * processors) comes first among the CPU's extra buffers. It takes the
 * weights of plain matmuls (not GET_ROWS, not MUL_MAT_ID's expert stacks)
 * of these types whose rows come in 32s (TILE_N * 2) and whose row length
 * the type's alignment divides: F16 as is, the quantized types repacked to
 * ne1 rows of (blocks + a 32-bit compensation per block for Q8_0 and a
 * 32- or 16-bit one for the k-quants) -- ne2 is not counted, as upstream's
 * ggml_backend_amx_get_alloc_size does not. Returns the allocation, or 0
 * when the tensor stays elsewhere. */
static uint64_t amx_bytes(const mp_tensor *t) {
    uint64_t align, extra = 0;
    switch (t->type) {
    case KERN_TYPE_F16: align = 16; break;
    case KERN_TYPE_Q4_0:
    case KERN_TYPE_Q4_1: align = 32; break;
    case KERN_TYPE_Q8_0: align = 32, extra = 4; break;
    case KERN_TYPE_Q4_K:
    case KERN_TYPE_Q5_K: align = 256, extra = 4; break;
    case KERN_TYPE_Q6_K: align = 256; break;
    case KERN_TYPE_IQ4_XS: align = 256, extra = 2; break;
    default: return 0;
    }
    if (t->ne[0] <= 0 || t->ne[1] <= 0 || t->ne[1] % 32 || t->ne[0] % (int64_t)align ||
        expert_stack(t->name) || strncmp(t->name, "token_embd", 10) == 0)
        return 0;
    if (t->type == KERN_TYPE_F16)
        return t->bytes;
    const kern_type_traits *tt = kern_type_info(t->type);
    uint64_t blocks = (uint64_t)t->ne[0] / (uint64_t)tt->blck_size;
    return (uint64_t)t->ne[1] * blocks * (tt->type_size + extra);
}

/* llama.cpp maps, per file, the range from the first to the last byte of
 * the tensors that stay mapped on the CPU: tensors between them count even
 * when they are repacked or offloaded. */
static uint64_t mapped_bytes(const mp_tensor *t, size_t n, const uint8_t *mapped) {
    uint64_t total = 0;
    for (uint32_t file = 0;; file++) {
        uint64_t lo = UINT64_MAX, hi = 0;
        int more = 0;
        for (size_t i = 0; i < n; i++) {
            if (t[i].file > file)
                more = 1;
            if (t[i].file != file || !mapped[i])
                continue;
            lo = t[i].offset < lo ? t[i].offset : lo;
            hi = t[i].offset + t[i].bytes > hi ? t[i].offset + t[i].bytes : hi;
        }
        total += hi > lo ? hi - lo : 0;
        if (!more)
            return total;
    }
}

static void place_weights(const mp_hparams *hp, const mp_tensor *t, size_t n, const mp_params *p,
                          const placement *pl, uint8_t *mapped, mp_plan *out) {
    int has_output = 0;
    uint64_t tok_embd = 0;
    for (size_t i = 0; i < n; i++) {
        int il = tensor_layer(t[i].name, hp->n_layer);
        int dev = il < 0 ? 0 : device_of(pl, il);
        uint64_t b = PAD(t[i].bytes, TENSOR_ALIGN);
        int layer = il >= 0 && il < (int)hp->n_layer ? il : -1;
        if (expert_stack(t[i].name) && layer >= 0 && (p->n_cpu_moe < 0 || layer < p->n_cpu_moe))
            dev = 0; /* --cpu-moe / --n-cpu-moe: the experts stay in RAM */
        if (strcmp(t[i].name, "output.weight") == 0)
            has_output = 1;
        if (strcmp(t[i].name, "token_embd.weight") == 0)
            tok_embd = b;
        uint64_t amx = dev == 0 && p->repack && p->amx ? amx_bytes(&t[i]) : 0;
        if (amx)
            out->dev[0].amx += PAD(amx, TENSOR_ALIGN);
        else if (dev == 0 && p->repack && repackable(&t[i]))
            out->dev[0].repack += b;
        else if (dev == 0 && !p->no_mmap)
            mapped[i] = 1;
        else
            out->dev[dev].weights += b;
    }
    out->dev[0].weights += mapped_bytes(t, n, mapped);
    out->output_device = device_of(pl, (int)hp->n_layer);
    /* tied embeddings: llama.cpp duplicates token_embd as the output layer;
     * it shares the mapping only when both stay mapped on the CPU */
    if (!has_output && (out->output_device != 0 || p->no_mmap))
        out->dev[out->output_device].weights += tok_embd;
    for (int il = 0; il < (int)hp->n_layer; il++)
        out->dev[device_of(pl, il)].layers++;
}

/* ------------------------------------------------------------------------ */
/* KV cache and compute                                                       */
/* ------------------------------------------------------------------------ */

static int is_swa(const mp_hparams *hp, uint64_t il) {
    return hp->n_swa && (hp->swa_period == 0 || il % hp->swa_period < hp->swa_period - 1);
}

static int plan_kv(const mp_hparams *hp, const mp_params *p, const placement *pl, mp_plan *out,
                   char *err, size_t errcap) {
    uint64_t k_gqa = hp->n_embd_head_k * hp->n_head_kv;
    uint64_t v_gqa = hp->is_mla ? 0 : hp->n_embd_head_v * hp->n_head_kv; /* MLA: K only */
    uint64_t row_k = mp_row_bytes(p->type_k, k_gqa),
             row_v = v_gqa ? mp_row_bytes(p->type_v, v_gqa) : 0;
    if (!k_gqa || !row_k || (v_gqa && !row_v)) {
        snprintf(
            err, errcap,
            "cache types %s/%s need K and V rows (%llu and %llu elements) that are whole blocks",
            kern_type_label(p->type_k), kern_type_label(p->type_v), (unsigned long long)k_gqa,
            (unsigned long long)v_gqa);
        return -1;
    }
    for (uint64_t il = 0; il < hp->n_layer; il++) {
        int swa = is_swa(hp, il);
        uint64_t cells = swa ? out->kv_cells_swa : out->kv_cells;
        out->n_swa_layers += (uint64_t)swa;
        out->dev[device_of(pl, (int)il)].kv += (row_k + row_v) * cells * out->n_stream;
    }
    return 0;
}

static uint64_t max3(uint64_t a, uint64_t b, uint64_t c) {
    return a > b ? (a > c ? a : c) : (b > c ? b : c);
}

/* The block's shape as the compute estimate needs it: the rows of n_embd
 * floats per token live in the attention phase (five in a llama block;
 * measured against llama.cpp, one fewer without an input norm, as olmo2,
 * two fewer with a fused qkv projection, as phi3, one more for gemma2 and
 * its attention soft-capping graph), and whether a norm precedes the
 * feed-forward block (olmo2 has only the norms after it). */
typedef struct {
    uint64_t attn_rows;
    int ffn_norm;
} block_shape;

static block_shape block_of(const mp_hparams *hp, const mp_tensor *t, size_t n) {
    int norm = 0, fused = 0, ffn_norm = 0;
    for (size_t i = 0; i < n; i++) {
        norm |= !strcmp(t[i].name, "blk.0.attn_norm.weight");
        fused |= !strcmp(t[i].name, "blk.0.attn_qkv.weight");
        ffn_norm |= !strcmp(t[i].name, "blk.0.ffn_norm.weight");
    }
    block_shape b = {.attn_rows = 5 - (uint64_t)!norm - 2 * (uint64_t)fused +
                                  (uint64_t)(hp->arch && !strcmp(hp->arch, "gemma2")),
                     .ffn_norm = ffn_norm};
    return b;
}

/* llama.cpp (ec562eb, llama_kv_cache) rotates K and V by a Hadamard matrix
 * when the cache type is quantized and the head size a multiple of 64
 * (attn_rot_k, attn_rot_v; LLAMA_ATTN_ROT_DISABLE aside): the rotation
 * matrices are graph inputs, nrot x nrot floats, nrot the largest power of
 * two from 64 dividing the K head size, 64 for V. */
static uint64_t rot_k(const mp_hparams *hp, const mp_params *p) {
    uint64_t hd = hp->n_embd_head_k, nrot = 64;
    const kern_type_traits *t = kern_type_info(p->type_k);
    if (!t || !t->is_quantized || hd == 0 || hd % 64)
        return 0;
    while (hd % (nrot * 2) == 0)
        nrot *= 2;
    return nrot;
}

static uint64_t rot_v(const mp_hparams *hp, const mp_params *p) {
    const kern_type_traits *t = kern_type_info(p->type_v);
    return t && t->is_quantized && !hp->is_mla && hp->n_embd_head_v && hp->n_embd_head_v % 64 == 0
               ? 64
               : 0;
}

/* ggml-alloc's peak for the reserved graph (n_ubatch tokens, as many
 * outputs) on the CPU: the KQ masks (inputs, f16 under flash attention)
 * and the rotation matrices, then the largest of three phases, fitted to
 * llama.cpp's own figures: attention (without flash attention the f32 KQ
 * scores of every head), the feed-forward block, and the logits. In floats
 * per token. The feed-forward phase holds the block's input and its norm
 * beside the gate, up and activation rows; without a norm before it
 * (olmo2) one row fewer, except that with exactly one of K and V rotated
 * llama.cpp's allocator places that phase one row higher again (measured:
 * olmo2 at -ctk f16 -ctv q8_0 as at f16/f16 + 256 floats per token, at
 * q8_0/q8_0 as at f16/f16). */
static uint64_t compute_bytes(const mp_hparams *hp, const mp_params *p, const mp_plan *pl,
                              block_shape b) {
    uint64_t ub = pl->n_ubatch, e = hp->n_embd, kvg = hp->n_embd_head_k * hp->n_head_kv;
    uint64_t ff = hp->n_expert ? hp->n_expert_used * (hp->n_ff_exp ? hp->n_ff_exp : hp->n_ff) +
                                     2 * hp->n_expert
                               : hp->n_ff;
    uint64_t mask = 0, kq = 0, full = pl->n_swa_layers < hp->n_layer;
    uint64_t kinds[2] = {full ? pl->kv_cells : 0, pl->n_swa_layers ? pl->kv_cells_swa : 0};
    for (int k = 0; k < 2; k++) {
        mask += kinds[k] * ub * (p->flash_attn ? 2 : 4);
        if (!p->flash_attn && kinds[k] * ub * hp->n_head * 4 > kq)
            kq = kinds[k] * ub * hp->n_head * 4;
    }
    uint64_t rk = rot_k(hp, p), rv = rot_v(hp, p);
    uint64_t rot = (rk * rk + rv * rv) * 4 * (1 + (uint64_t)(pl->n_swa_layers && full));
    uint64_t ffn_e = b.ffn_norm || (!rk != !rv) ? e : 0;
    uint64_t attn = kq + (b.attn_rows * e + 2 * kvg) * 4 * ub;
    uint64_t ffn = (3 * ff + ffn_e + 4 * kvg) * 4 * ub;
    uint64_t logits = (hp->n_vocab + 5 * e + 2 * kvg) * 4 * ub;
    return mask + rot + max3(attn, ffn, logits);
}

static void sizes(const mp_hparams *hp, const mp_params *p, mp_plan *out) {
    uint64_t ctx = PAD(p->n_ctx ? p->n_ctx : hp->n_ctx_train, 256), seq = p->n_seq ? p->n_seq : 1;
    out->n_stream = seq;
    out->n_ctx_seq = PAD(ctx / seq, 256);
    out->n_ctx = out->n_ctx_seq * seq;
    out->n_batch = p->n_batch < out->n_ctx ? p->n_batch : out->n_ctx;
    out->n_ubatch = p->n_ubatch < out->n_batch ? p->n_ubatch : out->n_batch;
    out->kv_cells = out->n_ctx_seq;
    if (hp->n_swa) {
        uint64_t w = hp->n_swa + out->n_ubatch;
        out->kv_cells_swa =
            p->swa_full ? out->kv_cells : PAD(w < out->kv_cells ? w : out->kv_cells, 256);
    }
}

int mp_plan_compute(const mp_hparams *hp, const mp_tensor *t, size_t n, const mp_params *p,
                    mp_plan *out, char *err, size_t errcap) {
    placement pl;
    memset(out, 0, sizeof *out);
    if (hp->n_layer == 0 || hp->n_layer > 100000 || (p->n_ctx == 0 && hp->n_ctx_train == 0)) {
        snprintf(err, errcap, "no %s.block_count or context length: nothing to plan",
                 hp->arch ? hp->arch : "architecture");
        return -1;
    }
    if ((p->n_ctx ? p->n_ctx : hp->n_ctx_train) > (1ull << 32) || p->n_seq > 4096) {
        snprintf(err, errcap, "context or sequence count beyond what llama.cpp accepts");
        return -1;
    }
    out->n_dev = 1 + p->n_gpus;
    sizes(hp, p, out);
    placement_init(&pl, hp, p);
    uint8_t *mapped = calloc(n ? n : 1, 1);
    if (!mapped) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    place_weights(hp, t, n, p, &pl, mapped, out);
    free(mapped);
    out->kv_status = mp_kv_layout(hp->arch);
    if (out->kv_status == MP_KV_OK && plan_kv(hp, p, &pl, out, err, errcap) != 0)
        return -1;
    uint64_t compute =
        out->kv_status == MP_KV_OK ? compute_bytes(hp, p, out, block_of(hp, t, n)) : MP_UNKNOWN;
    for (int d = 0; d < out->n_dev; d++) {
        mp_device *dv = &out->dev[d];
        if (out->kv_status != MP_KV_OK)
            dv->kv = MP_UNKNOWN;
        /* every backend that runs layers reserves the worst-case graph's
         * nodes; the CPU always holds the inputs (an upper bound there) */
        if (d == 0 || dv->layers > 0 || d == out->output_device)
            dv->compute = compute;
        dv->output = d == 0 ? hp->n_vocab * out->n_stream * 4 : 0;
        dv->total = dv->kv == MP_UNKNOWN || dv->compute == MP_UNKNOWN
                        ? MP_UNKNOWN
                        : dv->weights + dv->repack + dv->amx + dv->kv + dv->compute + dv->output;
    }
    return 0;
}
