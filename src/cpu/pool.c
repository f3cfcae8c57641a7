/*
 * The CPU backend's worker pool (see pool.h). One generation counter per job: workers wake
 * when it changes, run their part, and the last one to finish wakes the caller.
 */
#include "pool.h"
#include "../fault.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

struct vki_pool {
    int threads;
    int started;               /* workers running (threads - 1 once started) */
    pthread_t *workers;
    pthread_mutex_t mutex;
    pthread_cond_t wake, done;
    uint64_t generation;
    int parts, pending;
    bool stop;
    vki_pool_fn fn;
    void *arg;
};

typedef struct worker_arg {
    vki_pool *pool;
    int part;
} worker_arg;

static void *worker_main(void *p)
{
    worker_arg *wa = p;
    vki_pool *pool = wa->pool;
    const int part = wa->part;
    free(wa);
    uint64_t seen = 0;
    pthread_mutex_lock(&pool->mutex);
    for (;;) {
        while (!pool->stop && pool->generation == seen)
            pthread_cond_wait(&pool->wake, &pool->mutex);
        if (pool->stop)
            break;
        seen = pool->generation;
        if (part < pool->parts) {
            vki_pool_fn fn = pool->fn;
            void *arg = pool->arg;
            int parts = pool->parts;
            pthread_mutex_unlock(&pool->mutex);
            fn(arg, part, parts);
            pthread_mutex_lock(&pool->mutex);
            if (--pool->pending == 0)
                pthread_cond_signal(&pool->done);
        }
    }
    pthread_mutex_unlock(&pool->mutex);
    return NULL;
}

vki_pool *vki_pool_create(int threads)
{
    vki_pool *pool = vki_calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    pool->threads = threads < 1 ? 1 : threads;
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->done, NULL);
    return pool;
}

int vki_pool_threads(const vki_pool *pool)
{
    return pool->threads;
}

static void start_workers(vki_pool *pool)
{
    pool->workers = vki_calloc((size_t)pool->threads, sizeof *pool->workers);
    if (!pool->workers)
        return;
    for (int k = 1; k < pool->threads; k++) {
        worker_arg *wa = vki_malloc(sizeof *wa);
        if (!wa)
            return;
        wa->pool = pool;
        wa->part = k;
        if (pthread_create(&pool->workers[k], NULL, worker_main, wa) != 0) {
            free(wa);
            return;
        }
        pool->started++;
    }
}

void vki_pool_run(vki_pool *pool, vki_pool_fn fn, void *arg, int parts)
{
    /* Started once; if some threads could not be created, run on those that were. */
    if (parts > 1 && !pool->workers)
        start_workers(pool);
    if (parts > pool->started + 1)
        parts = pool->started + 1;
    if (parts <= 1) {
        fn(arg, 0, 1);
        return;
    }
    pthread_mutex_lock(&pool->mutex);
    pool->fn = fn;
    pool->arg = arg;
    pool->parts = parts;
    pool->pending = parts - 1;
    pool->generation++;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
    fn(arg, 0, parts);
    pthread_mutex_lock(&pool->mutex);
    while (pool->pending > 0)
        pthread_cond_wait(&pool->done, &pool->mutex);
    pthread_mutex_unlock(&pool->mutex);
}

void vki_pool_destroy(vki_pool *pool)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pool->mutex);
    pool->stop = true;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
    for (int k = 1; k <= pool->started; k++)
        pthread_join(pool->workers[k], NULL);
    free(pool->workers);
    pthread_mutex_destroy(&pool->mutex);
    pthread_cond_destroy(&pool->wake);
    pthread_cond_destroy(&pool->done);
    free(pool);
}
