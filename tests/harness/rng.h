/*
 * The seeded generator of the test programs and vkindex-bench (splitmix64): the same seed
 * gives the same numbers everywhere, so a failure or a benchmark input can be replayed.
 */
#ifndef VKI_TESTS_RNG_H
#define VKI_TESTS_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct test_rng { uint64_t state; } test_rng;
uint64_t rng_next(test_rng *r);
/* Uniform in [0, n) (n > 0). */
int64_t rng_below(test_rng *r, int64_t n);
void rng_fill(test_rng *r, void *buf, size_t bytes);

#endif
