/* splitmix64 (see rng.h). */
#include "rng.h"

#include <string.h>

uint64_t rng_next(test_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int64_t rng_below(test_rng *r, int64_t n)
{
    return (int64_t)(rng_next(r) % (uint64_t)n);
}

void rng_fill(test_rng *r, void *buf, size_t bytes)
{
    unsigned char *p = buf;
    for (size_t i = 0; i < bytes; i += 8) {
        uint64_t v = rng_next(r);
        memcpy(p + i, &v, bytes - i < 8 ? bytes - i : 8);
    }
}
