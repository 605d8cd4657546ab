/*
 * gguf_edit.c -- gguf-edit: change a GGUF model's metadata (byte for byte
 * as gguf-py's gguf_new_metadata.py), split or merge it (as llama.cpp's
 * gguf-split), into a new file or in place, without touching a byte of
 * tensor data. Options and usage only; the work is edit.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edit/edit.h"
#include "formats/cli.h"
#include "formats/gguf_json.h"
#include "formats/io.h"
#include "kernels/kernels.h"

#define MAX_ARRAY_FILE (256u << 20) /* a --set-array @FILE larger than this is refused */

enum {
    OPT_SET = 256,
    OPT_SET_ARRAY,
    OPT_REMOVE,
    OPT_TEMPLATE,
    OPT_TEMPLATE_NAME,
    OPT_SPECIAL,
    OPT_ADD_BOS,
    OPT_NO_ADD_BOS,
    OPT_ADD_EOS,
    OPT_NO_ADD_EOS,
    OPT_DRY_RUN,
    OPT_IN_PLACE,
    OPT_MAX_SIZE,
    OPT_MAX_TENSORS,
    OPT_NO_TENSOR_FIRST,
    OPT_MERGE,
    OPT_RENAME,
    OPT_DROP,
};

static void usage(FILE *f) {
    fprintf(f,
            "usage: gguf-edit [options] INPUT [OUTPUT]\n"
            "Change a GGUF model's metadata, split or merge it, without touching tensor data\n"
            "(same bytes as gguf-py's gguf_new_metadata.py and llama.cpp's gguf-split).\n"
            "INPUT may be '-' (stdin), a .zst file or any shard of a split set; OUTPUT may be\n"
            "'-' (stdout). A split set as INPUT is merged into one OUTPUT.\n\n"
            "Metadata (applied in this order: removals, assignments, templates):\n"
            "      --set KEY=TYPE:VALUE          set a key; TYPE u8 i8 u16 i16 u32 i32 u64 i64\n"
            "                                    f32 f64 bool str (no length limit)\n"
            "      --set-array KEY=TYPE:V1,V2,.. set an array key (str items cannot hold ',')\n"
            "      --set-array KEY=TYPE:@FILE    ... from a JSON list in FILE\n"
            "      --remove GLOB                 remove matching keys (shell glob; warns)\n"
            "      --chat-template FILE          tokenizer.chat_template from FILE (replaces\n"
            "                                    every tokenizer.chat_template* key)\n"
            "      --chat-template-name NAME=FILE  tokenizer.chat_template.NAME, listed in\n"
            "                                    tokenizer.chat_templates\n"
            "      --special-token NAME=ID|TEXT  NAME: bos eos eot eom pad sep unk mask fim_pre\n"
            "                                    fim_suf fim_mid; TEXT must be in the vocabulary\n"
            "      --add-bos, --no-add-bos       tokenizer.ggml.add_bos_token true / false\n"
            "      --add-eos, --no-add-eos       tokenizer.ggml.add_eos_token true / false\n"
            "Tensors (bytes untouched):\n"
            "      --rename-tensor OLD=NEW       rename a tensor\n"
            "      --drop-tensor REGEX           leave out tensors matching REGEX (POSIX ERE)\n"
            "  -f, --force                       overwrite OUTPUT; change a key's type; write\n"
            "                                    a model left inconsistent by tensor edits\n"
            "Output:\n"
            "  -o, --output FILE                 output file (or the OUTPUT operand)\n"
            "  -i, --in-place                    edit INPUT itself (header only when it fits)\n"
            "      --dry-run                     print the metadata diff, write nothing\n"
            "      --json                        the diff as JSON\n"
            "      --split-max-size N[M|G]       split into OUTPUT-0000K-of-0000N.gguf files of\n"
            "                                    at most N bytes of tensor data (M = 10^6,\n"
            "                                    G = 10^9, as gguf-split)\n"
            "      --split-max-tensors N         split every N tensors\n"
            "      --no-tensor-first-split       the first file holds metadata only\n"
            "      --merge                       INPUT must be a split set (merged to OUTPUT)\n"
            "      --zstd[=L]                    compress OUTPUT with zstd (level L, default 3)\n"
            "  -j, --jobs N                      accepted; the copy is one stream\n"
            "      --[no-]progress               progress bar on stderr\n"
            "  -q, --quiet / -v, --verbose       less / more messages\n"
            "  -h, --help / -V, --version\n");
}

/* ------------------------------------------------------------------------ */
/* Assignments                                                                */
/* ------------------------------------------------------------------------ */

/* A key as GGUF needs it: 1..65535 bytes of valid UTF-8. */
static int check_key(const char *k, size_t len) {
    if (len == 0 || len > 65535)
        return fmt_cli_usage_error("key must have 1 to 65535 bytes");
    if (!fmt_utf8_valid(k, len))
        return fmt_cli_usage_error("key is not valid UTF-8");
    return -1;
}

static ed_assign *next_assign(ed_request *r) {
    if (r->n_set >= ED_MAX_LIST)
        return NULL;
    ed_assign *a = &r->set[r->n_set];
    memset(a, 0, sizeof *a);
    a->token = -1;
    return a;
}

/* A JSON list from @FILE for --set-array. */
static gk_status array_from_file(fmt_gguf_type t, const char *path, fmt_gguf_owned *v, char *err,
                                 size_t cap) {
    fmt_map m = {0};
    char why[256];
    gk_status st = fmt_map_file(path, FMT_MAP_SEQUENTIAL, &m, why, sizeof why);
    if (st != GK_OK)
        gk_msgf(err, cap, "%s: %s", path, why);
    else if (m.size > MAX_ARRAY_FILE)
        gk_msgf(err, cap, "%s: larger than %u bytes", path, MAX_ARRAY_FILE), st = GK_E_USAGE;
    else if ((st = fmt_gguf_parse_array(t, (const char *)m.data, m.size, 1, v, why, sizeof why)) !=
             GK_OK)
        gk_msgf(err, cap, "%s: %s", path, why);
    fmt_unmap(&m);
    return st;
}

/* --set KEY=TYPE:VALUE and --set-array KEY=TYPE:LIST|@FILE. */
static int parse_set(ed_request *r, const char *arg, int array) {
    const char *opt = array ? "--set-array" : "--set";
    const char *eq = strchr(arg, '='), *colon = eq ? strchr(eq + 1, ':') : NULL;
    fmt_gguf_type t;
    if (!colon || !fmt_gguf_type_parse(eq + 1, (size_t)(colon - eq - 1), &t))
        return fmt_cli_usage_error("%s: want KEY=TYPE:%s, TYPE one of u8 i8 u16 i16 u32 i32 "
                                   "u64 i64 f32 f64 bool str",
                                   opt, array ? "V1,V2,... or KEY=TYPE:@FILE" : "VALUE");
    int rc = check_key(arg, (size_t)(eq - arg));
    ed_assign *a = next_assign(r);
    if (rc >= 0 || !a)
        return rc >= 0 ? rc : fmt_cli_usage_error("more than %d assignments", ED_MAX_LIST);
    const char *v = colon + 1;
    char err[512];
    gk_status st = !array ? fmt_gguf_parse_scalar(t, v, strlen(v), &a->value, err, sizeof err)
                   : v[0] == '@'
                       ? array_from_file(t, v + 1, &a->value, err, sizeof err)
                       : fmt_gguf_parse_array(t, v, strlen(v), 0, &a->value, err, sizeof err);
    if (st == GK_OK && !(a->key = strndup(arg, (size_t)(eq - arg))))
        st = GK_E_NOMEM, snprintf(err, sizeof err, "out of memory");
    if (st != GK_OK) {
        fmt_gguf_owned_free(&a->value);
        return fmt_cli_usage_error("%s %.*s: %s", opt, (int)(eq - arg), arg, err);
    }
    r->n_set++;
    return -1;
}

/* --[no-]add-bos / --[no-]add-eos: a bool key. */
static int parse_add(ed_request *r, const char *key, int on) {
    ed_assign *a = next_assign(r);
    if (!a)
        return fmt_cli_usage_error("more than %d assignments", ED_MAX_LIST);
    char err[128];
    if (fmt_gguf_parse_scalar(FMT_GGUF_BOOL, on ? "true" : "false", on ? 4 : 5, &a->value, err,
                              sizeof err) != GK_OK ||
        !(a->key = strdup(key)))
        return fmt_cli_usage_error("out of memory");
    r->n_set++;
    return -1;
}

static int parse_special(ed_request *r, const char *arg) {
    ed_assign *a = next_assign(r);
    char err[256];
    if (!a)
        return fmt_cli_usage_error("more than %d assignments", ED_MAX_LIST);
    if (ed_parse_special_token(arg, a, err, sizeof err) != GK_OK)
        return fmt_cli_usage_error("%s", err);
    r->n_set++;
    return -1;
}

static int parse_rename(ed_request *r, const char *arg) {
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1])
        return fmt_cli_usage_error("--rename-tensor: want OLD=NEW");
    if (r->n_rename >= ED_MAX_LIST)
        return fmt_cli_usage_error("more than %d --rename-tensor", ED_MAX_LIST);
    *(char *)eq = 0; /* argv is ours to change */
    r->rename_old[r->n_rename] = arg;
    r->rename_new[r->n_rename++] = eq + 1;
    return -1;
}

static int parse_template_name(ed_request *r, const char *arg) {
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1])
        return fmt_cli_usage_error("--chat-template-name: want NAME=FILE");
    if (r->n_tpl >= ED_MAX_LIST)
        return fmt_cli_usage_error("more than %d --chat-template-name", ED_MAX_LIST);
    if (eq - arg > 100)
        return fmt_cli_usage_error("--chat-template-name: NAME longer than 100 bytes");
    /* the name part is cut off in place: argv is ours to change */
    *(char *)eq = 0;
    if (strcmp(arg, "default") == 0) { /* gguf-py's default entry of a list */
        r->chat_template = eq + 1;
        return -1;
    }
    r->tpl_name[r->n_tpl] = arg;
    r->tpl_file[r->n_tpl++] = eq + 1;
    return -1;
}

/* --split-max-size as gguf-split reads it: N followed by M (10^6) or G
 * (10^9); a bare N is bytes. */
static int parse_max_size(const char *s, uint64_t *out) {
    size_t len = strlen(s);
    uint64_t mul = 1, v;
    char num[32];
    if (len && (s[len - 1] == 'M' || s[len - 1] == 'G'))
        mul = s[--len] == 'M' ? 1000000u : 1000000000u;
    if (len == 0 || len >= sizeof num)
        return 0;
    memcpy(num, s, len);
    num[len] = 0;
    if (fmt_parse_u64(num, &v) != GK_OK || v == 0 || v > UINT64_MAX / mul)
        return 0;
    *out = v * mul;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Options                                                                    */
/* ------------------------------------------------------------------------ */

static int check_operands(int nops, char **ops, ed_request *r) {
    if (nops < 1)
        return fmt_cli_usage_error("missing INPUT");
    if (nops > 2)
        return fmt_cli_usage_error("too many operands");
    r->input = ops[0];
    if (nops == 2) {
        if (r->output)
            return fmt_cli_usage_error("OUTPUT given twice (operand and -o)");
        r->output = ops[1];
    }
    int split = r->split_max_size || r->split_max_tensors;
    if (r->split_max_size && r->split_max_tensors)
        return fmt_cli_usage_error("--split-max-size and --split-max-tensors exclude each other");
    if (r->no_tensor_first_split && !split)
        return fmt_cli_usage_error("--no-tensor-first-split goes with a split");
    if (r->merge && split)
        return fmt_cli_usage_error("--merge and a split exclude each other");
    if (r->json && !r->dry_run)
        return fmt_cli_usage_error("--json goes with --dry-run");
    if (r->in_place && (r->output || split || r->dry_run))
        return fmt_cli_usage_error("--in-place takes no OUTPUT, split or --dry-run");
    if (r->zstd_level && (r->in_place || split || r->dry_run))
        return fmt_cli_usage_error("--zstd compresses one OUTPUT: not with --in-place, a split "
                                   "or --dry-run");
    if (!r->output && !r->in_place && !r->dry_run)
        return fmt_cli_usage_error("missing OUTPUT (or --in-place, --dry-run)");
    if (split && r->output && fmt_is_stdio(r->output))
        return fmt_cli_usage_error("a split writes files: OUTPUT is their prefix, not '-'");
    return -1;
}

static int parse_option(int c, ed_request *r) {
    switch (c) {
    case OPT_SET:
    case OPT_SET_ARRAY: return parse_set(r, optarg, c == OPT_SET_ARRAY);
    case OPT_REMOVE:
        if (r->n_remove >= ED_MAX_LIST)
            return fmt_cli_usage_error("more than %d --remove", ED_MAX_LIST);
        r->remove[r->n_remove++] = optarg;
        return -1;
    case OPT_TEMPLATE: r->chat_template = optarg; return -1;
    case OPT_TEMPLATE_NAME: return parse_template_name(r, optarg);
    case OPT_SPECIAL: return parse_special(r, optarg);
    case OPT_ADD_BOS:
    case OPT_NO_ADD_BOS: return parse_add(r, "tokenizer.ggml.add_bos_token", c == OPT_ADD_BOS);
    case OPT_ADD_EOS:
    case OPT_NO_ADD_EOS: return parse_add(r, "tokenizer.ggml.add_eos_token", c == OPT_ADD_EOS);
    case OPT_DRY_RUN: r->dry_run = 1; return -1;
    case 'i': r->in_place = 1; return -1;
    case OPT_MAX_SIZE:
        if (!parse_max_size(optarg, &r->split_max_size))
            return fmt_cli_usage_error("--split-max-size: want N, NM or NG (N > 0)");
        return -1;
    case OPT_MAX_TENSORS:
        if (fmt_parse_u64(optarg, &r->split_max_tensors) != GK_OK || !r->split_max_tensors)
            return fmt_cli_usage_error("--split-max-tensors: want a count > 0");
        return -1;
    case OPT_NO_TENSOR_FIRST: r->no_tensor_first_split = 1; return -1;
    case OPT_MERGE: r->merge = 1; return -1;
    case OPT_RENAME: return parse_rename(r, optarg);
    case OPT_DROP:
        if (r->n_drop >= ED_MAX_LIST)
            return fmt_cli_usage_error("more than %d --drop-tensor", ED_MAX_LIST);
        r->drop[r->n_drop++] = optarg;
        return -1;
    default: return -1; /* a common option, in cli.opts */
    }
}

static int parse_args(int argc, char **argv, ed_request *r) {
    static const struct option longs[] = {
        {"set", required_argument, 0, OPT_SET},
        {"set-array", required_argument, 0, OPT_SET_ARRAY},
        {"remove", required_argument, 0, OPT_REMOVE},
        {"chat-template", required_argument, 0, OPT_TEMPLATE},
        {"chat-template-name", required_argument, 0, OPT_TEMPLATE_NAME},
        {"special-token", required_argument, 0, OPT_SPECIAL},
        {"add-bos", no_argument, 0, OPT_ADD_BOS},
        {"no-add-bos", no_argument, 0, OPT_NO_ADD_BOS},
        {"add-eos", no_argument, 0, OPT_ADD_EOS},
        {"no-add-eos", no_argument, 0, OPT_NO_ADD_EOS},
        {"dry-run", no_argument, 0, OPT_DRY_RUN},
        {"in-place", no_argument, 0, 'i'},
        {"split-max-size", required_argument, 0, OPT_MAX_SIZE},
        {"split-max-tensors", required_argument, 0, OPT_MAX_TENSORS},
        {"no-tensor-first-split", no_argument, 0, OPT_NO_TENSOR_FIRST},
        {"merge", no_argument, 0, OPT_MERGE},
        {"rename-tensor", required_argument, 0, OPT_RENAME},
        {"drop-tensor", required_argument, 0, OPT_DROP},
        {0, 0, 0, 0},
    };
    fmt_cli cli;
    int c, rc;
    fmt_cli_init(&cli,
                 FMT_CLI_JOBS | FMT_CLI_QUIET | FMT_CLI_VERBOSE | FMT_CLI_FORCE | FMT_CLI_OUTPUT |
                     FMT_CLI_JSON | FMT_CLI_ZSTD | FMT_CLI_PROGRESS,
                 "i", longs, usage);
    while ((c = fmt_cli_next(&cli, argc, argv)) != FMT_CLI_END) {
        if (c == FMT_CLI_EXIT)
            return cli.exit_code;
        if ((rc = parse_option(c, r)) >= 0)
            return rc;
    }
    r->output = cli.opts.output;
    r->force = cli.opts.force;
    r->json = cli.opts.json;
    r->progress = cli.opts.progress;
    r->zstd_level = cli.opts.zstd_level;
    return check_operands(argc - optind, argv + optind, r);
}

int main(int argc, char **argv) {
    kern_init();
    fmt_set_progname("gguf-edit");
    static ed_request r; /* large (the option lists): not on the stack */
    int rc = parse_args(argc, argv, &r);
    if (rc < 0) {
        gk_error e;
        gk_error_clear(&e);
        rc = ed_run(&r, &e) == GK_OK ? 0 : fmt_cli_report(&e);
    }
    ed_request_free(&r);
    return rc;
}
