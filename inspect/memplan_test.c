/* memplan_test.c -- llama.cpp's memory formulas on hand-computed cases:
 * GQA, DeepSeek's MLA (K only), sliding windows, quantized cache rows,
 * layer placement over several GPUs, experts (repack, --n-cpu-moe), the
 * AMX buffer, and the refusals. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "inspect/memplan.h"
#include "kernels/kernels.h"
#include "tests/unit.h"

static mp_hparams hparams(const char *arch, uint64_t layers, uint64_t heads, uint64_t kv_heads,
                          uint64_t head_dim) {
    mp_hparams hp;
    memset(&hp, 0, sizeof hp);
    hp.arch = arch, hp.n_layer = layers, hp.n_head = heads, hp.n_head_kv = kv_heads;
    hp.n_embd = heads * head_dim, hp.n_embd_head_k = hp.n_embd_head_v = head_dim;
    hp.n_ff = 4 * hp.n_embd, hp.n_vocab = 1000, hp.n_ctx_train = 4096;
    return hp;
}

static mp_params params(uint64_t ctx) {
    mp_params p;
    memset(&p, 0, sizeof p);
    p.n_ctx = ctx, p.n_batch = 2048, p.n_ubatch = 512, p.n_seq = 1;
    p.type_k = p.type_v = KERN_TYPE_F16, p.flash_attn = 1, p.repack = 1;
    return p;
}

static mp_plan plan(const mp_hparams *hp, const mp_params *p, const mp_tensor *t, size_t n) {
    mp_plan pl;
    char err[256];
    ck_assert_int_eq(mp_plan_compute(hp, t, n, p, &pl, err, sizeof err), 0);
    return pl;
}

START_TEST(test_gqa) {
    /* 8 heads of 128 share 2 KV heads: rows of 256; ctx 1000 pads to 1024 */
    mp_hparams hp = hparams("llama", 2, 8, 2, 128);
    mp_params p = params(1000);
    mp_plan pl = plan(&hp, &p, NULL, 0);
    ck_assert_uint_eq(pl.n_ctx, 1024);
    ck_assert_uint_eq(pl.dev[0].kv, 2 * 1024 * (256 + 256) * 2);
    /* -np 3: 1024 / 3 = 341 cells per sequence, padded to 512, 3 streams */
    p.n_seq = 3;
    pl = plan(&hp, &p, NULL, 0);
    ck_assert_uint_eq(pl.n_ctx_seq, 512);
    ck_assert_uint_eq(pl.dev[0].kv, 2 * 3 * 512 * (256 + 256) * 2);
}
END_TEST

START_TEST(test_mla) {
    /* DeepSeek MLA: one compressed KV head of 512 + 64 rope dims, no V cache */
    mp_hparams hp = hparams("deepseek2", 1, 16, 1, 576);
    hp.n_embd_head_v = 512, hp.is_mla = 1;
    mp_params p = params(256);
    mp_plan pl = plan(&hp, &p, NULL, 0);
    ck_assert_uint_eq(pl.dev[0].kv, 256 * 576 * 2);
}
END_TEST

START_TEST(test_swa) {
    /* gemma2-like: window 512, every other layer global; -ub 512 gives
     * min(4096, 512 + 512) = 1024 SWA cells */
    mp_hparams hp = hparams("gemma2", 4, 4, 1, 64);
    hp.n_swa = 512, hp.swa_period = 2;
    mp_params p = params(4096);
    mp_plan pl = plan(&hp, &p, NULL, 0);
    ck_assert_uint_eq(pl.kv_cells_swa, 1024);
    ck_assert_uint_eq(pl.n_swa_layers, 2);
    ck_assert_uint_eq(pl.dev[0].kv, (2 * 4096 + 2 * 1024) * (64 + 64) * 2);
    p.n_ubatch = 129; /* 641 pads to 768 */
    ck_assert_uint_eq(plan(&hp, &p, NULL, 0).kv_cells_swa, 768);
    p.swa_full = 1;
    ck_assert_uint_eq(plan(&hp, &p, NULL, 0).dev[0].kv, 4 * 4096 * (64 + 64) * 2);
}
END_TEST

START_TEST(test_quantized_rows) {
    /* q4_0: 64 elements = 2 blocks of 18 bytes; q8_0 V: 2 blocks of 34 */
    mp_hparams hp = hparams("llama", 1, 4, 1, 64);
    mp_params p = params(256);
    p.type_k = KERN_TYPE_Q4_0, p.type_v = KERN_TYPE_Q8_0;
    ck_assert_uint_eq(plan(&hp, &p, NULL, 0).dev[0].kv, 256 * (36 + 68));
    /* 48-element rows are not whole 32-element blocks: refused */
    hp = hparams("llama", 1, 4, 1, 48);
    mp_plan pl;
    char err[256];
    ck_assert_int_eq(mp_plan_compute(&hp, NULL, 0, &p, &pl, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "whole blocks"));
    ck_assert_uint_eq(mp_row_bytes(KERN_TYPE_Q8_0, 48), 0);
    ck_assert_int_eq(mp_cache_type("q4_0"), KERN_TYPE_Q4_0);
    ck_assert_int_eq(mp_cache_type("q4_K"), -1); /* llama.cpp does not take it */
    ck_assert_int_eq(mp_cache_type("f17"), -1);
}
END_TEST

START_TEST(test_placement) {
    /* 4 layers, -ngl 3, -ts 1,1: layers 2 and 3 on GPU0, the output layer
     * on GPU1 (x = 2/3 is past the first half), the rest on the CPU */
    mp_hparams hp = hparams("llama", 4, 4, 4, 64);
    mp_tensor t[] = {
        {"token_embd.weight", KERN_TYPE_F16, {256, 1000, 1, 1}, 512000, 0, 0},
        {"blk.0.attn_q.weight", KERN_TYPE_F16, {256, 256, 1, 1}, 131072, 512000, 0},
        {"blk.2.attn_q.weight", KERN_TYPE_F16, {256, 256, 1, 1}, 131072, 643072, 0},
        {"blk.3.attn_q.weight", KERN_TYPE_F16, {256, 256, 1, 1}, 131072, 774144, 0},
        {"output.weight", KERN_TYPE_F16, {256, 1000, 1, 1}, 512000, 905216, 0},
    };
    mp_params p = params(256);
    p.n_gpu_layers = 3, p.n_gpus = 2, p.split[0] = 1, p.split[1] = 1;
    mp_plan pl = plan(&hp, &p, t, 5);
    ck_assert_int_eq(pl.dev[0].layers, 2);
    ck_assert_int_eq(pl.dev[1].layers, 2);
    ck_assert_int_eq(pl.output_device, 2);
    ck_assert_uint_eq(pl.dev[1].weights, 2 * 131072);
    ck_assert_uint_eq(pl.dev[2].weights, 512000);
    /* the CPU maps token_embd..blk.0, one range */
    ck_assert_uint_eq(pl.dev[0].weights, 512000 + 131072);
    ck_assert_uint_eq(pl.dev[1].kv, 2 * 256 * 256 * 2 * 2);
}
END_TEST

START_TEST(test_moe) {
    /* 2 layers with Q4_0 expert stacks of 147456 bytes (256 x 256 x 4 at
     * 18 bytes per 32): the CPU repacks the 3-D stacks too, and maps one
     * range from token_embd to the output, over the repacked stacks */
    mp_hparams hp = hparams("llama", 2, 4, 4, 64);
    hp.n_expert = 4, hp.n_expert_used = 2;
    mp_tensor t[] = {
        {"token_embd.weight", KERN_TYPE_F16, {256, 1000, 1, 1}, 512000, 0, 0},
        {"blk.0.ffn_up_exps.weight", KERN_TYPE_Q4_0, {256, 256, 4, 1}, 147456, 512000, 0},
        {"blk.1.ffn_up_exps.weight", KERN_TYPE_Q4_0, {256, 256, 4, 1}, 147456, 659456, 0},
        {"blk.1.ffn_gate_inp.weight", KERN_TYPE_F32, {256, 4, 1, 1}, 4096, 806912, 0},
        {"output.weight", KERN_TYPE_F16, {256, 1000, 1, 1}, 512000, 811008, 0},
    };
    mp_params p = params(256);
    mp_plan pl = plan(&hp, &p, t, 5);
    ck_assert_uint_eq(pl.dev[0].repack, 2 * 147456);
    ck_assert_uint_eq(pl.dev[0].weights, 811008 + 512000);
    /* -ngl 3 puts everything on GPU0; --n-cpu-moe 1 keeps blk.0's experts
     * (repacked) on the CPU, the router and blk.1's experts go */
    p.n_gpu_layers = 3, p.n_gpus = 1, p.split[0] = 1, p.n_cpu_moe = 1;
    pl = plan(&hp, &p, t, 5);
    ck_assert_uint_eq(pl.dev[0].repack, 147456);
    ck_assert_uint_eq(pl.dev[0].weights, 512000);
    ck_assert_uint_eq(pl.dev[1].weights, 147456 + 4096 + 512000);
    /* --cpu-moe: every expert stack; --no-repack: they are mapped instead,
     * and the mapped range runs from token_embd to blk.1's experts */
    p.n_cpu_moe = -1;
    ck_assert_uint_eq(plan(&hp, &p, t, 5).dev[1].weights, 4096 + 512000);
    p.repack = 0;
    pl = plan(&hp, &p, t, 5);
    ck_assert_uint_eq(pl.dev[0].repack, 0);
    ck_assert_uint_eq(pl.dev[0].weights, 806912);
}
END_TEST

START_TEST(test_amx) {
    /* llama.cpp's AMX buffer (ggml-cpu amx/) on an AMX-INT8 CPU, ahead of
     * CPU_REPACK: blk.0.attn_q (Q4_K, 256 x 256) repacked at 144 + 4 bytes
     * per 256-block: 256 rows x 148 = 37888; blk.0.attn_k (F16, 256 x 256)
     * as is; blk.0.attn_v has 8 rows, not a multiple of 32: CPU_REPACK
     * takes it (Q4_0); blk.1.ffn_up (Q8_0, 256 x 64) at 34 + 4 bytes per
     * 32-block: 64 x 8 x 38 = 19456; the expert stack (MUL_MAT_ID) goes to
     * CPU_REPACK, token_embd (GET_ROWS) stays mapped with the output norm,
     * one range over everything between them */
    mp_hparams hp = hparams("llama", 2, 4, 4, 64);
    hp.n_expert = 4, hp.n_expert_used = 2;
    mp_tensor t[] = {
        {"token_embd.weight", KERN_TYPE_F16, {256, 1000, 1, 1}, 512000, 0, 0},
        {"blk.0.attn_q.weight", KERN_TYPE_Q4_K, {256, 256, 1, 1}, 36864, 512000, 0},
        {"blk.0.attn_k.weight", KERN_TYPE_F16, {256, 256, 1, 1}, 131072, 548864, 0},
        {"blk.0.attn_v.weight", KERN_TYPE_Q4_0, {256, 8, 1, 1}, 1152, 679936, 0},
        {"blk.1.ffn_up.weight", KERN_TYPE_Q8_0, {256, 64, 1, 1}, 17408, 681088, 0},
        {"blk.1.ffn_up_exps.weight", KERN_TYPE_Q4_0, {256, 256, 4, 1}, 147456, 698496, 0},
        {"output_norm.weight", KERN_TYPE_F32, {256, 1, 1, 1}, 1024, 845952, 0},
    };
    mp_params p = params(256);
    p.amx = 1;
    mp_plan pl = plan(&hp, &p, t, 7);
    ck_assert_uint_eq(pl.dev[0].amx, 37888 + 131072 + 19456);
    ck_assert_uint_eq(pl.dev[0].repack, 1152 + 147456);
    ck_assert_uint_eq(pl.dev[0].weights, 845952 + 1024);
    ck_assert_uint_eq(pl.dev[0].total, pl.dev[0].weights + pl.dev[0].repack + pl.dev[0].amx +
                                           pl.dev[0].kv + pl.dev[0].compute + pl.dev[0].output);
    /* -nr turns every extra buffer off: all mapped */
    p.repack = 0;
    pl = plan(&hp, &p, t, 7);
    ck_assert_uint_eq(pl.dev[0].amx, 0);
    ck_assert_uint_eq(pl.dev[0].repack, 0);
    /* offloaded layers keep their weights on the GPU: no AMX there */
    p.repack = 1, p.n_gpu_layers = 3, p.n_gpus = 1, p.split[0] = 1;
    pl = plan(&hp, &p, t, 7);
    ck_assert_uint_eq(pl.dev[0].amx, 0);
}
END_TEST

START_TEST(test_unknown_layout) {
    mp_hparams hp = hparams("mamba", 2, 4, 4, 64);
    mp_params p = params(256);
    mp_plan pl = plan(&hp, &p, NULL, 0);
    ck_assert_int_eq(pl.kv_status, MP_KV_NOT_MODELLED);
    ck_assert_uint_eq(pl.dev[0].kv, MP_UNKNOWN);
    ck_assert_uint_eq(pl.dev[0].total, MP_UNKNOWN);
    hp.arch = "some-new-arch";
    pl = plan(&hp, &p, NULL, 0);
    ck_assert_int_eq(pl.kv_status, MP_KV_UNKNOWN);
    ck_assert_uint_eq(pl.dev[0].compute, MP_UNKNOWN);
}
END_TEST

START_TEST(test_compute_fit) {
    /* without flash attention: f32 mask (512 x 512) + scores of 4 heads +
     * (5 n_embd + 2 n_embd_k_gqa) floats per token; the llama fixture of
     * tests/interop/mem.test.mjs, where llama.cpp logs 8.01 MiB */
    mp_hparams hp = hparams("llama", 4, 4, 2, 64);
    hp.n_ff = 512, hp.n_vocab = 512;
    mp_params p = params(512);
    p.flash_attn = 0;
    const uint64_t inputs = 512 * 512 * 4 + 512 * 512 * 4 * 4, row = 256 * 4 * 512,
                   kv = 2 * 128 * 4 * 512;
    mp_tensor llama[] = {{.name = "blk.0.attn_norm.weight", .ne = {256, 1, 1, 1}, .bytes = 1024}};
    ck_assert_uint_eq(plan(&hp, &p, llama, 1).dev[0].compute, inputs + 5 * row + kv);
    /* measured on the same shapes: olmo2, without an input norm, 7.51 MiB
     * (one row fewer); phi3, with a fused qkv, 7.01 MiB (two fewer);
     * gemma2 9.51 MiB with its second mask (one more) */
    mp_tensor olmo2[] = {{.name = "blk.0.attn_q_norm.weight", .ne = {256, 1, 1, 1}, .bytes = 1024}};
    ck_assert_uint_eq(plan(&hp, &p, olmo2, 1).dev[0].compute, inputs + 4 * row + kv);
    mp_tensor phi3[] = {llama[0],
                        {.name = "blk.0.attn_qkv.weight", .ne = {256, 512, 1, 1}, .bytes = 524288}};
    ck_assert_uint_eq(plan(&hp, &p, phi3, 2).dev[0].compute, inputs + 3 * row + kv);
    hp.arch = "gemma2";
    ck_assert_uint_eq(plan(&hp, &p, llama, 1).dev[0].compute, inputs + 6 * row + kv);
}
END_TEST

START_TEST(test_compute_fa_rotation) {
    /* with flash attention the feed-forward phase is the peak: f16 mask
     * (2048 x 128) + (3 n_ff + n_embd + 4 n_embd_k_gqa) floats per token;
     * the olmo2 fixture of tests/interop/mem.test.mjs, where llama.cpp
     * logs 1.50 MiB at f16/f16, 1.53 at q8_0/q8_0 (two 64 x 64 rotation
     * matrices), 1.64 at f16/q8_0 */
    mp_hparams hp = hparams("olmo2", 4, 4, 2, 64);
    hp.n_ff = 512, hp.n_vocab = 512;
    mp_params p = params(2048);
    p.n_ubatch = 128;
    const uint64_t mask = 2048 * 128 * 2, rot = 64 * 64 * 4, ffn = (3 * 512 + 4 * 128) * 4 * 128,
                   row = 256 * 4 * 128;
    mp_tensor olmo2[] = {{.name = "blk.0.attn_q_norm.weight", .ne = {256, 1, 1, 1}, .bytes = 1024}};
    /* no norm before the feed-forward block: no row for it */
    ck_assert_uint_eq(plan(&hp, &p, olmo2, 1).dev[0].compute, mask + ffn);
    p.type_k = p.type_v = KERN_TYPE_Q8_0;
    ck_assert_uint_eq(plan(&hp, &p, olmo2, 1).dev[0].compute, mask + 2 * rot + ffn);
    /* one of K and V rotated: the allocator's peak is one row higher */
    p.type_k = KERN_TYPE_F16;
    ck_assert_uint_eq(plan(&hp, &p, olmo2, 1).dev[0].compute, mask + rot + ffn + row);
    /* llama, with its ffn_norm, keeps the row in every case; K heads of 128
     * rotate by 128 x 128 */
    mp_tensor llama[] = {{.name = "blk.0.ffn_norm.weight", .ne = {256, 1, 1, 1}, .bytes = 1024}};
    p.type_k = p.type_v = KERN_TYPE_F16;
    ck_assert_uint_eq(plan(&hp, &p, llama, 1).dev[0].compute, mask + ffn + row);
    hp = hparams("llama", 4, 2, 1, 128);
    hp.n_ff = 512, hp.n_vocab = 512;
    p.type_k = KERN_TYPE_Q4_0;
    ck_assert_uint_eq(plan(&hp, &p, llama, 1).dev[0].compute, mask + 128 * 128 * 4 + ffn + row);
    /* head sizes that are not a multiple of 64 are not rotated */
    hp = hparams("llama", 4, 8, 8, 32);
    hp.n_ff = 512, hp.n_vocab = 512;
    p.type_k = p.type_v = KERN_TYPE_Q8_0;
    mp_plan a = plan(&hp, &p, llama, 1);
    p.type_k = p.type_v = KERN_TYPE_F16;
    ck_assert_uint_eq(a.dev[0].compute, plan(&hp, &p, llama, 1).dev[0].compute);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("memplan");
    TCase *tc = tcase_create("core");
    UNIT_ADD_TESTS(tc, test_gqa, test_mla, test_swa, test_quantized_rows, test_placement, test_moe,
                   test_amx, test_unknown_layout, test_compute_fit, test_compute_fa_rotation);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return unit_run(suite());
}
