/*
 * spm.c -- SentencePiece ModelProto piece list via protobuf-c.
 */
#include "spm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sentencepiece.pb-c.h"

#define SPM_MAX_FILE (256u << 20)

struct fmt_spm {
    Sentencepiece__ModelProto *proto;
};

/* ------------------------------------------------------------------------ */
/* Helpers                                                                    */
/* ------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------ */
/* Reading                                                                    */
/* ------------------------------------------------------------------------ */

fmt_spm *fmt_spm_parse(const void *data, size_t len, gk_status *st, char *errmsg, size_t errcap) {
    Sentencepiece__ModelProto *p =
        sentencepiece__model_proto__unpack(NULL, len, (const uint8_t *)data);
    if (!p) {
        *st = GK_E_FORMAT;
        gk_msgf(errmsg, errcap, "not a SentencePiece model (protobuf does not parse)");
        return NULL;
    }
    if (p->n_pieces == 0) {
        sentencepiece__model_proto__free_unpacked(p, NULL);
        *st = GK_E_FORMAT;
        gk_msgf(errmsg, errcap, "SentencePiece model has no pieces");
        return NULL;
    }
    for (size_t i = 0; i < p->n_pieces; i++) {
        int t = p->pieces[i]->type;
        if (t < FMT_SPM_NORMAL || t > FMT_SPM_BYTE) {
            sentencepiece__model_proto__free_unpacked(p, NULL);
            *st = GK_E_FORMAT;
            gk_msgf(errmsg, errcap, "piece %zu has unknown type %d", i, t);
            return NULL;
        }
    }
    fmt_spm *m = calloc(1, sizeof *m);
    if (!m) {
        sentencepiece__model_proto__free_unpacked(p, NULL);
        *st = GK_E_NOMEM;
        gk_msgf(errmsg, errcap, "out of memory");
        return NULL;
    }
    m->proto = p;
    *st = GK_OK;
    return m;
}

fmt_spm *fmt_spm_open(const char *path, gk_status *st, char *errmsg, size_t errcap) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        *st = GK_E_IO;
        gk_msgf(errmsg, errcap, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > (off_t)SPM_MAX_FILE) {
        fclose(f);
        *st = GK_E_FORMAT;
        gk_msgf(errmsg, errcap, "%s: not a regular file of at most %u bytes", path, SPM_MAX_FILE);
        return NULL;
    }
    size_t n = (size_t)sb.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        fclose(f);
        *st = GK_E_NOMEM;
        gk_msgf(errmsg, errcap, "%s: out of memory", path);
        return NULL;
    }
    size_t got = fread(buf, 1, n, f);
    int rerr = ferror(f);
    fclose(f);
    if (got != n || rerr) {
        free(buf);
        *st = GK_E_IO;
        gk_msgf(errmsg, errcap, "%s: read failed", path);
        return NULL;
    }
    char sub[256];
    fmt_spm *m = fmt_spm_parse(buf, n, st, sub, sizeof sub);
    free(buf);
    if (!m)
        gk_msgf(errmsg, errcap, "%s: %s", path, sub);
    return m;
}

size_t fmt_spm_n_pieces(const fmt_spm *m) {
    return m->proto->n_pieces;
}

void fmt_spm_piece_at(const fmt_spm *m, size_t i, fmt_spm_piece *out) {
    const Sentencepiece__ModelProto__SentencePiece *p = m->proto->pieces[i];
    out->text = p->has_piece ? p->piece.data : (const uint8_t *)"";
    out->len = p->has_piece ? p->piece.len : 0;
    out->score = p->has_score ? p->score : 0.0f;
    out->type = (int)p->type;
}

void fmt_spm_close(fmt_spm *m) {
    if (!m)
        return;
    sentencepiece__model_proto__free_unpacked(m->proto, NULL);
    free(m);
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                    */
/* ------------------------------------------------------------------------ */

uint8_t *fmt_spm_serialize(const fmt_spm_piece *pieces, size_t n, size_t *len) {
    Sentencepiece__ModelProto mp = SENTENCEPIECE__MODEL_PROTO__INIT;
    Sentencepiece__ModelProto__SentencePiece *items = calloc(n ? n : 1, sizeof *items);
    Sentencepiece__ModelProto__SentencePiece **ptrs = calloc(n ? n : 1, sizeof *ptrs);
    uint8_t *buf = NULL;
    if (!items || !ptrs)
        goto out;
    for (size_t i = 0; i < n; i++) {
        Sentencepiece__ModelProto__SentencePiece init =
            SENTENCEPIECE__MODEL_PROTO__SENTENCE_PIECE__INIT;
        items[i] = init;
        items[i].has_piece = 1;
        items[i].piece.data = (uint8_t *)(uintptr_t)pieces[i].text;
        items[i].piece.len = pieces[i].len;
        items[i].has_score = 1;
        items[i].score = pieces[i].score;
        items[i].has_type = 1;
        items[i].type = (Sentencepiece__ModelProto__SentencePiece__Type)pieces[i].type;
        ptrs[i] = &items[i];
    }
    mp.n_pieces = n;
    mp.pieces = ptrs;
    size_t sz = sentencepiece__model_proto__get_packed_size(&mp);
    buf = malloc(sz ? sz : 1);
    if (buf)
        *len = sentencepiece__model_proto__pack(&mp, buf);
out:
    free(items);
    free(ptrs);
    return buf;
}
