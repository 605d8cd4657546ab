/*
 * io.c -- streams and CLI plumbing shared by every program (contract: io.h).
 *
 * Input keeps one logical byte stream with absolute offsets: for a regular
 * file they are file offsets, for zstd data they are offsets in the
 * decompressed stream. Streams (pipes, zstd) are read forward only; random
 * access spills the whole logical stream to an unlinked temp file and maps
 * it. To be able to do that after some bytes were consumed, every raw byte
 * read from a pipe is also kept in memory (the "history", at most
 * HISTORY_MAX bytes; past that the stream can no longer be spilled). zstd on
 * a regular file needs no history: the spill decompresses it again from
 * compressed byte 0.
 *
 * Output goes through a 1 MiB buffer, optionally through a zstd CCtx, into
 * PATH.tmp.XXXXXX beside the target, which is renamed into place on commit.
 *
 * Signals: SIGINT, SIGTERM and SIGHUP remove every registered path and then
 * re-raise the signal with its default action, so the parent sees the
 * process killed by that signal (a shell reports 128+signal, 130 for
 * SIGINT). SIGPIPE and SIGXFSZ are ignored instead: a write to a closed
 * pipe then fails with EPIPE (GK_E_PIPE, exit 2) and a write past
 * RLIMIT_FSIZE with EFBIG, and the normal error path removes the temp file.
 */
#include "formats/io.h"

#include "formats/escape.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

/* ------------------------------------------------------------------------ */
/* Messages and display levels                                                */
/* ------------------------------------------------------------------------ */

static char g_progname[64] = "ggufkit";
static atomic_int g_display_level = 2;
/* Width of the progress line now on screen (0 = none), so that a log
 * message can clear it first instead of being glued to it. */
static atomic_int g_progress_width;

void fmt_set_progname(const char *name) {
    if (!name || !*name)
        return;
    const char *slash = strrchr(name, '/');
    snprintf(g_progname, sizeof g_progname, "%s", slash && slash[1] ? slash + 1 : name);
}

const char *fmt_progname(void) {
    return g_progname;
}

void fmt_set_display_level(int level) {
    atomic_store(&g_display_level, level < 0 ? 0 : level > 4 ? 4 : level);
}

int fmt_display_level(void) {
    return atomic_load(&g_display_level);
}

/* Erase a progress line (caller holds the stderr lock). */
static void clear_progress_line(void) {
    int w = atomic_exchange(&g_progress_width, 0);
    if (w > 0)
        fprintf(stderr, "\r%*s\r", w, "");
}

/* Every message ends here, escaped: gk_error messages quote names read
 * from files, and a file name may hold control bytes too. */
static void vlog(const char *file, const char *fmt, va_list ap) {
    char msg[4096];
    int n = snprintf(msg, sizeof msg, "%s: ", g_progname);
    if (file && n >= 0 && (size_t)n < sizeof msg)
        n += snprintf(msg + n, sizeof msg - (size_t)n, "%s: ", file);
    if (n >= 0 && (size_t)n < sizeof msg)
        vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    fmt_escape_term(msg, sizeof msg, msg, strlen(msg));
    flockfile(stderr);
    clear_progress_line();
    fprintf(stderr, "%s\n", msg);
    funlockfile(stderr);
}

void fmt_log(int level, const char *fmt, ...) {
    if (level > fmt_display_level())
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(NULL, fmt, ap);
    va_end(ap);
}

void fmt_vformat_errmsg(char *buf, size_t cap, const char *file, const char *fmt, va_list ap) {
    int n = snprintf(buf, cap, "%s: ", file);
    if (n < 0 || (size_t)n >= cap)
        n = 0;
    vsnprintf(buf + n, cap - (size_t)n, fmt, ap);
    fmt_escape_term(buf, cap, buf, strlen(buf)); /* names in it may come from a file */
}

void fmt_error(const char *file, const char *fmt, ...) {
    if (1 > fmt_display_level())
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(file, fmt, ap);
    va_end(ap);
}

/* 1 when the comma-separated list contains word. */
static int list_has(const char *list, const char *word) {
    size_t wl = strlen(word);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == wl && memcmp(p, word, wl) == 0)
            return 1;
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

/* When GGUFKIT_FAKE_TTY is set it decides alone for fds 0..2: the listed
 * ones are terminals and the others are not, so tests do not depend on how
 * they were started. */
int fmt_isatty(int fd) {
    static const char *const names[3] = {"stdin", "stdout", "stderr"};
    const char *fake = getenv("GGUFKIT_FAKE_TTY");
    if (fake && fd >= 0 && fd <= 2)
        return list_has(fake, names[fd]);
    return isatty(fd) == 1;
}

int fmt_is_stdio(const char *path) {
    return path && strcmp(path, "-") == 0;
}

int fmt_stdout_finish(int rc) {
    int e = 0;
    errno = 0;
    if (fflush(stdout) != 0)
        e = errno ? errno : EIO;
    else if (ferror(stdout))
        e = EIO; /* an earlier write failed; its errno is gone */
    if (!e)
        return rc;
    fmt_error("-", "write failed: %s", strerror(e));
    return 2; /* an I/O error outranks a failed check */
}

/* ------------------------------------------------------------------------ */
/* Checked parsing for options                                                */
/* ------------------------------------------------------------------------ */

/* Upper bound for -j: more threads than this is a typo, not a machine. */
#define JOBS_MAX 1024

/* Leading decimal digits of s into *out; returns the first non-digit or
 * NULL on no digits or overflow. */
static const char *parse_digits(const char *s, uint64_t *out) {
    uint64_t v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return NULL;
        v = v * 10 + d;
    }
    if (p == s)
        return NULL;
    *out = v;
    return p;
}

gk_status fmt_parse_u64(const char *s, uint64_t *out) {
    uint64_t v;
    const char *end = s ? parse_digits(s, &v) : NULL;
    if (!end || *end)
        return GK_E_USAGE;
    *out = v;
    return GK_OK;
}

gk_status fmt_parse_size(const char *s, uint64_t *out) {
    uint64_t v;
    const char *p = s ? parse_digits(s, &v) : NULL;
    if (!p)
        return GK_E_USAGE;
    unsigned shift = 0;
    const char *units = "KMGT";
    const char *u = *p ? strchr(units, toupper((unsigned char)*p)) : NULL;
    if (u) {
        shift = 10 * (unsigned)(u - units + 1);
        p++;
        if (*p == 'i' || *p == 'I') {
            p++;
            if (*p != 'B' && *p != 'b')
                return GK_E_USAGE;
        }
    }
    if (*p == 'B' || *p == 'b')
        p++;
    if (*p)
        return GK_E_USAGE;
    if (shift && v > (UINT64_MAX >> shift))
        return GK_E_USAGE;
    *out = v << shift;
    return GK_OK;
}

gk_status fmt_parse_double(const char *s, double *out) {
    /* strtod skips leading blanks; a whole-string parse must not */
    if (!s || !*s || *s == ' ' || (*s >= '\t' && *s <= '\r'))
        return GK_E_USAGE;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v))
        return GK_E_USAGE;
    *out = v;
    return GK_OK;
}

gk_status fmt_parse_jobs(const char *s, int *out) {
    uint64_t v;
    if (s && strcasecmp(s, "auto") == 0)
        v = 0;
    else if (fmt_parse_u64(s, &v) != GK_OK || v > JOBS_MAX)
        return GK_E_USAGE;
    *out = v == 0 ? fmt_online_cpus() : (int)v;
    return GK_OK;
}

/* The CPUs this process may run on (affinity, e.g. taskset or a container),
 * else the online count. */
int fmt_online_cpus(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > JOBS_MAX ? JOBS_MAX : (int)n;
}

/* ------------------------------------------------------------------------ */
/* Low-level helpers                                                          */
/* ------------------------------------------------------------------------ */

/* Largest single read()/write() we issue (Linux caps them near 2 GiB). */
#define SYSCALL_CHUNK ((size_t)1 << 30)

/* Write all of p; 0 or an errno value. */
static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t r = write(fd, p, n < SYSCALL_CHUNK ? n : SYSCALL_CHUNK);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (r == 0)
            return EIO;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* pread until n bytes or end of file; 0 or an errno value. */
static int pread_full(int fd, uint8_t *p, size_t n, uint64_t off, size_t *got) {
    size_t done = 0;
    while (done < n) {
        size_t want = n - done < SYSCALL_CHUNK ? n - done : SYSCALL_CHUNK;
        ssize_t r = pread(fd, p + done, want, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            *got = done;
            return errno;
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    *got = done;
    return 0;
}

/* Block the signals whose handler walks the cleanup list, so that a file
 * is never created without being registered (or unlinked). */
static void block_fatal(sigset_t *old) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

static void unblock_fatal(const sigset_t *old) {
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* ------------------------------------------------------------------------ */
/* Input                                                                      */
/* ------------------------------------------------------------------------ */

#define DEFAULT_ZSTD_MAX ((uint64_t)1 << 40)
/* Raw pipe bytes kept for a later spill; enough for any GGUF header. */
#define HISTORY_MAX ((size_t)64 << 20)
#define DISCARD_CHUNK 65536

enum src_kind {
    SRC_FILE, /* regular file: mapped or read with pread */
    SRC_PIPE, /* anything else: read() forward only */
};

struct fmt_input {
    char *name;
    int fd;
    int own_fd;
    enum src_kind kind;
    gk_status broken; /* sticky failure: the stream state is lost */

    /* logical stream */
    uint64_t pos;  /* sequential position */
    uint64_t size; /* logical size, UINT64_MAX while unknown */
    fmt_map map;   /* the whole file, or the spilled stream */
    int mapped;

    /* raw source: bytes fetched so far (file offset for zstd on a file) */
    uint64_t raw_pos;
    int raw_eof;
    uint8_t peek[4]; /* magic-test bytes of a plain pipe not yet delivered */
    size_t peek_len, peek_off;
    uint8_t *hist; /* every raw byte read from a pipe, for a later spill */
    size_t hist_len, hist_cap;
    int hist_lost;

    /* zstd */
    int zstd;
    uint64_t zmax;
    ZSTD_DStream *ds;
    uint8_t *zbuf;
    size_t zcap;
    ZSTD_inBuffer zin;
    size_t zret; /* last return of a call that made progress; 0 = frame end */

    char err[256];
};

static gk_status in_fail(fmt_input *in, gk_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static gk_status in_fail(fmt_input *in, gk_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(in->err, sizeof in->err, fmt, ap);
    va_end(ap);
    return st;
}

static gk_status in_eof(fmt_input *in, uint64_t at) {
    return in_fail(in, GK_E_FORMAT, "unexpected end of file (at byte %llu)",
                   (unsigned long long)at);
}

static int is_zstd_magic(const uint8_t *m) {
    return m[0] == 0x28 && m[1] == 0xB5 && m[2] == 0x2F && m[3] == 0xFD;
}

/* Keep raw pipe bytes for a later spill, giving up (for good) past
 * HISTORY_MAX or when memory runs out. */
static void history_add(fmt_input *in, const uint8_t *p, size_t n) {
    if (in->hist_lost || n == 0)
        return;
    if (n > HISTORY_MAX - in->hist_len) {
        free(in->hist);
        in->hist = NULL;
        in->hist_len = in->hist_cap = 0;
        in->hist_lost = 1;
        return;
    }
    if (n > in->hist_cap - in->hist_len) {
        size_t cap = in->hist_cap ? in->hist_cap : 65536;
        while (cap < in->hist_len + n)
            cap *= 2;
        if (cap > HISTORY_MAX)
            cap = HISTORY_MAX;
        uint8_t *h = realloc(in->hist, cap);
        if (!h) {
            free(in->hist);
            in->hist = NULL;
            in->hist_len = in->hist_cap = 0;
            in->hist_lost = 1;
            return;
        }
        in->hist = h;
        in->hist_cap = cap;
    }
    memcpy(in->hist + in->hist_len, p, n);
    in->hist_len += n;
}

/* One read() from the pipe (retried on EINTR), recorded in the history. */
static gk_status pipe_read_some(fmt_input *in, uint8_t *buf, size_t cap, size_t *got) {
    ssize_t r;
    do
        r = read(in->fd, buf, cap < SYSCALL_CHUNK ? cap : SYSCALL_CHUNK);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        *got = 0;
        return in_fail(in, GK_E_IO, "read error: %s", strerror(errno));
    }
    *got = (size_t)r;
    in->raw_pos += (uint64_t)r;
    history_add(in, buf, (size_t)r);
    return GK_OK;
}

/* Next raw bytes (at most one system call); *got == 0 at the end. */
static gk_status raw_next(fmt_input *in, uint8_t *buf, size_t cap, size_t *got) {
    if (in->peek_off < in->peek_len) {
        size_t k = in->peek_len - in->peek_off;
        if (k > cap)
            k = cap;
        memcpy(buf, in->peek + in->peek_off, k);
        in->peek_off += k;
        *got = k;
        return GK_OK;
    }
    if (in->kind == SRC_PIPE)
        return pipe_read_some(in, buf, cap, got);
    ssize_t r;
    do
        r = pread(in->fd, buf, cap < SYSCALL_CHUNK ? cap : SYSCALL_CHUNK, (off_t)in->raw_pos);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        *got = 0;
        return in_fail(in, GK_E_IO, "read error: %s", strerror(errno));
    }
    *got = (size_t)r;
    in->raw_pos += (uint64_t)r;
    return GK_OK;
}

static gk_status map_file(fmt_input *in) {
    gk_status st = fmt_map_fd(in->fd, in->size, in->name, 0, &in->map, in->err, sizeof in->err);
    if (st == GK_OK)
        in->mapped = 1;
    return st;
}

static gk_status zstd_setup(fmt_input *in, const fmt_input_opts *o, const uint8_t *pre,
                            size_t pre_len) {
    in->zstd = 1;
    in->size = UINT64_MAX;
    in->zmax = o->zstd_max_size ? o->zstd_max_size : DEFAULT_ZSTD_MAX;
    const char *env = getenv("GGUFKIT_ZSTD_MAX");
    if (env && *env) {
        uint64_t v;
        if (fmt_parse_size(env, &v) != GK_OK)
            return in_fail(in, GK_E_USAGE, "invalid GGUFKIT_ZSTD_MAX '%s'", env);
        if (v < in->zmax)
            in->zmax = v;
    }
    in->ds = ZSTD_createDStream();
    in->zcap = ZSTD_DStreamInSize();
    in->zbuf = malloc(in->zcap);
    if (!in->ds || !in->zbuf)
        return in_fail(in, GK_E_NOMEM, "out of memory");
    memcpy(in->zbuf, pre, pre_len);
    in->zin = (ZSTD_inBuffer){in->zbuf, pre_len, 0};
    in->zret = 1;
    return GK_OK;
}

gk_status fmt_open_regular(const char *path, int *fd, char *errmsg, size_t errcap) {
    /* O_NONBLOCK: a FIFO is refused below instead of waiting for a writer */
    *fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (*fd < 0) {
        gk_msgf(errmsg, errcap, "cannot open: %s", strerror(errno));
        return GK_E_IO;
    }
    struct stat sb;
    if (fstat(*fd, &sb) != 0)
        gk_msgf(errmsg, errcap, "cannot stat: %s", strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        gk_msgf(errmsg, errcap, "not a regular file");
    else if (fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) & ~O_NONBLOCK) != 0)
        gk_msgf(errmsg, errcap, "cannot open: %s", strerror(errno));
    else
        return GK_OK;
    close(*fd);
    *fd = -1;
    return GK_E_IO;
}

static gk_status inside_fail(char *errmsg, size_t errcap, gk_status st, const char *what) {
    gk_msgf(errmsg, errcap, "%s", what);
    return st;
}

/* 1 when rp lies inside directory root (both real paths): directly, or at
 * any depth when deep; never root itself. */
static int under(const char *rp, const char *root, int deep) {
    size_t rl = strlen(root);
    if (strncmp(rp, root, rl) != 0)
        return 0;
    const char *rest = rp + rl;
    if (root[rl - 1] != '/') { /* only "/" itself ends in '/' */
        if (*rest != '/')
            return 0;
        rest++;
    }
    return *rest != '\0' && (deep || !strchr(rest, '/'));
}

/* The Hugging Face hub cache keeps files in models--X/blobs/ and links
 * them from models--X/snapshots/<rev>/: for such a directory (a real
 * path), the real path of ../../blobs, else NULL. */
static char *hub_blobs_dir(const char *rdir) {
    const char *slash = strrchr(rdir, '/');
    if (!slash || slash - rdir < 10 || strncmp(slash - 10, "/snapshots", 10) != 0)
        return NULL;
    size_t parent = (size_t)(slash - rdir);
    char *b = malloc(parent + sizeof "/../blobs");
    if (!b)
        return NULL;
    memcpy(b, rdir, parent);
    memcpy(b + parent, "/../blobs", sizeof "/../blobs");
    char *r = realpath(b, NULL);
    free(b);
    return r;
}

gk_status fmt_path_inside(const char *dir, const char *path, unsigned flags, char *errmsg,
                          size_t errcap) {
    char *rdir = realpath(dir, NULL);
    if (!rdir)
        return inside_fail(errmsg, errcap, GK_E_IO, "cannot resolve its directory");
    char *rp = realpath(path, NULL);
    if (!rp) {
        int e = errno;
        free(rdir);
        return inside_fail(errmsg, errcap, GK_E_IO, e == ENOENT ? "does not exist" : strerror(e));
    }
    int inside = under(rp, rdir, (flags & FMT_INSIDE_DEEP) != 0);
    if (!inside) {
        char *blobs = hub_blobs_dir(rdir);
        inside = blobs && under(rp, blobs, 0);
        free(blobs);
    }
    free(rp);
    free(rdir);
    return inside ? GK_OK
                  : inside_fail(errmsg, errcap, GK_E_FORMAT, "resolves outside its directory");
}

static gk_status input_setup(fmt_input *in, const char *path, const fmt_input_opts *o) {
    int is_stdin = fmt_is_stdio(path);
    in->name = strdup(is_stdin ? "(stdin)" : path);
    if (!in->name)
        return in_fail(in, GK_E_NOMEM, "out of memory");
    if (is_stdin) {
        if (!o->allow_tty && fmt_isatty(0))
            return in_fail(in, GK_E_USAGE, "refusing to read binary data from a terminal");
        in->fd = 0;
    } else if (o->regular_only) {
        char msg[128];
        if (fmt_open_regular(path, &in->fd, msg, sizeof msg) != GK_OK)
            return in_fail(in, GK_E_IO, "%s", msg);
        in->own_fd = 1;
    } else {
        in->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (in->fd < 0)
            return in_fail(in, GK_E_IO, "cannot open: %s", strerror(errno));
        in->own_fd = 1;
    }
    struct stat sb;
    if (fstat(in->fd, &sb) != 0)
        return in_fail(in, GK_E_IO, "cannot stat: %s", strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return in_fail(in, GK_E_USAGE, "is a directory");

    /* stdin redirected from a file is a file, unless someone already read
     * part of it: then only the rest is ours and offsets would be off */
    if (S_ISREG(sb.st_mode) && (!is_stdin || lseek(in->fd, 0, SEEK_CUR) == 0)) {
        in->kind = SRC_FILE;
        in->size = (uint64_t)sb.st_size;
        uint8_t m[4];
        size_t got;
        int e = pread_full(in->fd, m, sizeof m, 0, &got);
        if (e)
            return in_fail(in, GK_E_IO, "read error: %s", strerror(e));
        if (got == 4 && is_zstd_magic(m))
            return zstd_setup(in, o, m, 0);
        /* mmap failing is fine: pread serves the same bytes */
        if (!o->no_mmap && map_file(in) != GK_OK)
            in->err[0] = '\0';
        return GK_OK;
    }

    in->kind = SRC_PIPE;
    in->size = UINT64_MAX;
    size_t have = 0;
    while (have < sizeof in->peek) {
        size_t got;
        gk_status st = pipe_read_some(in, in->peek + have, sizeof in->peek - have, &got);
        if (st)
            return st;
        if (got == 0)
            break;
        have += got;
    }
    if (have == 4 && is_zstd_magic(in->peek))
        return zstd_setup(in, o, in->peek, have);
    in->peek_len = have;
    return GK_OK;
}

fmt_input *fmt_input_open(const char *path, const fmt_input_opts *opts, gk_status *st, char *errmsg,
                          size_t errcap) {
    static const fmt_input_opts defaults;
    fmt_input *in = calloc(1, sizeof *in);
    gk_status s;
    if (!in) {
        s = GK_E_NOMEM;
        if (errmsg && errcap)
            snprintf(errmsg, errcap, "out of memory");
    } else {
        in->fd = -1;
        s = input_setup(in, path, opts ? opts : &defaults);
        if (s != GK_OK) {
            if (errmsg && errcap)
                snprintf(errmsg, errcap, "%s", in->err);
            fmt_input_close(in);
            in = NULL;
        }
    }
    if (st)
        *st = s;
    return in;
}

const char *fmt_input_name(const fmt_input *in) {
    return in->name;
}

int fmt_input_is_mapped(const fmt_input *in) {
    return in->mapped;
}

const uint8_t *fmt_input_data(const fmt_input *in) {
    return in->mapped ? in->map.data : NULL;
}

int fmt_input_copy_at(const fmt_input *in, uint64_t off, void *buf, size_t n) {
    if (!in->mapped || off > in->size || n > in->size - off)
        return EIO;
    if (in->kind != SRC_FILE || in->zstd) {
        memcpy(buf, in->map.data + off, n);
        return 0;
    }
    size_t got;
    int e = pread_full(in->fd, buf, n, off, &got);
    return e ? e : got < n ? EIO : 0;
}

uint64_t fmt_input_size(const fmt_input *in) {
    return in->size;
}

int fmt_input_is_zstd(const fmt_input *in) {
    return in->zstd;
}

uint64_t fmt_input_tell(const fmt_input *in) {
    return in->pos;
}

const char *fmt_input_errmsg(const fmt_input *in) {
    return in->err;
}

/* Compressed offset the decoder has reached, for messages. */
static uint64_t zstd_consumed(const fmt_input *in) {
    return in->raw_pos - (in->zin.size - in->zin.pos);
}

static gk_status zstd_read(fmt_input *in, uint8_t *buf, size_t n, size_t *got) {
    size_t done = 0;
    gk_status st = GK_OK;
    while (done < n) {
        if (in->zin.pos == in->zin.size && !in->raw_eof) {
            size_t k;
            st = raw_next(in, in->zbuf, in->zcap, &k);
            if (st) {
                in->broken = st;
                break;
            }
            in->zin = (ZSTD_inBuffer){in->zbuf, k, 0};
            in->raw_eof = k == 0;
        }
        /* never produce more than one byte past the limit */
        uint64_t room = in->zmax - in->pos + 1;
        ZSTD_outBuffer out = {buf + done, n - done < room ? n - done : (size_t)room, 0};
        size_t before = in->zin.pos;
        size_t r = ZSTD_decompressStream(in->ds, &out, &in->zin);
        if (ZSTD_isError(r)) {
            st = in->broken = in_fail(in, GK_E_FORMAT, "zstd: %s (at compressed byte %llu)",
                                      ZSTD_getErrorName(r), (unsigned long long)zstd_consumed(in));
            break;
        }
        done += out.pos;
        in->pos += out.pos;
        if (in->pos > in->zmax) {
            st = in->broken =
                in_fail(in, GK_E_FORMAT, "zstd data expands past the limit of %llu bytes",
                        (unsigned long long)in->zmax);
            break;
        }
        if (out.pos || in->zin.pos != before) {
            in->zret = r;
        } else if (in->raw_eof) {
            /* no progress and no more input: clean only between frames */
            if (in->zret != 0)
                st = in->broken =
                    in_fail(in, GK_E_FORMAT, "truncated zstd data (at compressed byte %llu)",
                            (unsigned long long)zstd_consumed(in));
            break;
        }
    }
    *got = done;
    return st;
}

gk_status fmt_input_read(fmt_input *in, void *buf, size_t n, size_t *got) {
    uint8_t *dst = buf;
    *got = 0;
    if (in->broken)
        return in->broken;
    if (n == 0)
        return GK_OK;
    if (in->mapped) {
        uint64_t avail = in->pos < in->size ? in->size - in->pos : 0;
        size_t k = n < avail ? n : (size_t)avail;
        if (k)
            memcpy(dst, in->map.data + in->pos, k);
        in->pos += k;
        *got = k;
        return GK_OK;
    }
    if (in->zstd)
        return zstd_read(in, dst, n, got);
    if (in->kind == SRC_FILE) {
        uint64_t avail = in->pos < in->size ? in->size - in->pos : 0;
        size_t k;
        int e = pread_full(in->fd, dst, n < avail ? n : (size_t)avail, in->pos, &k);
        in->pos += k;
        *got = k;
        return e ? in_fail(in, GK_E_IO, "read error: %s", strerror(e)) : GK_OK;
    }
    size_t done = 0;
    gk_status st = GK_OK;
    while (done < n) {
        size_t k;
        st = raw_next(in, dst + done, n - done, &k);
        if (st || k == 0)
            break;
        done += k;
    }
    in->pos += done;
    *got = done;
    return st;
}

gk_status fmt_input_read_exact(fmt_input *in, void *buf, size_t n) {
    size_t got;
    gk_status st = fmt_input_read(in, buf, n, &got);
    if (st)
        return st;
    return got < n ? in_eof(in, in->pos) : GK_OK;
}

gk_status fmt_input_skip(fmt_input *in, uint64_t n) {
    if (in->broken)
        return in->broken;
    if (in->mapped || (in->kind == SRC_FILE && !in->zstd)) {
        if (in->pos > in->size || n > in->size - in->pos) {
            in->pos = in->size;
            return in_eof(in, in->size);
        }
        in->pos += n;
        return GK_OK;
    }
    uint8_t scratch[DISCARD_CHUNK];
    while (n > 0) {
        size_t want = n < sizeof scratch ? (size_t)n : sizeof scratch;
        gk_status st = fmt_input_read_exact(in, scratch, want);
        if (st)
            return st;
        n -= want;
    }
    return GK_OK;
}

/* Unlinked temp file in $TMPDIR (default /tmp); -1 with in->err set.
 * O_TMPFILE never gives the file a name, so no exit path can leave it
 * behind; file systems without it get a name unlinked at once, with the
 * fatal signals blocked in between. */
static int spill_file(fmt_input *in, char *dir, size_t dircap) {
    const char *tmpdir = getenv("TMPDIR");
    if (!tmpdir || !*tmpdir)
        tmpdir = "/tmp";
    snprintf(dir, dircap, "%s", tmpdir);
#ifdef O_TMPFILE
    int tfd = open(tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (tfd >= 0)
        return tfd;
#endif
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/ggufkit-spill.XXXXXX", tmpdir) >= sizeof path) {
        in_fail(in, GK_E_IO, "cannot create a temp file in %s: %s", tmpdir, strerror(ENAMETOOLONG));
        return -1;
    }
    sigset_t old;
    block_fatal(&old);
    int fd = mkostemp(path, O_CLOEXEC);
    int e = errno;
    if (fd >= 0)
        unlink(path);
    unblock_fatal(&old);
    if (fd < 0)
        in_fail(in, GK_E_IO, "cannot create a temp file in %s: %s", tmpdir, strerror(e));
    return fd;
}

/* Raw bytes from compressed/raw offset *roff for the spill: a file is read
 * with pread, a pipe first from its history and then onward (no longer
 * recorded: the spill file takes over). */
static gk_status spill_src(fmt_input *in, uint64_t *roff, uint8_t *buf, size_t cap, size_t *got) {
    *got = 0;
    if (in->kind == SRC_FILE) {
        int e = pread_full(in->fd, buf, cap, *roff, got);
        if (e)
            return in_fail(in, GK_E_IO, "read error: %s", strerror(e));
    } else if (*roff < in->hist_len) {
        size_t k = in->hist_len - (size_t)*roff;
        *got = k < cap ? k : cap;
        memcpy(buf, in->hist + *roff, *got);
    } else {
        ssize_t r;
        do
            r = read(in->fd, buf, cap);
        while (r < 0 && errno == EINTR);
        if (r < 0)
            return in_fail(in, GK_E_IO, "read error: %s", strerror(errno));
        *got = (size_t)r;
        in->raw_pos += (uint64_t)r;
    }
    *roff += *got;
    return GK_OK;
}

static gk_status spill_write(fmt_input *in, int fd, const char *dir, const uint8_t *p, size_t n) {
    int e = write_all(fd, p, n);
    if (e)
        return in_fail(in, GK_E_IO, "cannot write a temp file in %s: %s", dir, strerror(e));
    return GK_OK;
}

/* Copy (plain pipe) or decompress (zstd) the whole logical stream from its
 * first byte into fd; *total = logical size. */
static gk_status spill_fill(fmt_input *in, int fd, const char *dir, uint64_t *total) {
    size_t outcap = ZSTD_DStreamOutSize();
    uint8_t *src = malloc(in->zstd ? in->zcap : outcap);
    uint8_t *dst = in->zstd ? malloc(outcap) : NULL;
    gk_status st = GK_OK;
    uint64_t roff = 0, sum = 0;
    if (!src || (in->zstd && !dst)) {
        st = in_fail(in, GK_E_NOMEM, "out of memory");
        goto done;
    }
    if (!in->zstd) {
        for (;;) {
            size_t k;
            st = spill_src(in, &roff, src, outcap, &k);
            if (st || k == 0)
                break;
            st = spill_write(in, fd, dir, src, k);
            if (st)
                break;
            sum += k;
        }
        goto done;
    }
    ZSTD_DCtx_reset(in->ds, ZSTD_reset_session_only);
    ZSTD_inBuffer zi = {src, 0, 0};
    size_t zret = 1;
    int eof = 0;
    for (;;) {
        if (zi.pos == zi.size && !eof) {
            size_t k;
            st = spill_src(in, &roff, src, in->zcap, &k);
            if (st)
                break;
            zi = (ZSTD_inBuffer){src, k, 0};
            eof = k == 0;
        }
        uint64_t room = in->zmax - sum + 1;
        ZSTD_outBuffer zo = {dst, outcap < room ? outcap : (size_t)room, 0};
        size_t before = zi.pos;
        size_t r = ZSTD_decompressStream(in->ds, &zo, &zi);
        if (ZSTD_isError(r)) {
            st = in_fail(in, GK_E_FORMAT, "zstd: %s (at compressed byte %llu)",
                         ZSTD_getErrorName(r), (unsigned long long)(roff - (zi.size - zi.pos)));
            break;
        }
        sum += zo.pos;
        if (sum > in->zmax) {
            st = in_fail(in, GK_E_FORMAT, "zstd data expands past the limit of %llu bytes",
                         (unsigned long long)in->zmax);
            break;
        }
        st = spill_write(in, fd, dir, dst, zo.pos);
        if (st)
            break;
        if (zo.pos || zi.pos != before) {
            zret = r;
        } else if (eof) {
            if (zret != 0)
                st = in_fail(in, GK_E_FORMAT, "truncated zstd data (at compressed byte %llu)",
                             (unsigned long long)roff);
            break;
        }
    }
done:
    free(src);
    free(dst);
    *total = sum;
    return st;
}

static gk_status spill(fmt_input *in) {
    if (in->kind == SRC_PIPE && in->hist_lost)
        return in_fail(in, GK_E_UNSUPPORTED,
                       "cannot seek back in a stream after more than %zu MiB were read from "
                       "it; use a regular file",
                       HISTORY_MAX >> 20);
    char dir[PATH_MAX];
    int fd = spill_file(in, dir, sizeof dir);
    if (fd < 0)
        return in->broken = GK_E_IO;
    uint64_t total;
    gk_status st = spill_fill(in, fd, dir, &total);
    if (st == GK_OK && total > SIZE_MAX)
        st = in_fail(in, GK_E_NOMEM, "stream too large to map");
    if (st == GK_OK) {
        char msg[sizeof in->err];
        st = fmt_map_fd(fd, total, in->name, 0, &in->map, msg, sizeof msg);
        if (st)
            in_fail(in, st, "temp file: %s", msg);
    }
    close(fd);
    if (st)
        return in->broken = st;
    in->mapped = 1;
    in->size = total;
    free(in->hist);
    in->hist = NULL;
    in->hist_len = in->hist_cap = 0;
    ZSTD_freeDStream(in->ds);
    in->ds = NULL;
    free(in->zbuf);
    in->zbuf = NULL;
    return GK_OK;
}

gk_status fmt_input_make_seekable(fmt_input *in) {
    if (in->broken)
        return in->broken;
    if (in->mapped)
        return GK_OK;
    /* asked for explicitly, so map even when no_mmap was set */
    if (in->kind == SRC_FILE && !in->zstd)
        return map_file(in);
    return spill(in);
}

gk_status fmt_input_pread(fmt_input *in, void *buf, size_t n, uint64_t off) {
    if (in->broken)
        return in->broken;
    int direct = in->kind == SRC_FILE && !in->zstd;
    if (!in->mapped && !direct) {
        gk_status st = fmt_input_make_seekable(in);
        if (st)
            return st;
    }
    if (off > in->size || n > in->size - off)
        return in_eof(in, in->size);
    if (n == 0)
        return GK_OK;
    if (in->mapped) {
        memcpy(buf, in->map.data + off, n);
        return GK_OK;
    }
    size_t got;
    int e = pread_full(in->fd, buf, n, off, &got);
    if (e)
        return in_fail(in, GK_E_IO, "read error: %s", strerror(e));
    return got < n ? in_eof(in, off + got) : GK_OK;
}

void fmt_input_close(fmt_input *in) {
    if (!in)
        return;
    fmt_unmap(&in->map);
    if (in->own_fd && in->fd >= 0)
        close(in->fd);
    ZSTD_freeDStream(in->ds);
    free(in->zbuf);
    free(in->hist);
    free(in->name);
    free(in);
}

/* ------------------------------------------------------------------------ */
/* File mappings                                                              */
/* ------------------------------------------------------------------------ */

/* SIGBUS guard for mappings (defined with the signal handlers). */
static gk_status sigbus_watch(const void *base, size_t len, const char *name);
static void sigbus_unwatch(const void *base);

static const uint8_t empty_data[1];

static gk_status map_fail(char *errmsg, size_t errcap, gk_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static gk_status map_fail(char *errmsg, size_t errcap, gk_status st, const char *fmt, ...) {
    if (errmsg && errcap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errmsg, errcap, fmt, ap);
        va_end(ap);
    }
    return st;
}

gk_status fmt_map_fd(int fd, uint64_t size, const char *name, unsigned flags, fmt_map *m,
                     char *errmsg, size_t errcap) {
    *m = (fmt_map){0};
    if (size == 0) {
        m->data = empty_data;
        return GK_OK;
    }
    if (size > SIZE_MAX)
        return map_fail(errmsg, errcap, GK_E_UNSUPPORTED, "file too large to map");
    void *p = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
        return map_fail(errmsg, errcap, GK_E_IO, "cannot map: %s", strerror(errno));
    gk_status st = sigbus_watch(p, (size_t)size, name);
    if (st) {
        munmap(p, (size_t)size);
        return map_fail(errmsg, errcap, st, "cannot guard the mapping: %s",
                        st == GK_E_NOMEM ? "out of memory" : "too many files mapped");
    }
    /* only a hint: the mapping works the same when the kernel ignores it */
    if (flags & FMT_MAP_SEQUENTIAL)
        madvise(p, (size_t)size, MADV_SEQUENTIAL);
    m->data = p;
    m->size = (size_t)size;
    return GK_OK;
}

gk_status fmt_map_file(const char *path, unsigned flags, fmt_map *m, char *errmsg, size_t errcap) {
    *m = (fmt_map){0};
    int fd;
    gk_status st = fmt_open_regular(path, &fd, errmsg, errcap);
    if (st != GK_OK)
        return st;
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        st = map_fail(errmsg, errcap, GK_E_IO, "cannot stat: %s", strerror(errno));
    else
        st = fmt_map_fd(fd, (uint64_t)sb.st_size, path, flags, m, errmsg, errcap);
    close(fd);
    return st;
}

void fmt_unmap(fmt_map *m) {
    if (m->size) {
        sigbus_unwatch(m->data);
        munmap((void *)m->data, m->size);
    }
    *m = (fmt_map){0};
}

void fmt_release_pages(const void *p, size_t n) {
    long ps = sysconf(_SC_PAGESIZE);
    if (ps <= 0 || n == 0)
        return;
    uintptr_t pg = (uintptr_t)ps;
    uintptr_t a = ((uintptr_t)p + pg - 1) & ~(pg - 1), e = ((uintptr_t)p + n) & ~(pg - 1);
    if (e > a)
        madvise((void *)a, e - a, MADV_DONTNEED);
}

/* ------------------------------------------------------------------------ */
/* Output                                                                     */
/* ------------------------------------------------------------------------ */

#define OUT_BUF ((size_t)1 << 20)

struct fmt_output {
    char *path;
    char *tmp; /* temp file name while it exists, else NULL */
    int fd;
    int to_stdout;
    int device; /* an existing device or FIFO, written in place */
    int force;
    int committed;
    gk_status fail; /* sticky: after a failure nothing more is written */
    uint8_t *buf;
    size_t len;
    uint64_t total;
    ZSTD_CCtx *cctx;
    uint8_t *zout;
    size_t zcap;
    char err[256];
};

/* Remove the temp file now (failure or close without commit). */
static void drop_temp(fmt_output *out) {
    if (out->fd >= 0 && !out->to_stdout)
        close(out->fd);
    out->fd = -1;
    if (out->tmp) {
        unlink(out->tmp);
        fmt_cleanup_unregister(out->tmp);
        free(out->tmp);
        out->tmp = NULL;
    }
}

static gk_status out_fail(fmt_output *out, gk_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static gk_status out_fail(fmt_output *out, gk_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->err, sizeof out->err, fmt, ap);
    va_end(ap);
    out->fail = st;
    drop_temp(out);
    return st;
}

static gk_status write_failed(fmt_output *out, int e) {
    if (e == EPIPE)
        return out_fail(out, GK_E_PIPE, "broken pipe");
    return out_fail(out, GK_E_IO, "write failed: %s", strerror(e));
}

/* Mode for a new file: what open(2) would give with 0666 and our umask.
 * The umask can only be read by setting it, so do that once. */
static mode_t g_umask;

static void read_umask(void) {
    g_umask = umask(077);
    umask(g_umask);
}

static mode_t default_mode(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, read_umask);
    return 0666 & ~g_umask;
}

/* The input (NULL-terminated list; "-" is stdin) that is the file t
 * describes, else NULL. Device + inode catch hard links and other
 * spellings of the path, and `prog - - < m 1<> m`. */
static const char *same_file_input(const char *const *inputs, const struct stat *t) {
    for (const char *const *ip = inputs; ip && *ip; ip++) {
        struct stat is;
        int ok =
            fmt_is_stdio(*ip) ? fstat(0, &is) == 0 && S_ISREG(is.st_mode) : stat(*ip, &is) == 0;
        if (ok && is.st_dev == t->st_dev && is.st_ino == t->st_ino)
            return *ip;
    }
    return NULL;
}

/* A device or FIFO (-o /dev/null, a named pipe) is written in place:
 * nothing there can be replaced atomically, and renaming a file over it
 * would destroy it. That is not overwriting a file, so no -f is needed,
 * except for a terminal. */
static gk_status open_device(fmt_output *out, const char *path, int force) {
    out->fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (out->fd < 0)
        return out_fail(out, GK_E_IO, "cannot open: %s", strerror(errno));
    out->device = 1;
    if (!force && isatty(out->fd))
        return out_fail(out, GK_E_USAGE,
                        "refusing to write binary data to a terminal (use -f to force)");
    return GK_OK;
}

/* A file target: refusals, then PATH.tmp.XXXXXX registered for cleanup. */
static gk_status open_file_target(fmt_output *out, const char *path, const fmt_output_opts *o) {
    mode_t mode = default_mode();
    struct stat ts;
    if (stat(path, &ts) == 0) {
        if (S_ISDIR(ts.st_mode))
            return out_fail(out, GK_E_USAGE, "is a directory");
        const char *same = same_file_input(o->inputs, &ts);
        if (same)
            return out_fail(out, GK_E_USAGE,
                            "is the same file as input '%s' (refused even with -f)", same);
        if (!S_ISREG(ts.st_mode))
            return open_device(out, path, o->force);
        if (!o->force)
            return out_fail(out, GK_E_EXISTS, "already exists (use -f to overwrite)");
        mode = ts.st_mode & 0777;
    } else if (errno != ENOENT) {
        return out_fail(out, GK_E_IO, "cannot stat: %s", strerror(errno));
    }
    size_t plen = strlen(path);
    out->tmp = malloc(plen + sizeof ".tmp.XXXXXX");
    if (!out->tmp)
        return out_fail(out, GK_E_NOMEM, "out of memory");
    memcpy(out->tmp, path, plen);
    memcpy(out->tmp + plen, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    sigset_t old;
    block_fatal(&old);
    out->fd = mkostemp(out->tmp, O_CLOEXEC);
    int e = errno;
    if (out->fd >= 0)
        fmt_cleanup_register(out->tmp);
    unblock_fatal(&old);
    if (out->fd < 0) {
        free(out->tmp);
        out->tmp = NULL;
        return out_fail(out, GK_E_IO, "cannot create a temp file beside it: %s", strerror(e));
    }
    /* mkstemp makes 0600; a result file gets the usual permissions */
    (void)fchmod(out->fd, mode);
    return GK_OK;
}

static gk_status output_setup(fmt_output *out, const char *path, const fmt_output_opts *o) {
    out->force = o->force;
    out->path = strdup(path);
    out->buf = malloc(OUT_BUF);
    if (!out->path || !out->buf)
        return out_fail(out, GK_E_NOMEM, "out of memory");
    if (o->zstd_level < 0 || o->zstd_level > ZSTD_maxCLevel())
        return out_fail(out, GK_E_USAGE, "zstd level %d is out of range 1..%d", o->zstd_level,
                        ZSTD_maxCLevel());
    fmt_signals_init();

    if (fmt_is_stdio(path)) {
        if (!o->force && fmt_isatty(1))
            return out_fail(out, GK_E_USAGE,
                            "refusing to write binary data to a terminal (use -f to force)");
        /* `prog in -o - >> in` would read what it writes */
        struct stat os;
        if (fstat(1, &os) == 0 && S_ISREG(os.st_mode)) {
            const char *same = same_file_input(o->inputs, &os);
            if (same)
                return out_fail(out, GK_E_USAGE, "standard output is the same file as input '%s'",
                                same);
        }
        out->fd = 1;
        out->to_stdout = 1;
    } else {
        gk_status st = open_file_target(out, path, o);
        if (st)
            return st;
    }

    if (o->zstd_level > 0) {
        out->cctx = ZSTD_createCCtx();
        out->zcap = ZSTD_CStreamOutSize();
        out->zout = malloc(out->zcap);
        if (!out->cctx || !out->zout)
            return out_fail(out, GK_E_NOMEM, "out of memory");
        ZSTD_CCtx_setParameter(out->cctx, ZSTD_c_compressionLevel, o->zstd_level);
        ZSTD_CCtx_setParameter(out->cctx, ZSTD_c_checksumFlag, 1);
        /* a libzstd built without threads refuses workers: stay single-threaded */
        if (o->zstd_threads > 0)
            (void)ZSTD_CCtx_setParameter(out->cctx, ZSTD_c_nbWorkers, o->zstd_threads);
    }
    return GK_OK;
}

fmt_output *fmt_output_open(const char *path, const fmt_output_opts *opts, gk_status *st,
                            char *errmsg, size_t errcap) {
    static const fmt_output_opts defaults;
    fmt_output *out = calloc(1, sizeof *out);
    gk_status s;
    if (!out) {
        s = GK_E_NOMEM;
        if (errmsg && errcap)
            snprintf(errmsg, errcap, "out of memory");
    } else {
        out->fd = -1;
        s = output_setup(out, path, opts ? opts : &defaults);
        if (s != GK_OK) {
            if (errmsg && errcap)
                snprintf(errmsg, errcap, "%s", out->err);
            fmt_output_close(out);
            out = NULL;
        }
    }
    if (st)
        *st = s;
    return out;
}

/* Send bytes on: through the compressor or straight to the fd. */
static gk_status emit(fmt_output *out, const uint8_t *p, size_t n, ZSTD_EndDirective mode) {
    if (!out->cctx) {
        int e = write_all(out->fd, p, n);
        return e ? write_failed(out, e) : GK_OK;
    }
    ZSTD_inBuffer in = {p, n, 0};
    for (;;) {
        ZSTD_outBuffer zo = {out->zout, out->zcap, 0};
        size_t r = ZSTD_compressStream2(out->cctx, &zo, &in, mode);
        if (ZSTD_isError(r))
            return out_fail(out, GK_E_IO, "zstd compression failed: %s", ZSTD_getErrorName(r));
        int e = write_all(out->fd, out->zout, zo.pos);
        if (e)
            return write_failed(out, e);
        if (mode == ZSTD_e_end ? r == 0 : in.pos == in.size)
            return GK_OK;
    }
}

static gk_status flush_buf(fmt_output *out) {
    size_t n = out->len;
    out->len = 0;
    return n ? emit(out, out->buf, n, ZSTD_e_continue) : GK_OK;
}

gk_status fmt_output_write(fmt_output *out, const void *buf, size_t n) {
    if (out->fail)
        return out->fail;
    if (out->committed) {
        snprintf(out->err, sizeof out->err, "write after commit");
        return GK_E_USAGE;
    }
    if (n == 0)
        return GK_OK;
    out->total += n;
    if (n > OUT_BUF - out->len) {
        gk_status st = flush_buf(out);
        if (st)
            return st;
    }
    if (n >= OUT_BUF)
        return emit(out, buf, n, ZSTD_e_continue);
    memcpy(out->buf + out->len, buf, n);
    out->len += n;
    return GK_OK;
}

gk_status fmt_output_write_zeros(fmt_output *out, size_t n) {
    static const uint8_t zeros[65536];
    while (n > 0) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        gk_status st = fmt_output_write(out, zeros, k);
        if (st)
            return st;
        n -= k;
    }
    return GK_OK;
}

uint64_t fmt_output_tell(const fmt_output *out) {
    return out->total;
}

const char *fmt_output_errmsg(const fmt_output *out) {
    return out->err;
}

/* fsync the directory holding path so that the rename itself is durable. */
static int sync_parent_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else if ((size_t)(slash - path) < sizeof dir)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else
        return 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int e = fsync(fd) != 0 ? errno : 0;
    close(fd);
    /* only a real I/O error matters; some file systems refuse fsync on dirs */
    return e == EIO ? e : 0;
}

/* Commit, first half: every byte flushed (and the zstd frame ended), the
 * temp file synced and closed. Nothing is visible yet. */
static gk_status finish_data(fmt_output *out) {
    if (out->fail || out->committed)
        return out->fail;
    gk_status st = flush_buf(out);
    if (st == GK_OK && out->cctx)
        st = emit(out, NULL, 0, ZSTD_e_end);
    if (st || out->to_stdout || out->device)
        return st;
    if (fsync(out->fd) != 0)
        return out_fail(out, GK_E_IO, "fsync failed: %s", strerror(errno));
    int fd = out->fd;
    out->fd = -1;
    if (close(fd) != 0)
        return out_fail(out, GK_E_IO, "write failed: %s", strerror(errno));
    return GK_OK;
}

/* Commit, second half: the temp file renamed into place. With
 * keep_registered the final path takes the temp file's place in the
 * signal cleanup (both under blocked signals, so a signal removes one or
 * the other), for a set that is all-or-nothing until fmt_output_commit_all
 * lets go of it. */
static gk_status rename_into_place(fmt_output *out, int keep_registered) {
    if (out->committed)
        return GK_OK; /* already in place (committed alone before) */
    if (out->to_stdout || out->device) {
        out->committed = 1;
        return GK_OK;
    }
    sigset_t old;
    block_fatal(&old);
    if (keep_registered)
        fmt_cleanup_register(out->path);
    int r;
    if (!out->force) {
        /* someone may have created the target since open: do not clobber */
        r = renameat2(AT_FDCWD, out->tmp, AT_FDCWD, out->path, RENAME_NOREPLACE);
        if (r != 0 && (errno == EINVAL || errno == ENOSYS || errno == ENOTSUP))
            r = rename(out->tmp, out->path);
    } else {
        r = rename(out->tmp, out->path);
    }
    int e = errno;
    if (r == 0)
        fmt_cleanup_unregister(out->tmp);
    else if (keep_registered)
        fmt_cleanup_unregister(out->path);
    unblock_fatal(&old);
    if (r != 0 && e == EEXIST)
        return out_fail(out, GK_E_EXISTS, "already exists (use -f to overwrite)");
    if (r != 0)
        return out_fail(out, GK_E_IO, "cannot rename the temp file into place: %s", strerror(e));
    free(out->tmp);
    out->tmp = NULL;
    out->committed = 1;
    e = sync_parent_dir(out->path);
    if (e) {
        snprintf(out->err, sizeof out->err, "fsync of the directory failed: %s", strerror(e));
        return out->fail = GK_E_IO;
    }
    return GK_OK;
}

gk_status fmt_output_commit(fmt_output *out) {
    gk_status st = finish_data(out);
    return st ? st : rename_into_place(out, 0);
}

/* Undo a committed file of a set whose other files failed. */
static void uncommit(fmt_output *out, gk_status st) {
    if (!out->committed || out->to_stdout || out->device)
        return;
    unlink(out->path);
    fmt_cleanup_unregister(out->path);
    out->committed = 0;
    out->fail = st;
}

gk_status fmt_output_commit_all(fmt_output *const *outs, size_t n) {
    gk_status st = GK_OK;
    for (size_t k = 0; k < n && st == GK_OK; k++)
        st = finish_data(outs[k]);
    size_t done = 0;
    for (; st == GK_OK && done < n; done++)
        st = rename_into_place(outs[done], 1);
    sigset_t old;
    block_fatal(&old);
    for (size_t k = 0; k < done; k++) {
        if (st != GK_OK)
            uncommit(outs[k], st);
        else
            fmt_cleanup_unregister(outs[k]->path);
    }
    unblock_fatal(&old);
    return st;
}

void fmt_output_close(fmt_output *out) {
    if (!out)
        return;
    drop_temp(out);
    ZSTD_freeCCtx(out->cctx);
    free(out->zout);
    free(out->buf);
    free(out->path);
    free(out);
}

/* ------------------------------------------------------------------------ */
/* Signals                                                                    */
/* ------------------------------------------------------------------------ */

/* Fixed storage: the handler may only touch memory that exists already. */
/* A split set registers one path per shard at once, and shards are open
 * all together, so the fd limit (1024 by default) bounds what is needed;
 * untouched slots cost address space only. */
#define CLEANUP_SLOTS 2048
enum { SLOT_FREE, SLOT_BUSY, SLOT_ARMED };
static char g_cleanup_path[CLEANUP_SLOTS][PATH_MAX];
static atomic_int g_cleanup_state[CLEANUP_SLOTS];
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the signal handler needs lock-free atomics");

/* Absolute form of path, so a later chdir cannot redirect the unlink. */
static int absolute_path(const char *path, char *out) {
    if (path[0] == '/') {
        if (strlen(path) >= PATH_MAX)
            return -1;
        strcpy(out, path);
        return 0;
    }
    if (!getcwd(out, PATH_MAX))
        return -1;
    size_t cl = strlen(out), pl = strlen(path);
    if (cl + 1 + pl >= PATH_MAX)
        return -1;
    out[cl] = '/';
    memcpy(out + cl + 1, path, pl + 1);
    return 0;
}

void fmt_cleanup_register(const char *path) {
    char abs[PATH_MAX];
    if (absolute_path(path, abs) != 0)
        return;
    for (int i = 0; i < CLEANUP_SLOTS; i++) {
        int expect = SLOT_FREE;
        if (atomic_compare_exchange_strong(&g_cleanup_state[i], &expect, SLOT_BUSY)) {
            strcpy(g_cleanup_path[i], abs);
            atomic_store(&g_cleanup_state[i], SLOT_ARMED);
            return;
        }
    }
}

void fmt_cleanup_unregister(const char *path) {
    char abs[PATH_MAX];
    if (absolute_path(path, abs) != 0)
        return;
    for (int i = 0; i < CLEANUP_SLOTS; i++) {
        if (atomic_load(&g_cleanup_state[i]) == SLOT_ARMED && strcmp(g_cleanup_path[i], abs) == 0) {
            atomic_store(&g_cleanup_state[i], SLOT_FREE);
            return;
        }
    }
}

/* Files first, then directories newest first (children were registered
 * after their parents), using only async-signal-safe calls. */
static void run_cleanup(void) {
    for (int i = 0; i < CLEANUP_SLOTS; i++)
        if (atomic_load(&g_cleanup_state[i]) == SLOT_ARMED)
            unlink(g_cleanup_path[i]);
    for (int i = CLEANUP_SLOTS - 1; i >= 0; i--)
        if (atomic_load(&g_cleanup_state[i]) == SLOT_ARMED)
            rmdir(g_cleanup_path[i]);
}

static void on_fatal_signal(int sig) {
    run_cleanup();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
}

/* A mapped input that shrinks under us (another process truncates it)
 * turns reads past its new end into SIGBUS. The handler recognises a fault
 * inside a watched mapping, removes the temp outputs like the other fatal
 * signals, says which input shrank and exits 2; any other SIGBUS is a bug
 * and keeps its default action. Fixed slots, enough for every shard of a
 * large model: the handler may only touch memory that exists already, and
 * each message is formatted when its mapping is made. */
#define SIGBUS_SLOTS 1024
static _Atomic(uintptr_t) g_bus_base[SIGBUS_SLOTS];
static size_t g_bus_len[SIGBUS_SLOTS];
static char *g_bus_msg[SIGBUS_SLOTS];
static size_t g_bus_msg_len[SIGBUS_SLOTS];
static atomic_int g_bus_state[SIGBUS_SLOTS];

static void on_sigbus(int sig, siginfo_t *si, void *ctx) {
    (void)ctx;
    uintptr_t a = (uintptr_t)si->si_addr;
    for (int i = 0; i < SIGBUS_SLOTS; i++) {
        uintptr_t b = atomic_load(&g_bus_base[i]);
        if (atomic_load(&g_bus_state[i]) == SLOT_ARMED && b && a >= b && a - b < g_bus_len[i]) {
            run_cleanup();
            ssize_t w = write(2, g_bus_msg[i], g_bus_msg_len[i]);
            (void)w;
            _exit(2);
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    raise(sig);
}

static void install_sigbus(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
}

/* GK_E_NOMEM when the message cannot be allocated, GK_E_UNSUPPORTED when
 * every slot is taken. */
static gk_status sigbus_watch(const void *base, size_t len, const char *name) {
    static const char tail[] = "input file shrank while reading; no output written\n";
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install_sigbus);
    const char *prog = fmt_progname();
    size_t n = strlen(prog) + strlen(name) + sizeof tail + 4;
    char *msg = malloc(n);
    if (!msg)
        return GK_E_NOMEM;
    int k = snprintf(msg, n, "%s: %s: %s", prog, name, tail);
    for (int i = 0; i < SIGBUS_SLOTS; i++) {
        int expect = SLOT_FREE;
        if (atomic_compare_exchange_strong(&g_bus_state[i], &expect, SLOT_BUSY)) {
            g_bus_msg[i] = msg;
            g_bus_msg_len[i] = k < 0 ? 0 : (size_t)k;
            g_bus_len[i] = len;
            atomic_store(&g_bus_base[i], (uintptr_t)base);
            atomic_store(&g_bus_state[i], SLOT_ARMED);
            return GK_OK;
        }
    }
    free(msg);
    return GK_E_UNSUPPORTED;
}

static void sigbus_unwatch(const void *base) {
    for (int i = 0; i < SIGBUS_SLOTS; i++) {
        if (atomic_load(&g_bus_state[i]) == SLOT_ARMED &&
            atomic_load(&g_bus_base[i]) == (uintptr_t)base) {
            atomic_store(&g_bus_state[i], SLOT_BUSY);
            atomic_store(&g_bus_base[i], 0);
            free(g_bus_msg[i]);
            g_bus_msg[i] = NULL;
            atomic_store(&g_bus_state[i], SLOT_FREE);
            return;
        }
    }
}

static void install_handlers(void) {
    static const int fatal[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        sigaddset(&sa.sa_mask, fatal[i]);
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
        struct sigaction old;
        /* a signal ignored at start (nohup, background job) stays ignored */
        if (sigaction(fatal[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        sigaction(fatal[i], &sa, NULL);
    }
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, NULL);
    sigaction(SIGXFSZ, &ign, NULL);
}

void fmt_signals_init(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install_handlers);
}

/* ------------------------------------------------------------------------ */
/* Progress                                                                   */
/* ------------------------------------------------------------------------ */

#define PROGRESS_INTERVAL_NS (1000000000ull / 6)

struct fmt_progress {
    pthread_mutex_t mu;
    char label[64];
    uint64_t total;
    uint64_t start_ns;
    uint64_t last_ns; /* 0 = nothing shown yet */
    int width;
    uint64_t item, n_items; /* fmt_progress_item: 1-based, 0 = none */
    char name[48];          /* the item's name, fmt_escape_term'd */
};

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

fmt_progress *fmt_progress_start(const char *label, uint64_t total, int mode) {
    if (mode == 0 || (mode < 0 && (fmt_display_level() < 2 || !fmt_isatty(2))))
        return NULL;
    fmt_progress *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    pthread_mutex_init(&p->mu, NULL);
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    p->total = total;
    p->start_ns = now_ns();
    return p;
}

void fmt_progress_item(fmt_progress *p, uint64_t i, uint64_t n, const char *name, size_t len) {
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->item = i;
    p->n_items = n;
    fmt_escape_term(p->name, sizeof p->name, name, name ? len : 0); /* a name from a file */
    pthread_mutex_unlock(&p->mu);
}

/* "label  i/n  pct%  R MB/s  ETA m:ss  name" (parts known so far). */
static int progress_line(const fmt_progress *p, uint64_t done, uint64_t now, char *line,
                         size_t cap) {
    int w = snprintf(line, cap, "%s", p->label);
    if (p->item)
        w += snprintf(line + w, cap - (size_t)w, "  %llu/%llu", (unsigned long long)p->item,
                      (unsigned long long)p->n_items);
    double secs = (double)(now - p->start_ns) / 1e9, rate = secs > 0 ? (double)done / secs : 0;
    if (p->total && p->total != UINT64_MAX) {
        double pct = done >= p->total ? 100.0 : 100.0 * (double)done / (double)p->total;
        w += snprintf(line + w, cap - (size_t)w, "  %5.1f%%", pct);
    } else {
        w += snprintf(line + w, cap - (size_t)w, "  %llu", (unsigned long long)done);
    }
    w += snprintf(line + w, cap - (size_t)w, "  %.1f MB/s", rate / 1e6);
    if (p->total && p->total != UINT64_MAX && rate > 0 && done <= p->total) {
        double eta = (double)(p->total - done) / rate;
        eta = eta > 359999 ? 359999 : eta;
        w += snprintf(line + w, cap - (size_t)w, "  ETA %d:%02d", (int)eta / 60, (int)eta % 60);
    }
    if (p->name[0])
        w += snprintf(line + w, cap - (size_t)w, "  %s", p->name);
    return w >= (int)cap ? (int)cap - 1 : w;
}

void fmt_progress_update(fmt_progress *p, uint64_t done) {
    /* a busy lock means another thread is drawing: skipping is fine */
    if (!p || pthread_mutex_trylock(&p->mu) != 0)
        return;
    uint64_t now = now_ns();
    if (p->last_ns == 0 || now - p->last_ns >= PROGRESS_INTERVAL_NS) {
        p->last_ns = now ? now : 1;
        char line[160];
        int w = progress_line(p, done, now, line, sizeof line);
        flockfile(stderr);
        /* pad over the tail of a longer previous line */
        fprintf(stderr, "\r%s%*s", line, p->width > w ? p->width - w : 0, "");
        funlockfile(stderr);
        if (w > p->width)
            p->width = w;
        atomic_store(&g_progress_width, p->width);
    }
    pthread_mutex_unlock(&p->mu);
}

void fmt_progress_end(fmt_progress *p) {
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    if (p->last_ns) {
        flockfile(stderr);
        clear_progress_line();
        funlockfile(stderr);
    }
    pthread_mutex_unlock(&p->mu);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
