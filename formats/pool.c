/*
 * pool.c -- the thread pool (see pool.h).
 *
 * Workers park on `wake` between runs. A run is begun by the caller, which
 * publishes the worker's part (part, cur) and bumps `run`; every worker
 * calls part once per run, and the caller waits on `idle` until the last
 * one has left. The parallel-for hands out job indices with an atomic
 * counter; the ordered mode keeps its ring under the pool's mutex (chunks
 * are large, so the lock is cheap).
 */
#include "formats/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

typedef struct {
    fmt_pool *p;
    int self; /* participant number, 1.. (0 is the caller) */
    pthread_t tid;
} worker;

struct fmt_pool {
    pthread_mutex_t mu;
    pthread_cond_t wake;   /* workers: a run began, or quit */
    pthread_cond_t idle;   /* caller: the last worker left the run */
    pthread_cond_t filled; /* ordered mode, caller: a chunk was filled */
    pthread_cond_t space;  /* ordered mode, workers: a buffer is free, or stop */
    worker *w;
    int n_workers; /* started */
    int quit;
    uint64_t run; /* runs begun */
    int busy;     /* workers still inside the current run */
    void (*part)(fmt_pool *p, int self);
    void *cur;      /* the current run's state */
    void **scratch; /* n_scratch: one per participant, or none */
    int n_scratch;
};

static void *work(void *arg) {
    worker *w = arg;
    fmt_pool *p = w->p;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->run == seen)
            pthread_cond_wait(&p->wake, &p->mu);
        if (p->quit)
            break;
        seen = p->run;
        pthread_mutex_unlock(&p->mu);
        p->part(p, w->self);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0)
            pthread_cond_signal(&p->idle);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void begin(fmt_pool *p, void (*part)(fmt_pool *, int), void *cur) {
    pthread_mutex_lock(&p->mu);
    p->part = part;
    p->cur = cur;
    p->busy = p->n_workers;
    p->run++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
}

static void finish(fmt_pool *p) {
    pthread_mutex_lock(&p->mu);
    while (p->busy > 0)
        pthread_cond_wait(&p->idle, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

static void *scratch_of(const fmt_pool *p, int self) {
    return p->scratch ? p->scratch[self] : NULL;
}

fmt_pool *fmt_pool_new(int nthreads, size_t scratch_bytes, gk_status *st) {
    if (nthreads < 1)
        nthreads = 1;
    fmt_pool *p = calloc(1, sizeof *p);
    if (!p)
        goto nomem;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->idle, NULL);
    pthread_cond_init(&p->filled, NULL);
    pthread_cond_init(&p->space, NULL);
    if (scratch_bytes) {
        if (!(p->scratch = calloc((size_t)nthreads, sizeof *p->scratch)))
            goto nomem;
        p->n_scratch = nthreads;
        for (int i = 0; i < nthreads; i++)
            if (!(p->scratch[i] = malloc(scratch_bytes)))
                goto nomem;
    }
    if (nthreads > 1 && !(p->w = calloc((size_t)nthreads - 1, sizeof *p->w)))
        goto nomem;
    for (int i = 0; i < nthreads - 1; i++) {
        p->w[i] = (worker){.p = p, .self = i + 1};
        if (pthread_create(&p->w[i].tid, NULL, work, &p->w[i]) != 0)
            break; /* the others take its share */
        p->n_workers++;
    }
    *st = GK_OK;
    return p;
nomem:
    fmt_pool_free(p);
    *st = GK_E_NOMEM;
    return NULL;
}

int fmt_pool_threads(const fmt_pool *p) {
    return p->n_workers + 1;
}

void fmt_pool_free(fmt_pool *p) {
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n_workers; i++)
        pthread_join(p->w[i].tid, NULL);
    for (int i = 0; i < p->n_scratch; i++)
        free(p->scratch[i]);
    free(p->scratch);
    free(p->w);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->idle);
    pthread_cond_destroy(&p->filled);
    pthread_cond_destroy(&p->space);
    free(p);
}

/* ------------------------------------------------------------------------ */
/* Parallel-for                                                               */
/* ------------------------------------------------------------------------ */

typedef struct {
    fmt_pool_job_fn fn;
    void *ctx;
    uint64_t n;
    _Atomic uint64_t next;
    atomic_int stopped;
    uint64_t fail_at; /* lowest failing job, under the pool's mutex */
    gk_status fail_st;
} for_run;

static void for_part(fmt_pool *p, int self) {
    for_run *r = p->cur;
    void *scratch = scratch_of(p, self);
    while (!atomic_load_explicit(&r->stopped, memory_order_relaxed)) {
        uint64_t i = atomic_fetch_add(&r->next, 1);
        if (i >= r->n)
            break;
        gk_status st = r->fn(r->ctx, i, scratch);
        if (st == GK_OK)
            continue;
        pthread_mutex_lock(&p->mu);
        if (i < r->fail_at) {
            r->fail_at = i;
            r->fail_st = st;
        }
        pthread_mutex_unlock(&p->mu);
        atomic_store(&r->stopped, 1);
    }
}

gk_status fmt_pool_for(fmt_pool *p, uint64_t n_jobs, fmt_pool_job_fn fn, void *ctx) {
    for_run r = {.fn = fn, .ctx = ctx, .n = n_jobs, .fail_at = UINT64_MAX, .fail_st = GK_OK};
    atomic_init(&r.next, 0);
    atomic_init(&r.stopped, 0);
    p->cur = &r;
    if (n_jobs > 1 && p->n_workers > 0) {
        begin(p, for_part, &r);
        for_part(p, 0);
        finish(p);
    } else {
        for_part(p, 0); /* no worker to wake */
    }
    return r.fail_st;
}

gk_status fmt_pool_run(int nthreads, uint64_t n_jobs, fmt_pool_job_fn fn, void *ctx) {
    if ((uint64_t)nthreads > n_jobs)
        nthreads = (int)n_jobs;
    gk_status st;
    fmt_pool *p = nthreads > 1 ? fmt_pool_new(nthreads, 0, &st) : NULL;
    if (p) {
        st = fmt_pool_for(p, n_jobs, fn, ctx);
        fmt_pool_free(p);
        return st;
    }
    for (uint64_t i = 0; i < n_jobs; i++)
        if ((st = fn(ctx, i, NULL)) != GK_OK)
            return st;
    return GK_OK;
}

/* ------------------------------------------------------------------------ */
/* Ordered output                                                             */
/* ------------------------------------------------------------------------ */

typedef struct {
    void *buf;
    uint64_t ready; /* number + 1 of the chunk filled into buf, 0 when free */
    gk_status st;   /* its fill's status */
} slot;

/* Chunk k lives in slot k % n_slots; it may be filled once chunk
 * k - n_slots has been drained. All fields below fill/drain/ctx are under
 * the pool's mutex. */
typedef struct {
    fmt_pool_fill_fn fill;
    fmt_pool_drain_fn drain;
    void *ctx;
    uint64_t n, next, drained; /* chunks; next to fill; drained so far */
    int stop;                  /* no fill may start: one failed, or the caller left */
    size_t n_slots;
    slot *slot;
} ordered_run;

static int can_fill(const ordered_run *r) {
    return !r->stop && r->next < r->n && r->next < r->drained + r->n_slots;
}

/* Called and returns with the mutex held; drops it while filling. */
static void fill_next(fmt_pool *p, ordered_run *r, int self) {
    uint64_t k = r->next++;
    slot *s = &r->slot[k % r->n_slots];
    pthread_mutex_unlock(&p->mu);
    gk_status st = r->fill(r->ctx, k, s->buf, scratch_of(p, self));
    pthread_mutex_lock(&p->mu);
    s->st = st;
    s->ready = k + 1;
    if (st != GK_OK)
        r->stop = 1;
    pthread_cond_signal(&p->filled);
}

static void ordered_part(fmt_pool *p, int self) {
    ordered_run *r = p->cur;
    pthread_mutex_lock(&p->mu);
    while (!r->stop && r->next < r->n) {
        if (can_fill(r))
            fill_next(p, r, self);
        else
            pthread_cond_wait(&p->space, &p->mu);
    }
    pthread_mutex_unlock(&p->mu);
}

/* The caller: drains chunks in order, and fills one whenever the next to
 * drain is not ready and a buffer is free. The chunk it waits for has
 * always been taken by then, so it will be filled. */
static gk_status consume(fmt_pool *p, ordered_run *r) {
    gk_status st = GK_OK;
    pthread_mutex_lock(&p->mu);
    for (uint64_t k = 0; k < r->n && st == GK_OK; k++) {
        slot *s = &r->slot[k % r->n_slots];
        while (s->ready != k + 1) {
            if (can_fill(r))
                fill_next(p, r, 0);
            else
                pthread_cond_wait(&p->filled, &p->mu);
        }
        if ((st = s->st) != GK_OK)
            break;
        pthread_mutex_unlock(&p->mu);
        st = r->drain(r->ctx, k, s->buf);
        pthread_mutex_lock(&p->mu);
        s->ready = 0;
        r->drained = k + 1;
        pthread_cond_broadcast(&p->space);
    }
    r->stop = 1;
    pthread_cond_broadcast(&p->space);
    pthread_mutex_unlock(&p->mu);
    return st;
}

gk_status fmt_pool_ordered(fmt_pool *p, uint64_t n_chunks, size_t chunk_bytes,
                           fmt_pool_fill_fn fill, fmt_pool_drain_fn drain, void *ctx) {
    if (n_chunks == 0)
        return GK_OK;
    ordered_run r = {.fill = fill, .drain = drain, .ctx = ctx, .n = n_chunks};
    r.n_slots = 2 * (size_t)fmt_pool_threads(p);
    if (r.n_slots > n_chunks)
        r.n_slots = (size_t)n_chunks;
    gk_status st = (r.slot = calloc(r.n_slots, sizeof *r.slot)) ? GK_OK : GK_E_NOMEM;
    for (size_t i = 0; st == GK_OK && i < r.n_slots; i++)
        if (!(r.slot[i].buf = malloc(chunk_bytes ? chunk_bytes : 1)))
            st = GK_E_NOMEM;
    if (st == GK_OK && n_chunks > 1 && p->n_workers > 0) {
        begin(p, ordered_part, &r);
        st = consume(p, &r);
        finish(p);
    } else if (st == GK_OK) {
        st = consume(p, &r);
    }
    for (size_t i = 0; r.slot && i < r.n_slots; i++)
        free(r.slot[i].buf);
    free(r.slot);
    return st;
}
