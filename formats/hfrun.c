/*
 * hfrun.c -- runs hf2gguf on a Hugging Face directory with its stdout on a
 * pipe. The child's stderr goes to an unlinked temp file (no second pipe
 * to deadlock on); when it fails, its message becomes the caller's.
 */
#include "formats/hfrun.h"

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

#include "formats/io.h"

extern char **environ;

#define CHILD_ERR_MAX 2048 /* bytes of the child's stderr kept for the message */
#define ARGS_MAX 32        /* caller's arguments */

struct fmt_hfrun {
    pid_t pid;
    int fd;     /* read end of the child's stdout */
    FILE *errf; /* the child's stderr */
};

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

static int spawn(fmt_hfrun *h, const char *path, int sibling, char *const argv[], int out) {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t def;
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE); /* our programs ignore it; hf2gguf expects the default */
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out, 1);
    posix_spawn_file_actions_adddup2(&fa, fileno(h->errf), 2);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    int rc = sibling ? posix_spawn(&h->pid, path, &fa, &attr, argv, environ)
                     : posix_spawnp(&h->pid, "hf2gguf", &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return rc;
}

fmt_hfrun *fmt_hfrun_start(const char *dir, const char *const *args, const char *use, int *fd,
                           char *err, size_t cap) {
    char path[4200];
    char *argv[ARGS_MAX + 8];
    size_t n = 0;
    int sibling = sibling_hf2gguf(path, sizeof path);
    argv[n++] = sibling ? path : "hf2gguf";
    argv[n++] = "-q";
    argv[n++] = "--no-progress";
    for (size_t i = 0; args[i]; i++) {
        if (i == ARGS_MAX) {
            snprintf(err, cap, "too many hf2gguf arguments");
            return NULL;
        }
        argv[n++] = (char *)args[i];
    }
    argv[n++] = "-o", argv[n++] = "-", argv[n++] = "--", argv[n++] = (char *)dir, argv[n] = NULL;
    fmt_hfrun *h = calloc(1, sizeof *h);
    int fds[2] = {-1, -1};
    if (!h || !(h->errf = tmpfile()) || pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(err, cap, "cannot run hf2gguf: %s", strerror(errno));
        if (h && h->errf)
            fclose(h->errf);
        free(h);
        return NULL;
    }
    fcntl(fileno(h->errf), F_SETFD, FD_CLOEXEC);
    int rc = spawn(h, path, sibling, argv, fds[1]);
    close(fds[1]);
    if (rc != 0) {
        if (rc == ENOENT)
            snprintf(err, cap, "%s needs hf2gguf, which is neither beside %s nor on PATH", use,
                     fmt_progname());
        else
            snprintf(err, cap, "cannot run %s: %s", argv[0], strerror(rc));
        close(fds[0]);
        fclose(h->errf);
        free(h);
        return NULL;
    }
    *fd = h->fd = fds[0];
    return h;
}

/* Read the rest of the child's stdout so that it never writes into a
 * closed pipe; 0 when it stopped within max bytes. */
static int drain(int fd, size_t max) {
    char buf[4096];
    size_t total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        if ((total += (size_t)n) > max)
            return -1;
    }
}

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

gk_status fmt_hfrun_finish(fmt_hfrun *h, size_t drain_max, char *err, size_t cap) {
    int status = 0;
    if (drain(h->fd, drain_max))
        kill(h->pid, SIGKILL);
    close(h->fd);
    while (waitpid(h->pid, &status, 0) < 0 && errno == EINTR)
        ;
    gk_status st = GK_OK;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        child_message(h->errf, err, cap);
        if (!err[0] && WIFSIGNALED(status))
            snprintf(err, cap, "hf2gguf was killed by signal %d", WTERMSIG(status));
        else if (!err[0])
            snprintf(err, cap, "hf2gguf failed (exit %d)", WEXITSTATUS(status));
        st = GK_E_FORMAT;
    }
    fclose(h->errf);
    free(h);
    return st;
}
