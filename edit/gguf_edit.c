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
#include "edit/meta.h"
#include "edit/shard.h"
#include "formats/cli.h"
#include "formats/io.h"

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

/* One assignment option, parsed by edit/meta into the next slot. */
static int add_assign(ed_request *r, ed_assign_kind kind, const char *arg) {
    char err[512];
    if (r->n_set >= ED_MAX_LIST)
        return fmt_cli_usage_error("more than %d assignments", ED_MAX_LIST);
    if (ed_parse_assign(kind, arg, &r->set[r->n_set], err, sizeof err) != GK_OK)
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
    case OPT_SET_ARRAY: return add_assign(r, c == OPT_SET ? ED_SET : ED_SET_ARRAY, optarg);
    case OPT_REMOVE:
        if (r->n_remove >= ED_MAX_LIST)
            return fmt_cli_usage_error("more than %d --remove", ED_MAX_LIST);
        r->remove[r->n_remove++] = optarg;
        return -1;
    case OPT_TEMPLATE: r->chat_template = optarg; return -1;
    case OPT_TEMPLATE_NAME: return parse_template_name(r, optarg);
    case OPT_SPECIAL: return add_assign(r, ED_SPECIAL, optarg);
    case OPT_ADD_BOS: return add_assign(r, ED_ADD_BOS, NULL);
    case OPT_NO_ADD_BOS: return add_assign(r, ED_NO_ADD_BOS, NULL);
    case OPT_ADD_EOS: return add_assign(r, ED_ADD_EOS, NULL);
    case OPT_NO_ADD_EOS: return add_assign(r, ED_NO_ADD_EOS, NULL);
    case OPT_DRY_RUN: r->dry_run = 1; return -1;
    case 'i': r->in_place = 1; return -1;
    case OPT_MAX_SIZE:
        if (!ed_parse_split_size(optarg, &r->split_max_size))
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
