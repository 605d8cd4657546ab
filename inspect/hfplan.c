/*
 * hfplan.c -- gguf-inspect --mem on a Hugging Face directory: the header of
 * the GGUF hf2gguf would write, read from the hf2gguf program itself.
 *
 * inspect/ sits below the converters and may not include hf2gguf's engine
 * (docs/ARCHITECTURE.md, scripts/check-layers), so it runs the program:
 * `hf2gguf --header-only -o - DIR` (the sibling of this executable, else
 * the first on PATH; posix_spawn, no shell), which writes the keys and
 * tensor infos of its output and no tensor data, and reads that stream from
 * a pipe as any GGUF stream is read (formats/io, formats/gguf). Neither
 * process reads a weight. The child's stderr goes to an unlinked temp file
 * (no pipe to deadlock on); when it fails, its message becomes ours.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inspect_internal.h"

extern char **environ;

#define CHILD_ERR_MAX 2048   /* bytes of the child's stderr kept for the message */
#define DRAIN_MAX (1u << 20) /* bytes after the header a well-behaved child never writes */

/* The hf2gguf beside /proc/self/exe into buf, 1; else 0 (use PATH). */
static int sibling_hf2gguf(char *buf, size_t cap) {
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return 0;
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (!slash)
        return 0;
    *slash = 0;
    struct stat sb;
    return snprintf(buf, cap, "%s/hf2gguf", self) < (int)cap && stat(buf, &sb) == 0 &&
           S_ISREG(sb.st_mode) && access(buf, X_OK) == 0;
}

/* Run hf2gguf for dir with its stdout on *out_fd (the read end of a pipe)
 * and its stderr into errf. */
static gk_status spawn_hf2gguf(const char *dir, int f16, FILE *errf, pid_t *pid, int *out_fd,
                               char *err, size_t cap) {
    char path[4200];
    int sibling = sibling_hf2gguf(path, sizeof path);
    char *const argv[] = {
        sibling ? path : "hf2gguf", "-q", "--no-progress", "-j", "1", "--header-only",
        /* memory does not depend on the pre-tokenizer, which hf2gguf
         * --pre chooses anyway: name one so none is detected */
        "--pre", "default", "--outtype", f16 ? "f16" : "auto", "-o", "-", "--", (char *)dir, NULL};
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(err, cap, "cannot make a pipe: %s", strerror(errno));
        return GK_E_IO;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t def;
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE); /* gguf-inspect ignores it; hf2gguf expects the default */
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fileno(errf), 2);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    int rc = sibling ? posix_spawn(pid, path, &fa, &attr, argv, environ)
                     : posix_spawnp(pid, "hf2gguf", &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        if (rc == ENOENT)
            snprintf(err, cap,
                     "--mem on a Hugging Face directory plans the GGUF hf2gguf would "
                     "write, and hf2gguf is neither beside gguf-inspect nor on PATH");
        else
            snprintf(err, cap, "cannot run %s: %s", argv[0], strerror(rc));
        return GK_E_IO;
    }
    *out_fd = fds[0];
    return GK_OK;
}

/* Read the rest of the child's stdout (nothing, or the header's padding)
 * so that it never writes into a closed pipe; 0 when it stopped in time. */
static int drain(int fd) {
    char buf[4096];
    size_t total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        if ((total += (size_t)n) > DRAIN_MAX)
            return -1;
    }
}

/* The child's message: its stderr, lines without their "hf2gguf: " prefix,
 * joined by "; ", control bytes escaped later by fmt_error. */
static void child_message(FILE *errf, char *msg, size_t cap) {
    char buf[CHILD_ERR_MAX + 1];
    size_t n = 0, len = 0;
    if (fseek(errf, 0, SEEK_SET) == 0)
        n = fread(buf, 1, CHILD_ERR_MAX, errf);
    buf[n] = 0;
    msg[0] = 0;
    for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "hf2gguf: ", 9) == 0)
            line += 9;
        if (!*line)
            continue;
        int k = snprintf(msg + len, cap - len, "%s%s", len ? "; " : "", line);
        if (k < 0 || (size_t)k >= cap - len)
            break;
        len += (size_t)k;
    }
}

gk_status insp_hf_header(const char *dir, int f16, fmt_input **in, fmt_gguf **g, gk_error *e) {
    char err[sizeof e->msg] = "", fdpath[64];
    gk_status st;
    pid_t pid = -1;
    int fd = -1, status = 0;
    *in = NULL, *g = NULL;
    FILE *errf = tmpfile();
    if (!errf)
        return gk_error_set(e, GK_E_IO, NULL, "cannot make a temp file: %s", strerror(errno));
    fcntl(fileno(errf), F_SETFD, FD_CLOEXEC);
    if ((st = spawn_hf2gguf(dir, f16, errf, &pid, &fd, err, sizeof err)) != GK_OK) {
        fclose(errf);
        return gk_error_set(e, st, dir, "%s", err);
    }
    /* the pipe's read end as a stream input, as "-" would be */
    snprintf(fdpath, sizeof fdpath, "/dev/fd/%d", fd);
    if ((*in = fmt_input_open(fdpath, NULL, &st, err, sizeof err)) != NULL &&
        !(*g = fmt_gguf_open(*in, &st)))
        snprintf(err, sizeof err, "%s", fmt_gguf_open_errmsg());
    int overlong = drain(fd);
    if (overlong)
        kill(pid, SIGKILL);
    close(fd);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok) { /* the child's reason comes first: the stream then ended early */
        child_message(errf, err, sizeof err);
        if (!err[0] && WIFSIGNALED(status))
            snprintf(err, sizeof err, "hf2gguf was killed by signal %d", WTERMSIG(status));
        else if (!err[0])
            snprintf(err, sizeof err, "hf2gguf failed (exit %d)", WEXITSTATUS(status));
        st = GK_E_FORMAT;
    } else if (st == GK_OK && !*g) {
        st = GK_E_FORMAT;
    }
    fclose(errf);
    if (st == GK_OK && *g) {
        gk_error_clear(e);
        return GK_OK;
    }
    fmt_gguf_close(*g);
    fmt_input_close(*in);
    *in = NULL, *g = NULL;
    if (!ok) /* hf2gguf's message names its file ("DIR/config.json: ...") */
        return gk_error_set(e, st, NULL, "%s", err);
    return gk_error_set(e, st, dir, "hf2gguf's header: %s", err);
}
