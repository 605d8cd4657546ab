/*
 * experts.h -- hf2gguf's rule patterns and its mixture-of-experts rules.
 *
 * Patterns (cv_tensor_rule.hf and .gguf, arch.h): '#' stands for the block
 * number, '*' (hf only) for the expert number. A rule whose hf pattern holds
 * '*' is an expert rule: its per-expert tensors
 * ("model.layers.#.block_sparse_moe.experts.*.w1.weight", each of the rule's
 * shape) become one GGUF tensor per block ("blk.#.ffn_gate_exps.weight",
 * ggml ne {cols, rows, n_expert}), stacked by formats/stack without being
 * materialised. The expert count comes from config.json num_local_experts
 * or num_experts.
 *
 * Order, as convert_hf_to_gguf.py's modify_tensors: the experts of a block
 * are gathered as the checkpoint lists them; when the block holds every
 * expert of every expert rule of the family, each rule's stack is planned,
 * in table order, at the place of the tensor that completed the block.
 */
#ifndef CONVERTERS_HF2GGUF_EXPERTS_H
#define CONVERTERS_HF2GGUF_EXPERTS_H

#include <stddef.h>

#include <jansson.h>

#include "converters/hf2gguf/arch.h"
#include "formats/source.h"

/* Largest expert count taken from config.json. */
#define CV_MAX_EXPERTS 65536

/* Match name against pat: *bid gets the '#' number and *xid the '*' number
 * (-1 when the pattern has none). 1 on a match. */
int cv_pattern_match(const char *pat, const char *name, long long *bid, long long *xid);

/* pat with '#' = bid and '*' = xid, into out[cap]. */
void cv_pattern_fill(const char *pat, long long bid, long long xid, char *out, size_t cap);

/* 1 when the rule is an expert rule; 1 when the family has one. */
int cv_rule_is_expert(const cv_tensor_rule *r);
int cv_arch_has_experts(const cv_arch *a);

/* The expert count of a family with expert rules, from config.json
 * (num_local_experts, else num_experts; 1..CV_MAX_EXPERTS), *key naming the
 * key read. num_experts_per_tok (or num_experts_per_token, top_k_experts),
 * when given, must be 1..that count. GK_E_FORMAT with "config.json: ..." in
 * err otherwise. */
gk_status cv_experts_config(const json_t *cfg, long long *n_expert, const char **key, char *err,
                            size_t errcap);

typedef struct cv_experts cv_experts;

/* Gathering state for a's expert rules over n_layer blocks and n_expert
 * experts (key: the config key that gave it, for messages). NULL when out
 * of memory. Memory grows with the tensors added, not with the counts. */
cv_experts *cv_experts_new(const cv_arch *a, long long n_layer, long long n_expert,
                           const char *key);

/* Add tensor t for expert rule `rule` (index in a->tensors), block bid (in
 * 0..n_layer) and expert xid. Errors (GK_E_FORMAT, "FILE: ..." in err): an
 * expert number beyond the count, a tensor seen twice. *complete = 1 when
 * block bid now holds every expert of every expert rule, and the block's
 * stacks are made: cv_experts_stacked() then gives them. Stacking fails on
 * experts of different shapes or dtypes (formats/stack's message). */
gk_status cv_experts_add(cv_experts *e, size_t rule, long long bid, long long xid,
                         const fmt_src_tensor *t, int *complete, char *err, size_t errcap);

/* The stacked record of rule's experts in a completed block, else NULL. */
const fmt_src_tensor *cv_experts_stacked(const cv_experts *e, size_t rule, long long bid);

/* How many expert tensors block bid holds so far (any expert rule). An
 * optional expert rule (cv_tensor_rule.optional: a family whose leading
 * blocks are dense, as deepseek2's first_k_dense_replace) may have none in
 * a block; a block with some must have them all. */
size_t cv_experts_in_block(const cv_experts *e, long long bid);

/* For an expert rule whose block bid is not complete: the first of its
 * expert tensors missing, as "DIR: missing tensor 'NAME' (config.json has
 * KEY = N)" (GK_E_FORMAT) in err; GK_OK when the rule has every expert
 * there (another rule of the block lacks one). */
gk_status cv_experts_missing(const cv_experts *e, size_t rule, long long bid, const char *dir,
                             char *err, size_t errcap);

/* Free the state and its stacked records; accepts NULL. */
void cv_experts_free(cv_experts *e);

#endif
