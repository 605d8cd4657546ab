/*
 * manifest.h -- digest manifests as text: llama-gguf-hash's lines
 * ("KIND  HEX  FILE:TENSOR" per tensor, "KIND  HEX  FILE" for the whole
 * model) and sha256sum's lines ("HEX  FILE" or "HEX *FILE": SHA-256 of the
 * file's bytes). A parser that yields the well-formed lines and the
 * numbers of the malformed ones, and the writers of single lines.
 *
 * Nothing here hashes or opens the files a manifest names; checking a
 * manifest against them is verify's job (vfy_check_manifest).
 */
#ifndef FORMATS_MANIFEST_H
#define FORMATS_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../ggufkit.h"

/* Digest kinds a manifest line can name, in the order llama-gguf-hash
 * prints them (and numbered as verify's vfy_hash_kind). */
typedef enum {
    FMT_MANIFEST_XXH64 = 0,
    FMT_MANIFEST_XXH3,
    FMT_MANIFEST_XXH128,
    FMT_MANIFEST_SHA1,
    FMT_MANIFEST_SHA256,
    FMT_MANIFEST_UUID,
    FMT_MANIFEST_KIND_COUNT
} fmt_manifest_kind;

/* Longest digest text (SHA-256: 64 hex digits) plus the NUL. */
#define FMT_MANIFEST_HEX_MAX 65

/* Name of a kind as manifests spell it ("xxh64", "xxh3", "xxh128", "sha1",
 * "sha256", "uuid"); NULL for an out-of-range kind. */
const char *fmt_manifest_kind_name(fmt_manifest_kind k);

/* Kind for a name of len bytes (not NUL-terminated), or -1. */
int fmt_manifest_kind_from_name(const char *name, size_t len);

/* Length of a kind's digest text: 16, 16, 32, 40, 64, 36 (UUID with
 * dashes); 0 for an out-of-range kind. */
size_t fmt_manifest_digest_len(fmt_manifest_kind k);

/* One well-formed line. Strings are owned by the manifest and valid until
 * fmt_manifest_close(). */
typedef struct {
    fmt_manifest_kind kind;
    char hex[FMT_MANIFEST_HEX_MAX]; /* digest text, lowercased */
    const char *file;               /* file name (sha256sum escapes undone) */
    const char *tensor;             /* tensor name, or NULL for a whole-model or whole-file line */
    int whole_file;                 /* sha256sum line: SHA-256 of the file's bytes */
    uint64_t line;                  /* 1-based line number */
} fmt_manifest_entry;

typedef struct fmt_manifest fmt_manifest;

/*
 * Parse the manifest text text[0..len) (borrowed for the call). Lines end
 * with '\n' (one '\r' before it is dropped); empty lines are skipped. A
 * llama-gguf-hash line is KIND, whitespace, a digest of the kind's length
 * (hex; UUID as 8-4-4-4-12 with dashes), whitespace, then NAME = the rest
 * of the line. A sha256sum line is an optional '\\'
 * (then "\\\\" and "\\n" in the name are escapes and any other '\\' makes
 * the line malformed), 64 hex digits, ' ', ' ' or '*', and a non-empty
 * name. Any other non-empty line is malformed and only its number is kept.
 * Names are C strings: a NUL byte in the text ends one.
 *
 * llama-gguf-hash NAMEs are split into FILE and TENSOR: a NAME is a
 * whole-model name if it has no ':', if another line's NAME continues it
 * with ':', or if it names an existing regular file; any other NAME is cut
 * after the longest whole-model name that prefixes it, else at its last
 * ':'. Names are relative to dir (NULL: the current directory) for that
 * existing-file test. A NAME longer than FMT_MANIFEST_NAME_MAX bytes names
 * no file (hostile text: it is never echoed) and makes its line malformed.
 * Returns NULL with *st = GK_E_NOMEM when out of memory.
 */
#define FMT_MANIFEST_NAME_MAX (4096 + 256) /* PATH_MAX plus a tensor name */
fmt_manifest *fmt_manifest_parse(const char *text, size_t len, const char *dir, gk_status *st);

/* The well-formed lines in line order; *n gets their count. Borrowed
 * until fmt_manifest_close(). */
const fmt_manifest_entry *fmt_manifest_entries(const fmt_manifest *m, size_t *n);

/* Line numbers (1-based, ascending) of the malformed lines; *n gets their
 * count. Borrowed until fmt_manifest_close(). */
const uint64_t *fmt_manifest_malformed(const fmt_manifest *m, size_t *n);

void fmt_manifest_close(fmt_manifest *m); /* accepts NULL */

/* Write one llama-gguf-hash line to f (borrowed), byte for byte as
 * llama-gguf-hash prints it ("%-8s  %s  %s\n": kind padded to 8 columns,
 * two spaces, digest, two spaces, name), named "FILE:TENSOR", or "FILE"
 * when tensor is NULL. Returns GK_E_IO when writing fails. */
gk_status fmt_manifest_write_entry(FILE *f, fmt_manifest_kind k, const char *hex, const char *file,
                                   const char *tensor);

/* Write one sha256sum line "HEX  FILE\n" to f (borrowed); a name holding
 * '\\' or a newline is escaped as GNU coreutils does, with a leading '\\'.
 * Returns GK_E_IO when writing fails. */
gk_status fmt_manifest_write_whole(FILE *f, const char *hex, const char *file);

#endif
