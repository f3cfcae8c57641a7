/*
 * A small fork-join pool: run(fn, arg) calls fn(arg, part, parts) once for every part in
 * [0, parts) across the workers and the calling thread, and returns when all are done.
 * Workers start on first use, so contexts that only see small calls never spawn threads.
 */
#ifndef VKI_CPU_POOL_H
#define VKI_CPU_POOL_H

#include <stdbool.h>

typedef void (*vki_pool_fn)(void *arg, int part, int parts);
typedef struct vki_pool vki_pool;

vki_pool *vki_pool_create(int threads);
void vki_pool_destroy(vki_pool *pool);
int vki_pool_threads(const vki_pool *pool);
/* Runs fn over `parts` parts (1 <= parts <= threads); fewer parts if some worker threads
 * could not be created. Every part is done when it returns. */
void vki_pool_run(vki_pool *pool, vki_pool_fn fn, void *arg, int parts);

#endif
