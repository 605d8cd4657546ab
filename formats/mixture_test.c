/*
 * mixture_test.c -- the per-tensor type choice against llama-quantize's
 * golden outputs (../shared/golden/llama-quantize/TYPE.tsv) and rules the
 * fixture does not reach (GQA >= 4, MoE, 70B, fallback, IQ presets).
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "formats/mixture.h"
#include "tests/unit.h"

/* ------------------------------------------------------------------------ */
/* A synthetic llama model                                                    */
/* ------------------------------------------------------------------------ */

#define MAXT 2048

typedef struct {
    fmt_mix_tensor t[MAXT];
    char names[MAXT][64];
    size_t n;
} model;

static void add(model *md, const char *name, int64_t ne0, int64_t ne1, int64_t ne2) {
    ck_assert_uint_lt(md->n, MAXT);
    fmt_mix_tensor *t = &md->t[md->n];
    snprintf(md->names[md->n], sizeof md->names[0], "%s", name);
    t->name = md->names[md->n];
    t->ne[0] = ne0;
    t->ne[1] = ne1;
    t->ne[2] = ne2;
    t->ne[3] = 1;
    t->n_dims = ne2 > 1 ? 3 : ne1 > 1 ? 2 : 1;
    t->type = t->n_dims == 1 ? KERN_TYPE_F32 : KERN_TYPE_F16;
    t->has_imatrix = 0;
    md->n++;
}

/* Tensors of a llama model, in a file order unlike llama-quantize's. */
static void make_llama(model *md, int n_layer, int64_t embd, int64_t ff, int64_t kv,
                       int with_output, int n_expert) {
    char buf[64];
    md->n = 0;
    add(md, "token_embd.weight", embd, 512, 1);
    for (int l = n_layer - 1; l >= 0; l--) {
        static const char *const sq[] = {"attn_q", "attn_output"};
        for (int k = 0; k < 2; k++) {
            snprintf(buf, sizeof buf, "blk.%d.%s.weight", l, sq[k]);
            add(md, buf, embd, embd, 1);
        }
        snprintf(buf, sizeof buf, "blk.%d.attn_k.weight", l);
        add(md, buf, embd, kv, 1);
        snprintf(buf, sizeof buf, "blk.%d.attn_v.weight", l);
        add(md, buf, embd, kv, 1);
        snprintf(buf, sizeof buf, "blk.%d.attn_norm.weight", l);
        add(md, buf, embd, 1, 1);
        snprintf(buf, sizeof buf, "blk.%d.ffn_norm.weight", l);
        add(md, buf, embd, 1, 1);
        if (n_expert > 1) {
            snprintf(buf, sizeof buf, "blk.%d.ffn_gate_inp.weight", l);
            add(md, buf, embd, n_expert, 1);
            snprintf(buf, sizeof buf, "blk.%d.ffn_down_exps.weight", l);
            add(md, buf, ff, embd, n_expert);
            snprintf(buf, sizeof buf, "blk.%d.ffn_gate_exps.weight", l);
            add(md, buf, embd, ff, n_expert);
            snprintf(buf, sizeof buf, "blk.%d.ffn_up_exps.weight", l);
            add(md, buf, embd, ff, n_expert);
        } else {
            snprintf(buf, sizeof buf, "blk.%d.ffn_down.weight", l);
            add(md, buf, ff, embd, 1);
            snprintf(buf, sizeof buf, "blk.%d.ffn_gate.weight", l);
            add(md, buf, embd, ff, 1);
            snprintf(buf, sizeof buf, "blk.%d.ffn_up.weight", l);
            add(md, buf, embd, ff, 1);
        }
    }
    add(md, "output_norm.weight", embd, 1, 1);
    if (with_output)
        add(md, "output.weight", embd, 512, 1);
}

static fmt_mix_opts opts_for(const char *preset) {
    fmt_mix_opts o;
    memset(&o, 0, sizeof o);
    const fmt_mix_preset *p = fmt_mix_preset_find(preset);
    ck_assert_msg(p != NULL, "preset %s", preset);
    o.ftype = p->ftype;
    o.output_type = -1;
    o.token_embd_type = -1;
    return o;
}

static int type_of(const model *md, const fmt_mix_choice *c, const char *name) {
    for (size_t i = 0; i < md->n; i++)
        if (strcmp(md->t[i].name, name) == 0)
            return c[i].new_type;
    ck_abort_msg("no tensor %s", name);
    return -1;
}

static fmt_mix_choice choice[MAXT];
static model M;
static char err[256];

static gk_status plan(const fmt_mix_model *mm, const fmt_mix_opts *o) {
    err[0] = 0;
    return fmt_mix_plan(mm, o, M.t, M.n, choice, err, sizeof err);
}

#define ASSERT_TYPE(name, T)                                                                       \
    ck_assert_msg(type_of(&M, choice, name) == (T), "%s: got %s want %s", name,                    \
                  kern_type_label(type_of(&M, choice, name)), kern_type_label(T))

/* ------------------------------------------------------------------------ */
/* Golden: every preset of ../shared/golden/llama-quantize                    */
/* ------------------------------------------------------------------------ */

static const char *shared_dir(void) {
    const char *s = getenv("GGUFKIT_SHARED");
    return s ? s : "../shared";
}

/* The ref fixture: llama, 8 layers, 4 heads, 2 KV heads, no experts. */
static int check_tsv(const char *path, const char *preset, int *n_checked) {
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "open %s", path);
    model *md = &M;
    md->n = 0;
    int want[MAXT];
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char name[128], type[32], shape[64];
        if (sscanf(line, "%127s %31s %63s", name, type, shape) != 3)
            continue;
        int64_t ne[3] = {1, 1, 1};
        int k = 0;
        for (char *p = shape; *p && k < 3; k++) {
            ne[k] = strtoll(p, &p, 10);
            if (*p == 'x')
                p++;
        }
        want[md->n] = kern_type_from_name(type);
        ck_assert_msg(want[md->n] >= 0, "%s: type %s", path, type);
        add(md, name, ne[0], ne[1], ne[2]);
    }
    fclose(f);
    /* reverse so the planner has to sort into llama-quantize's order */
    for (size_t i = 0; i < md->n / 2; i++) {
        fmt_mix_tensor tt = md->t[i];
        md->t[i] = md->t[md->n - 1 - i];
        md->t[md->n - 1 - i] = tt;
        int w = want[i];
        want[i] = want[md->n - 1 - i];
        want[md->n - 1 - i] = w;
    }
    fmt_mix_model mm = {"llama", 8, 4, 2, 0};
    fmt_mix_opts o = opts_for(preset);
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    int bad = 0;
    for (size_t i = 0; i < md->n; i++) {
        if (choice[i].new_type != want[i]) {
            fprintf(stderr, "%s: %s: got %s want %s\n", preset, md->t[i].name,
                    kern_type_label(choice[i].new_type), kern_type_label(want[i]));
            bad++;
        }
    }
    *n_checked += (int)md->n;
    return bad;
}

START_TEST(golden_presets) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/golden/llama-quantize", shared_dir());
    DIR *d = opendir(dir);
    if (!d) {
        ck_assert_msg(getenv("CI") == NULL || strcmp(getenv("CI"), "true") != 0,
                      "%s missing under CI", dir);
        fprintf(stderr, "SKIP: ../shared not found\n");
        return;
    }
    struct dirent *e;
    int files = 0, bad = 0, n = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".tsv") != 0)
            continue;
        char preset[64], path[1024];
        snprintf(preset, sizeof preset, "%.*s", (int)(len - 4), e->d_name);
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        bad += check_tsv(path, preset, &n);
        files++;
    }
    closedir(d);
    ck_assert_int_ge(files, 22);
    ck_assert_int_eq(bad, 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Rules the fixture does not reach                                           */
/* ------------------------------------------------------------------------ */

START_TEST(gqa4_rules) {
    make_llama(&M, 8, 256, 512, 64, 1, 0);
    fmt_mix_model mm = {"llama", 8, 8, 2, 0}; /* gqa 4 */
    fmt_mix_opts o = opts_for("Q2_K");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.0.attn_v.weight", KERN_TYPE_Q4_K);
    ASSERT_TYPE("blk.0.ffn_down.weight", KERN_TYPE_Q3_K);
    ASSERT_TYPE("blk.0.attn_output.weight", KERN_TYPE_Q3_K);
    o = opts_for("IQ4_NL");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.3.attn_v.weight", KERN_TYPE_Q5_K);
    o = opts_for("IQ3_S");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.3.attn_v.weight", KERN_TYPE_Q4_K);
    /* same model with gqa 2: rules do not fire */
    mm.n_head = 4;
    o = opts_for("Q2_K");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.0.attn_v.weight", KERN_TYPE_Q3_K);
}
END_TEST

START_TEST(moe8_rules) {
    make_llama(&M, 8, 256, 512, 64, 1, 8);
    fmt_mix_model mm = {"llama", 8, 4, 2, 8};
    fmt_mix_opts o = opts_for("Q4_K_M");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.0.attn_v.weight", KERN_TYPE_Q8_0);
    ASSERT_TYPE("blk.5.attn_k.weight", KERN_TYPE_Q8_0);
    ASSERT_TYPE("blk.5.attn_output.weight", KERN_TYPE_Q5_K);
    /* layer from the name: use_more_bits(0,8) and (7,8) true, (2,8) false */
    ASSERT_TYPE("blk.0.ffn_down_exps.weight", KERN_TYPE_Q6_K);
    ASSERT_TYPE("blk.2.ffn_down_exps.weight", KERN_TYPE_Q4_K);
    ASSERT_TYPE("blk.3.ffn_down_exps.weight", KERN_TYPE_Q6_K);
    ASSERT_TYPE("blk.4.ffn_down_exps.weight", KERN_TYPE_Q4_K);
    ASSERT_TYPE("blk.7.ffn_down_exps.weight", KERN_TYPE_Q6_K);
    /* the expert router is never quantized */
    ASSERT_TYPE("blk.0.ffn_gate_inp.weight", KERN_TYPE_F16);
    o = opts_for("MXFP4_MOE");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.0.ffn_up_exps.weight", KERN_TYPE_MXFP4);
    ASSERT_TYPE("blk.0.attn_q.weight", KERN_TYPE_Q8_0);
    ASSERT_TYPE("output.weight", KERN_TYPE_Q8_0);
}
END_TEST

START_TEST(llama_70b) {
    make_llama(&M, 80, 256, 512, 32, 1, 0);
    fmt_mix_model mm = {"llama", 80, 64, 8, 0};
    fmt_mix_opts o = opts_for("Q4_K_S");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    /* i_attention_wv >= 4 gives Q4_K, which 70B bumps to Q5_K */
    ASSERT_TYPE("blk.10.attn_v.weight", KERN_TYPE_Q5_K);
    ASSERT_TYPE("blk.10.attn_q.weight", KERN_TYPE_Q4_K);
    /* Q4_K_S: ffn_down of the first n/8 = 10 layers is Q5_K */
    ASSERT_TYPE("blk.9.ffn_down.weight", KERN_TYPE_Q5_K);
    ASSERT_TYPE("blk.10.ffn_down.weight", KERN_TYPE_Q4_K);
    /* not 70B when n_head == n_head_kv */
    mm.n_head_kv = 64;
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.10.attn_v.weight", KERN_TYPE_Q4_K);
}
END_TEST

START_TEST(q3_k_m_counters) {
    make_llama(&M, 32, 256, 512, 128, 1, 0);
    fmt_mix_model mm = {"llama", 32, 4, 2, 0};
    fmt_mix_opts o = opts_for("Q3_K"); /* alias of Q3_K_M */
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.0.attn_v.weight", KERN_TYPE_Q5_K);
    ASSERT_TYPE("blk.1.attn_v.weight", KERN_TYPE_Q5_K);
    ASSERT_TYPE("blk.2.attn_v.weight", KERN_TYPE_Q4_K);
    ASSERT_TYPE("blk.1.ffn_down.weight", KERN_TYPE_Q5_K); /* L < 32/16 */
    ASSERT_TYPE("blk.2.ffn_down.weight", KERN_TYPE_Q4_K);
    ASSERT_TYPE("blk.2.attn_output.weight", KERN_TYPE_Q4_K);
    ASSERT_TYPE("blk.2.ffn_up.weight", KERN_TYPE_Q3_K);
}
END_TEST

START_TEST(iq_presets) {
    make_llama(&M, 8, 256, 512, 128, 1, 0);
    fmt_mix_model mm = {"llama", 8, 4, 2, 0};
    fmt_mix_opts o = opts_for("IQ2_XXS");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("output.weight", KERN_TYPE_Q5_K);
    ASSERT_TYPE("token_embd.weight", KERN_TYPE_Q2_K);
    ASSERT_TYPE("blk.0.attn_v.weight", KERN_TYPE_Q2_K);
    ASSERT_TYPE("blk.0.ffn_down.weight", KERN_TYPE_Q2_K); /* counter < 8/8 */
    ASSERT_TYPE("blk.1.ffn_down.weight", KERN_TYPE_IQ2_XXS);
    ASSERT_TYPE("blk.1.attn_q.weight", KERN_TYPE_IQ2_XXS);
    for (size_t i = 0; i < M.n; i++)
        if (strcmp(M.t[i].name, "blk.1.attn_q.weight") == 0)
            ck_assert_int_eq(choice[i].needs_imatrix, 1);

    o = opts_for("IQ2_M");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("token_embd.weight", KERN_TYPE_IQ3_S);
    ASSERT_TYPE("blk.0.attn_v.weight", KERN_TYPE_IQ3_S);
    ASSERT_TYPE("blk.3.attn_output.weight", KERN_TYPE_IQ3_S);
    ASSERT_TYPE("blk.3.attn_q.weight", KERN_TYPE_IQ2_S);

    o = opts_for("IQ3_XXS");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.3.attn_v.weight", KERN_TYPE_IQ3_S); /* no imatrix */
    ASSERT_TYPE("blk.3.attn_k.weight", KERN_TYPE_IQ2_S);
    ASSERT_TYPE("blk.0.ffn_down.weight", KERN_TYPE_Q4_K);
    ASSERT_TYPE("blk.3.ffn_down.weight", KERN_TYPE_Q3_K);
    o.has_imatrix = 1;
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.3.attn_v.weight", KERN_TYPE_IQ3_XXS);
    ASSERT_TYPE("blk.3.ffn_down.weight", KERN_TYPE_IQ3_XXS);

    o = opts_for("IQ3_XS");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.0.ffn_up.weight", KERN_TYPE_IQ3_S);
    ASSERT_TYPE("blk.1.ffn_up.weight", KERN_TYPE_IQ3_XXS);
    ASSERT_TYPE("blk.7.ffn_gate.weight", KERN_TYPE_IQ3_S);

    o = opts_for("Q4_0");
    o.has_imatrix = 1;
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.0.ffn_down.weight", KERN_TYPE_Q4_1);
    ASSERT_TYPE("blk.1.ffn_down.weight", KERN_TYPE_Q4_0);
}
END_TEST

START_TEST(fallback_table) {
    /* rows of 32: K types fall back, output becomes Q8_0 */
    make_llama(&M, 8, 32, 64, 32, 1, 0);
    fmt_mix_model mm = {"llama", 8, 4, 2, 0};
    fmt_mix_opts o = opts_for("Q4_K_M");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("output.weight", KERN_TYPE_Q8_0);
    ASSERT_TYPE("blk.3.attn_q.weight", KERN_TYPE_Q5_0);
    ASSERT_TYPE("blk.0.attn_v.weight", KERN_TYPE_Q8_0); /* Q6_K -> Q8_0 */
    o = opts_for("Q5_K_S");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.3.attn_q.weight", KERN_TYPE_Q5_1);
    /* ec562eb: Q2_K/Q3_K fall back to Q4_0 (c392e50: IQ4_NL) */
    o = opts_for("Q2_K");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.3.attn_q.weight", KERN_TYPE_Q4_0);
    o = opts_for("IQ4_XS");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.3.attn_q.weight", KERN_TYPE_IQ4_NL);
    o = opts_for("TQ1_0");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.3.attn_q.weight", KERN_TYPE_Q4_0);

    /* rows of 16: Q6_K -> Q8_0 does not fit either -> F16 */
    make_llama(&M, 8, 512, 16, 32, 1, 0);
    o = opts_for("Q6_K");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.3.ffn_down.weight", KERN_TYPE_F16);

    /* rows of 8: output -> Q8_0 has no fallback: llama-quantize throws */
    make_llama(&M, 8, 8, 64, 8, 1, 0);
    o = opts_for("Q4_K_M");
    ck_assert_int_eq(plan(&mm, &o), GK_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err, "output.weight"));
    o = opts_for("Q8_0");
    ck_assert_int_eq(plan(&mm, &o), GK_E_UNSUPPORTED);

    /* --pure skips the fallback: an incompatible shape is a usage error */
    make_llama(&M, 8, 32, 64, 32, 1, 0);
    o = opts_for("Q4_K_M");
    o.pure = 1;
    ck_assert_int_eq(plan(&mm, &o), GK_E_USAGE);

    /* a --tensor-type type goes through the fallback too */
    fmt_mix_rules *r = fmt_mix_rules_create();
    ck_assert_int_eq(fmt_mix_rules_add(r, "attn_q=q3_k", err, sizeof err), GK_OK);
    o = opts_for("Q4_K_M");
    o.rules = r;
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.3.attn_q.weight", KERN_TYPE_Q4_0);
    fmt_mix_rules_free(r);
}
END_TEST

START_TEST(overrides) {
    make_llama(&M, 8, 256, 512, 128, 1, 0);
    fmt_mix_model mm = {"llama", 8, 4, 2, 0};
    fmt_mix_opts o = opts_for("Q4_K_M");
    fmt_mix_rules *r = fmt_mix_rules_create();
    ck_assert_int_eq(fmt_mix_rules_add(r, "attn_(q|k)=q8_0", err, sizeof err), GK_OK);
    ck_assert_int_eq(fmt_mix_rules_add(r, "attn_q=q5_K", err, sizeof err), GK_OK);
    ck_assert_int_eq(fmt_mix_rules_add(r, "(", err, sizeof err), GK_E_USAGE);
    ck_assert_int_eq(fmt_mix_rules_add(r, "x=nope", err, sizeof err), GK_E_USAGE);
    ck_assert_int_eq(fmt_mix_rules_add(r, "=q8_0", err, sizeof err), GK_E_USAGE);
    o.rules = r;
    o.output_type = KERN_TYPE_Q8_0;
    o.token_embd_type = KERN_TYPE_F16;
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.3.attn_q.weight", KERN_TYPE_Q8_0); /* first match wins */
    ASSERT_TYPE("blk.3.attn_k.weight", KERN_TYPE_Q8_0);
    ASSERT_TYPE("blk.3.attn_output.weight", KERN_TYPE_Q4_K);
    ASSERT_TYPE("output.weight", KERN_TYPE_Q8_0);
    ASSERT_TYPE("token_embd.weight", KERN_TYPE_F16);
    for (size_t i = 0; i < M.n; i++)
        if (strcmp(M.t[i].name, "token_embd.weight") == 0)
            ck_assert_int_eq(choice[i].convert, 0);
    /* ec562eb: --pure ignores --tensor-type (overrides only replace the
     * mixture rules), --output-tensor-type still applies */
    fmt_mix_rules_free(r);
    r = fmt_mix_rules_create();
    ck_assert_int_eq(fmt_mix_rules_add(r, "ATTN_V=q8_0", err, sizeof err), GK_OK);
    o = opts_for("Q4_K_M");
    o.pure = 1;
    o.rules = r;
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("output.weight", KERN_TYPE_Q4_K);
    ASSERT_TYPE("blk.0.attn_v.weight", KERN_TYPE_Q4_K);
    ASSERT_TYPE("blk.0.attn_norm.weight", KERN_TYPE_F32);

    /* a matched attn_v does not advance the attn_v counter: with layers
     * 0..3 overridden the rules see blk.4..7 as attn_v 0..3 of 8, and
     * use_more_bits(i, 8) holds for i = 0 and 3 (Q6_K), not 1 and 2 */
    o.pure = 0;
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.0.attn_v.weight", KERN_TYPE_Q8_0); /* the pattern is lower-cased */
    fmt_mix_rules_free(r);
    r = fmt_mix_rules_create();
    ck_assert_int_eq(fmt_mix_rules_add(r, "blk\\.[0-3]\\.attn_v=q8_0", err, sizeof err), GK_OK);
    o.rules = r;
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.3.attn_v.weight", KERN_TYPE_Q8_0);
    ASSERT_TYPE("blk.4.attn_v.weight", KERN_TYPE_Q6_K);
    ASSERT_TYPE("blk.5.attn_v.weight", KERN_TYPE_Q4_K);
    ASSERT_TYPE("blk.6.attn_v.weight", KERN_TYPE_Q4_K);
    ASSERT_TYPE("blk.7.attn_v.weight", KERN_TYPE_Q6_K);
    fmt_mix_rules_free(r);

    o = opts_for("Q4_K_M");
    o.leave_output = 1;
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("output.weight", KERN_TYPE_F16);

    /* tied embeddings: token_embd takes the output rule */
    make_llama(&M, 8, 256, 512, 128, 0, 0);
    o = opts_for("Q4_K_M");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("token_embd.weight", KERN_TYPE_Q6_K);
}
END_TEST

/* phi3's fused attn_qkv/ffn_up and gemma's tied output under ec562eb's
 * rules, derived by hand: attn_qkv is attn_v-like, so Q4_K_M gives it Q6_K
 * where use_more_bits(i, 4) holds (i = 2, 3), else Q4_K (c392e50: Q5_K
 * everywhere); a model without output.weight quantizes token_embd (and
 * per_layer_token_embd) with the output rule, Q6_K. */
/* A deepseek2 model as make_gguf --arch deepseek2 writes it: layer 0 dense,
 * then MoE layers with shared experts; legacy attn_kv_b or MLA's 3-D
 * attn_k_b {128, 256, 2}. The expected types are llama-quantize ec562eb's
 * (tests/cli/requant/moe-golden/ds2.*.tsv and mla.*.tsv). */
static void make_deepseek2(model *md, int n_layer, int n_expert, int mla) {
    char buf[64];
    md->n = 0;
    add(md, "token_embd.weight", 256, 512, 1);
    add(md, "output.weight", 256, 512, 1);
    for (int l = 0; l < n_layer; l++) {
#define T(suffix, a, b, c)                                                                         \
    snprintf(buf, sizeof buf, "blk.%d.%s", l, suffix);                                             \
    add(md, buf, a, b, c)
        T("attn_q_a.weight", 256, 256, 1);
        T("attn_q_b.weight", 256, 384, 1);
        T("attn_kv_a_mqa.weight", 256, 320, 1);
        if (mla) {
            T("attn_k_b.weight", 128, 256, 2);
            T("attn_v_b.weight", 256, 128, 2);
        } else {
            T("attn_kv_b.weight", 256, 512, 1);
        }
        T("attn_output.weight", 256, 256, 1);
        if (l == 0) {
            T("ffn_gate.weight", 256, 256, 1);
            T("ffn_up.weight", 256, 256, 1);
            T("ffn_down.weight", 256, 256, 1);
        } else {
            T("ffn_gate_inp.weight", 256, n_expert, 1);
            T("ffn_gate_exps.weight", 256, 256, n_expert);
            T("ffn_up_exps.weight", 256, 256, n_expert);
            T("ffn_down_exps.weight", 256, 256, n_expert);
            T("ffn_gate_shexp.weight", 256, 256, 1);
            T("ffn_up_shexp.weight", 256, 256, 1);
            T("ffn_down_shexp.weight", 256, 256, 1);
        }
#undef T
    }
}

START_TEST(deepseek2_rules) {
    fmt_mix_model mm = {"deepseek2", 4, 2, 2, 16};
    make_deepseek2(&M, 4, 16, 0);
    /* attn_kv_b is ruled and counted as attn_v (ec562eb): use_more_bits of
     * its position among the 4 */
    fmt_mix_opts o = opts_for("Q4_K_M");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.0.attn_kv_b.weight", KERN_TYPE_Q4_K);
    ASSERT_TYPE("blk.1.attn_kv_b.weight", KERN_TYPE_Q4_K);
    ASSERT_TYPE("blk.2.attn_kv_b.weight", KERN_TYPE_Q6_K);
    ASSERT_TYPE("blk.3.attn_kv_b.weight", KERN_TYPE_Q6_K);
    /* ffn_down, ffn_down_exps and ffn_down_shexp: the layer from the name */
    ASSERT_TYPE("blk.0.ffn_down.weight", KERN_TYPE_Q4_K);
    ASSERT_TYPE("blk.2.ffn_down_exps.weight", KERN_TYPE_Q6_K);
    ASSERT_TYPE("blk.2.ffn_down_shexp.weight", KERN_TYPE_Q6_K);
    ASSERT_TYPE("blk.1.ffn_down_shexp.weight", KERN_TYPE_Q4_K);
    ASSERT_TYPE("blk.1.ffn_gate_inp.weight", KERN_TYPE_F16);
    o = opts_for("Q3_K_M");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.1.attn_kv_b.weight", KERN_TYPE_Q5_K);
    ASSERT_TYPE("blk.2.attn_kv_b.weight", KERN_TYPE_Q4_K);
    /* IQ2 mixes: 4 or more experts make attn_v-like tensors Q4_K */
    o = opts_for("IQ2_XXS");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.3.attn_kv_b.weight", KERN_TYPE_Q4_K);
    o = opts_for("MXFP4_MOE");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.1.ffn_gate_exps.weight", KERN_TYPE_MXFP4);
    ASSERT_TYPE("blk.1.ffn_gate_shexp.weight", KERN_TYPE_Q8_0);
    ASSERT_TYPE("blk.1.attn_kv_b.weight", KERN_TYPE_Q8_0);
    ASSERT_TYPE("token_embd.weight", KERN_TYPE_Q8_0);

    /* MLA: attn_k_b is 3-D (heads), so MXFP4_MOE makes it MXFP4; its rows
     * of 128 make Q4_K fall back to Q5_0 and IQ4_XS to IQ4_NL */
    mm.n_layer = 3;
    mm.n_expert = 4;
    make_deepseek2(&M, 3, 4, 1);
    o = opts_for("MXFP4_MOE");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.1.attn_k_b.weight", KERN_TYPE_MXFP4);
    ASSERT_TYPE("blk.1.attn_v_b.weight", KERN_TYPE_MXFP4);
    o = opts_for("Q4_K_M");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.1.attn_k_b.weight", KERN_TYPE_Q5_0);
    ASSERT_TYPE("blk.1.attn_v_b.weight", KERN_TYPE_Q4_K);
    o = opts_for("IQ4_XS");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.1.attn_k_b.weight", KERN_TYPE_IQ4_NL);

    /* an expert tensor whose name gives no layer: llama-quantize throws */
    snprintf(M.names[M.n - 1], sizeof M.names[0], "ffn_down_shexp.weight");
    o = opts_for("Q4_K_M");
    ck_assert_int_eq(plan(&mm, &o), GK_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err, "cannot determine its layer"));
}
END_TEST

START_TEST(fused_and_tied) {
    char buf[64];
    M.n = 0;
    add(&M, "token_embd.weight", 256, 512, 1);
    for (int l = 0; l < 4; l++) {
        snprintf(buf, sizeof buf, "blk.%d.attn_qkv.weight", l);
        add(&M, buf, 256, 512, 1);
        snprintf(buf, sizeof buf, "blk.%d.attn_output.weight", l);
        add(&M, buf, 256, 256, 1);
        snprintf(buf, sizeof buf, "blk.%d.ffn_up.weight", l);
        add(&M, buf, 256, 1024, 1);
        snprintf(buf, sizeof buf, "blk.%d.ffn_down.weight", l);
        add(&M, buf, 512, 256, 1);
    }
    add(&M, "output.weight", 256, 512, 1);
    fmt_mix_model mm = {"phi3", 4, 4, 4, 0};
    fmt_mix_opts o = opts_for("Q4_K_M");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.0.attn_qkv.weight", KERN_TYPE_Q4_K);
    ASSERT_TYPE("blk.1.attn_qkv.weight", KERN_TYPE_Q4_K);
    ASSERT_TYPE("blk.2.attn_qkv.weight", KERN_TYPE_Q6_K);
    ASSERT_TYPE("blk.3.attn_qkv.weight", KERN_TYPE_Q6_K);
    ASSERT_TYPE("blk.0.ffn_up.weight", KERN_TYPE_Q4_K);
    ASSERT_TYPE("blk.2.ffn_down.weight", KERN_TYPE_Q6_K);
    ASSERT_TYPE("blk.1.ffn_down.weight", KERN_TYPE_Q4_K);
    ASSERT_TYPE("output.weight", KERN_TYPE_Q6_K);
    ASSERT_TYPE("token_embd.weight", KERN_TYPE_Q4_K);
    /* Q3_K_M: attn_v-like 0 and 1 get Q5_K */
    o = opts_for("Q3_K_M");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("blk.1.attn_qkv.weight", KERN_TYPE_Q5_K);
    ASSERT_TYPE("blk.2.attn_qkv.weight", KERN_TYPE_Q4_K);

    M.n--; /* drop output.weight: tied */
    add(&M, "per_layer_token_embd.weight", 256, 512, 1);
    mm.arch = "gemma3";
    o = opts_for("Q4_K_M");
    o.token_embd_type = -1;
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("token_embd.weight", KERN_TYPE_Q6_K);
    ASSERT_TYPE("per_layer_token_embd.weight", KERN_TYPE_Q6_K);
    /* --token-embedding-type covers both embeddings, before the tie */
    o.token_embd_type = KERN_TYPE_Q8_0;
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("per_layer_token_embd.weight", KERN_TYPE_Q8_0);
}
END_TEST

/* Q1_0 (ec562eb): every matrix starts as Q1_0 and no category rule names
 * it; output.weight takes the output rule (Q6_K, or Q8_0 when its rows are
 * no multiple of 128; Q6_K's fallback to Q8_0 when no multiple of 256), and
 * so does token_embd when tied. Q1_0 has no fallback: a row length that is
 * no multiple of 128 makes llama-quantize throw. */
START_TEST(q1_0_rules) {
    const fmt_mix_preset *p = fmt_mix_preset_find("Q1_0");
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_eq(fmt_mix_preset_find("40"), p);
    ck_assert_int_eq(p->default_type, KERN_TYPE_Q1_0);
    ck_assert_int_eq(p->needs_imatrix, 0);
    make_llama(&M, 8, 256, 512, 128, 1, 0);
    fmt_mix_model mm = {"llama", 8, 4, 2, 0};
    fmt_mix_opts o = opts_for("Q1_0");
    for (int im = 0; im < 2; im++) {
        o.has_imatrix = im;
        ck_assert_int_eq(plan(&mm, &o), GK_OK);
        ASSERT_TYPE("output.weight", KERN_TYPE_Q6_K);
        ASSERT_TYPE("token_embd.weight", KERN_TYPE_Q1_0);
        ASSERT_TYPE("blk.0.attn_v.weight", KERN_TYPE_Q1_0);
        ASSERT_TYPE("blk.0.ffn_down.weight", KERN_TYPE_Q1_0);
        ASSERT_TYPE("blk.7.attn_output.weight", KERN_TYPE_Q1_0);
        ASSERT_TYPE("blk.3.attn_norm.weight", KERN_TYPE_F32);
    }
    M.n--; /* tied: token_embd takes the output rule */
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("token_embd.weight", KERN_TYPE_Q6_K);

    make_llama(&M, 8, 384, 512, 128, 1, 0); /* 384: Q6_K does not fit */
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
    ASSERT_TYPE("output.weight", KERN_TYPE_Q8_0);
    ASSERT_TYPE("blk.0.attn_q.weight", KERN_TYPE_Q1_0);

    make_llama(&M, 8, 256, 160, 128, 1, 0); /* ffn_down rows of 160 */
    ck_assert_int_eq(plan(&mm, &o), GK_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err, "ffn_down.weight"));
    ck_assert_ptr_nonnull(strstr(err, "Q1_0 has no fallback"));
}
END_TEST

START_TEST(presets_lookup) {
    ck_assert_int_eq(fmt_mix_preset_find("q4_k_m")->ftype, FMT_MIX_FTYPE_Q4_K_M);
    ck_assert_int_eq(fmt_mix_preset_find("Q4_K")->ftype, FMT_MIX_FTYPE_Q4_K_M);
    ck_assert_int_eq(fmt_mix_preset_find("15")->ftype, FMT_MIX_FTYPE_Q4_K_M);
    ck_assert_str_eq(fmt_mix_preset_find("15")->name, "Q4_K_M");
    ck_assert_int_eq(fmt_mix_preset_find("IQ2_M")->default_type, KERN_TYPE_IQ2_S);
    ck_assert_int_eq(fmt_mix_preset_find("IQ2_S")->default_type, KERN_TYPE_IQ2_XS);
    ck_assert_ptr_null(fmt_mix_preset_find("Q9_9"));
    ck_assert_ptr_null(fmt_mix_preset_find("4"));
    ck_assert_ptr_null(fmt_mix_preset_find(""));
    ck_assert_ptr_null(fmt_mix_preset_find("99999999999"));
    ck_assert_uint_ge(fmt_mix_preset_count(), 33);
    /* ec562eb no longer refuses a model whose attn_v count does not
     * match its layers (e.g. after --prune-layers) */
    make_llama(&M, 8, 256, 512, 128, 1, 0);
    fmt_mix_model mm = {"llama", 9, 4, 2, 0};
    fmt_mix_opts o = opts_for("Q4_K_M");
    ck_assert_int_eq(plan(&mm, &o), GK_OK);
}
END_TEST

int main(void) {
    Suite *s = suite_create("mixture");
    TCase *tc = tcase_create("core");
    UNIT_ADD_TESTS(tc, golden_presets, gqa4_rules, moe8_rules, deepseek2_rules, llama_70b,
                   q3_k_m_counters, iq_presets, fallback_table, overrides, fused_and_tied,
                   q1_0_rules, presets_lookup);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
