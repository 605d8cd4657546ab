/*
 * io.h -- streams and CLI plumbing shared by every program.
 *
 * Input: one object over a regular file (mmap, pread fallback), stdin or a
 * pipe (forward-only), and zstd-compressed data detected by its magic bytes
 * (streaming decompression; spilled to a temp file only when random access
 * is asked for).
 *
 * Output: an atomic file (temp file beside the target, fsync, rename; the
 * temp file is unlinked on failure and on SIGINT/SIGTERM/SIGPIPE) or stdout,
 * optionally zstd-compressed with zstd's own worker threads.
 *
 * File mappings: the one place that maps files (read-only, whole file),
 * each guarded against the file shrinking under it, and the one page
 * release for mapped data already consumed.
 *
 * Plus: program name and display level for messages, the one isatty test,
 * checked number parsing, progress on stderr.
 */
#ifndef FORMATS_IO_H
#define FORMATS_IO_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "../ggufkit.h"
#include "escape.h"

/* ------------------------------------------------------------------------ */
/* Messages and display levels                                                */
/* ------------------------------------------------------------------------ */

/* Display levels: 0 silent, 1 errors, 2 normal (default), 3 verbose, 4 debug. */
void fmt_set_progname(const char *name);
const char *fmt_progname(void);
void fmt_set_display_level(int level);
int fmt_display_level(void);

/* Print "prog: " + formatted text + newline to stderr when level <= the
 * display level. */
void fmt_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "prog: FILE: message" on stderr at level 1 (errors); file NULL gives
 * "prog: message". A progress line on screen is cleared first. Every
 * message (fmt_log too) passes through fmt_escape_term (formats/escape.h)
 * and is cut at 4 KiB. */
void fmt_error(const char *file, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Format "FILE: message" into buf[cap] for a module's detail message,
 * escaped by fmt_escape_term (names come from untrusted files). */
void fmt_vformat_errmsg(char *buf, size_t cap, const char *file, const char *fmt, va_list ap);

/* isatty() that tests can fake: GGUFKIT_FAKE_TTY="stdin,stdout,stderr" (any
 * subset) makes those fds count as terminals, GGUFKIT_FAKE_TTY=none none.
 * When the variable is set it alone decides for fds 0..2 (unlisted ones are
 * not terminals); other fds always use the real isatty(). */
int fmt_isatty(int fd);

/* 1 if path is the stdin/stdout sentinel "-". */
int fmt_is_stdio(const char *path);

/* A main's last call: flush stdout and return rc, or, when what the
 * program printed could not all be written (a full disk, a closed pipe),
 * print "prog: -: write failed: <strerror>" and return 2 (an I/O error,
 * whatever rc was), so that truncated output never looks like success. */
int fmt_stdout_finish(int rc);

/* ------------------------------------------------------------------------ */
/* Checked parsing for options                                                */
/* ------------------------------------------------------------------------ */

/* Whole-string unsigned decimal; GK_E_USAGE on junk, sign or overflow. */
gk_status fmt_parse_u64(const char *s, uint64_t *out);
/* Size with optional K/M/G/T suffix (powers of 1024, optional "B"/"iB"). */
gk_status fmt_parse_size(const char *s, uint64_t *out);
/* Whole-string finite double. */
gk_status fmt_parse_double(const char *s, double *out);
/* Thread count for -j: 0 or "auto" means all online cores. */
gk_status fmt_parse_jobs(const char *s, int *out);
int fmt_online_cpus(void);

/* ------------------------------------------------------------------------ */
/* Input                                                                      */
/* ------------------------------------------------------------------------ */

typedef struct fmt_input fmt_input;

typedef struct {
    int allow_tty;          /* accept a terminal on stdin (default: refuse) */
    int no_mmap;            /* use pread even for regular files */
    uint64_t zstd_max_size; /* decompressed-size limit; 0 = default (1 TiB) */
    int regular_only;       /* refuse all but a regular file (GK_E_IO "not a regular
                               file"): for names that came from a file, not the user */
} fmt_input_opts;
/* Env GGUFKIT_ZSTD_MAX (a size as fmt_parse_size takes it) may lower the
 * zstd limit; going past it is GK_E_FORMAT "zstd data expands past the
 * limit of N bytes". Truncated or corrupt zstd data is GK_E_FORMAT with the
 * compressed byte offset. Read failures are GK_E_IO "read error: ...". */

/* Open path ("-" = stdin). opts may be NULL. On failure returns NULL, sets
 * *st and, when errmsg is non-NULL, copies a message into errmsg[errcap]. */
fmt_input *fmt_input_open(const char *path, const fmt_input_opts *opts, gk_status *st, char *errmsg,
                          size_t errcap);

/* Open path read-only only when it is a regular file, without waiting on
 * a FIFO (opened O_NONBLOCK, checked with fstat, then made blocking again):
 * for every file whose name came from another file (a split set's sibling,
 * an index's shard, a manifest line) or a directory listing. *fd gets the
 * descriptor (close-on-exec; the caller closes it). Failures: GK_E_IO
 * "cannot open: ...", "cannot stat: ...", "not a regular file"; the message
 * (without the path) goes to errmsg[errcap] when non-NULL. */
gk_status fmt_open_regular(const char *path, int *fd, char *errmsg, size_t errcap);

/* Confinement of names read from a file: path (a name already joined to
 * dir) must resolve, symlinks followed, to an entry directly inside dir
 * (anywhere below it with FMT_INSIDE_DEEP), or directly inside the blobs
 * directory when dir is a Hugging Face hub cache snapshot
 * (models--X/snapshots/REV, whose files link to ../../blobs/HASH).
 * GK_OK inside; GK_E_FORMAT "resolves outside its directory"; GK_E_IO when path or
 * dir cannot be resolved ("does not exist" for ENOENT, else strerror). The
 * message goes to errmsg[errcap] when non-NULL. */
enum { FMT_INSIDE_DEEP = 1 };
gk_status fmt_path_inside(const char *dir, const char *path, unsigned flags, char *errmsg,
                          size_t errcap);

/* Display name: the path, or "(stdin)". Valid until close. */
const char *fmt_input_name(const fmt_input *in);

/* 1 when the input is a mapped regular file (or was spilled and mapped). */
int fmt_input_is_mapped(const fmt_input *in);

/* Whole mapped contents, or NULL when not mapped. Valid until close. */
const uint8_t *fmt_input_data(const fmt_input *in);

/* Copy n bytes at offset off of a mapped input into buf; safe to call from
 * several threads at once. A plain file is read with pread: the kernel's
 * copy streams the page cache faster than a user-space pass over the
 * mapping, which faults and walks 4 KiB pages (gguf-verify hash of 627 MB:
 * 0.12 s against 0.14 s). A spilled stream is copied from the mapping.
 * Returns 0, or an errno value (EIO when the file ends early). */
int fmt_input_copy_at(const fmt_input *in, uint64_t off, void *buf, size_t n);

/* Total size when known (regular or spilled file), else UINT64_MAX. */
uint64_t fmt_input_size(const fmt_input *in);

/* 1 when the input was zstd-compressed. */
int fmt_input_is_zstd(const fmt_input *in);

/* Sequential read of up to n bytes; *got < n only at end of input. */
gk_status fmt_input_read(fmt_input *in, void *buf, size_t n, size_t *got);

/* Sequential read of exactly n bytes; GK_E_FORMAT "unexpected end of file
 * (at byte N)" when the input ends first, N being where it ended (the
 * partial bytes are consumed). */
gk_status fmt_input_read_exact(fmt_input *in, void *buf, size_t n);

/* Skip n bytes forward (reads and discards on pipes). */
gk_status fmt_input_skip(fmt_input *in, uint64_t n);

/* Bytes consumed by sequential reads so far. */
uint64_t fmt_input_tell(const fmt_input *in);

/* Random-access read at absolute offset (does not move the sequential
 * position); past the end: GK_E_FORMAT "unexpected end of file (at byte
 * SIZE)". On a pipe or zstd stream, the first call spills the whole logical
 * stream (what was read already plus the rest) to an unlinked temp file in
 * $TMPDIR (default /tmp; O_TMPFILE where the file system has it, so no exit
 * path leaves a name behind) and maps it; offsets stay logical (decompressed)
 * offsets. A pipe keeps the raw bytes it has delivered in memory for this,
 * up to 64 MiB: after more than that was read, spilling fails with
 * GK_E_UNSUPPORTED. */
gk_status fmt_input_pread(fmt_input *in, void *buf, size_t n, uint64_t off);

/* Force random access now (spilling a stream as above); afterwards
 * fmt_input_data() and fmt_input_size() are valid. */
gk_status fmt_input_make_seekable(fmt_input *in);

/* Detail of the last failure. Never NULL. */
const char *fmt_input_errmsg(const fmt_input *in);

/* Close and free; accepts NULL. */
void fmt_input_close(fmt_input *in);

/* ------------------------------------------------------------------------ */
/* File mappings                                                              */
/* ------------------------------------------------------------------------ */

/* A read-only private mapping of a whole file. A file that shrinks while
 * mapped turns reads past its new end into SIGBUS: every mapping made here
 * is watched, and such a fault removes the registered temp outputs, prints
 * "prog: NAME: input file shrank while reading; no output written" and
 * exits 2 (see fmt_signals_init). A zeroed record is "not mapped". */
typedef struct {
    const uint8_t *data; /* size bytes, valid until fmt_unmap; never NULL once mapped */
    size_t size;
} fmt_map;

enum {
    FMT_MAP_SEQUENTIAL = 1 /* the bytes will be read once, front to back */
};

/* Map the whole regular file at path (the descriptor is not kept). Refuses
 * anything else with GK_E_IO "not a regular file"; an empty file gives a
 * non-NULL data of size 0. Failures: GK_E_IO "cannot open: ...", "cannot
 * stat: ...", "cannot map: ...", GK_E_UNSUPPORTED "file too large to map";
 * the message (without the path) goes to errmsg[errcap] when non-NULL. */
gk_status fmt_map_file(const char *path, unsigned flags, fmt_map *m, char *errmsg, size_t errcap);

/* Map the first size bytes of fd, a regular file the caller has checked;
 * name is the file named in the SIGBUS message. Failures as above. */
gk_status fmt_map_fd(int fd, uint64_t size, const char *name, unsigned flags, fmt_map *m,
                     char *errmsg, size_t errcap);

/* Unmap and zero the record; accepts a zeroed record. */
void fmt_unmap(fmt_map *m);

/* Drop the pages wholly inside [p, p + n) of a read-only file mapping from
 * memory, so that resident memory stays bounded by the data in use. The
 * partial pages at both ends are kept; a dropped page that is read again is
 * simply faulted back in from the file. */
void fmt_release_pages(const void *p, size_t n);

/* ------------------------------------------------------------------------ */
/* Output                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct fmt_output fmt_output;

typedef struct {
    int force;                 /* overwrite an existing file; allow binary to a tty */
    int zstd_level;            /* 0 = plain output, else zstd level 1..19 */
    int zstd_threads;          /* zstd worker threads (0 = single-threaded) */
    const char *const *inputs; /* NULL-terminated paths the output must not be
                                  ("-": the file stdin reads, if any) */
} fmt_output_opts;

/* Open path ("-" = stdout) for writing. A file is written as PATH.tmp.XXXXXX
 * in the same directory and appears only on fmt_output_commit(). Refuses:
 * an existing file without force (GK_E_EXISTS), any of opts->inputs (same
 * device+inode, even with force; also for stdout redirected to a file),
 * binary to a terminal without force (GK_E_USAGE). An existing device or
 * FIFO (-o /dev/null) is written in place, without force. Write failures:
 * GK_E_PIPE "broken pipe", else GK_E_IO "write failed: <strerror>"; after
 * any failure the temp file is already removed. */
fmt_output *fmt_output_open(const char *path, const fmt_output_opts *opts, gk_status *st,
                            char *errmsg, size_t errcap);

gk_status fmt_output_write(fmt_output *out, const void *buf, size_t n);
gk_status fmt_output_write_zeros(fmt_output *out, size_t n);

/* Bytes written so far (before compression). */
uint64_t fmt_output_tell(const fmt_output *out);

/* Finish: flush, fsync and rename into place (stdout: flush). After a
 * failure the temp file is gone. */
gk_status fmt_output_commit(fmt_output *out);

/* Commit the n files of a set (split shards, a model and its side files)
 * all or none: every file is flushed and synced first, then all are
 * renamed; when one fails, the ones already renamed are removed again, and
 * a SIGINT/SIGTERM/SIGHUP until the last rename removes them too. The
 * failing output's fmt_output_errmsg() says why (the others' stay ""). */
gk_status fmt_output_commit_all(fmt_output *const *outs, size_t n);

/* Detail of the last failure. Never NULL. */
const char *fmt_output_errmsg(const fmt_output *out);

/* Free; when not committed, the temp file is removed. Accepts NULL. */
void fmt_output_close(fmt_output *out);

/* ------------------------------------------------------------------------ */
/* Signals                                                                    */
/* ------------------------------------------------------------------------ */

/* Install SIGINT/SIGTERM/SIGHUP handlers that remove the registered paths
 * and then re-raise the signal with its default action (the process dies
 * by that signal: a shell reports 128+signal, 130 for SIGINT). SIGPIPE and
 * SIGXFSZ are ignored, so writes fail with EPIPE (GK_E_PIPE, exit 2) or
 * EFBIG and the output's error path removes its temp file. A signal that
 * was ignored at program start stays ignored. Called by fmt_output_open;
 * idempotent. */
void fmt_signals_init(void);

/* Register/unregister a path for removal on a fatal signal. The handler
 * unlinks every registered path, then rmdirs them newest first: for an
 * output directory register the directory first, then each file in it as
 * it is created (no recursive removal). At most 2048 paths are registered
 * at a time (further ones are not tracked); relative paths are made
 * absolute at registration. Used by fmt_output and by programs that build
 * an output directory (gguf2onnx). */
void fmt_cleanup_register(const char *path);
void fmt_cleanup_unregister(const char *path);

/* ------------------------------------------------------------------------ */
/* Progress (stderr, only when it is a terminal, at most 6 updates/second)    */
/* ------------------------------------------------------------------------ */

typedef struct fmt_progress fmt_progress;

/* mode: -1 auto (tty and display level >= 2), 0 off, 1 on. NULL when off.
 * The line reads "label  i/n  pct%  R MB/s  ETA m:ss  name": i/n and name
 * once fmt_progress_item was called, the rate over the time since start.
 * Every function accepts NULL (progress off) and is thread-safe. */
fmt_progress *fmt_progress_start(const char *label, uint64_t total, int mode);
/* Bytes done so far (of total); drawn at most 6 times a second. */
void fmt_progress_update(fmt_progress *p, uint64_t done);
/* The item now worked on: i of n (1-based), name[0..len) (borrowed; a name
 * from a file: shown through fmt_escape_term, cut). Shown at the next
 * update. */
void fmt_progress_item(fmt_progress *p, uint64_t i, uint64_t n, const char *name, size_t len);
void fmt_progress_end(fmt_progress *p); /* accepts NULL */

#endif
