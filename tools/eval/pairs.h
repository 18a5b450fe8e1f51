/*
 * Pair bookkeeping for the linkage evaluation: a set of record pairs,
 * candidate generation by blocking keys, and pair counting.
 */
#ifndef RITRA_EVAL_PAIRS_H
#define RITRA_EVAL_PAIRS_H

#include <stddef.h>
#include <stdint.h>

#include "compare.h"

/* Pairs of record indexes, open addressing over (low << 32 | high) + 1. */
struct pair_set {
    uint64_t *slot;
    size_t cap, n;
};

/* A candidate pair and what the scorer made of it. */
struct pair {
    uint32_t a, b;
    float weight;
    unsigned char cls, caps;
};

/* Adds {a, b}: 1 when new, 0 when already there, -1 when out of memory. */
int pairs_set_add(struct pair_set *s, uint32_t a, uint32_t b);

/* Frees the set's storage; the set is empty afterwards. */
void pairs_set_free(struct pair_set *s);

struct pairs_blocking {
    size_t candidates; /* distinct pairs */
    size_t largest;    /* records in the largest block */
    size_t skipped;    /* blocks above max_block, not expanded */
};

/* Every distinct pair of the n persons sharing a score_blocking_keys() key;
 * blocks above max_block (0: no limit) are skipped, as a server would. Returns
 * a malloc'd array of st->candidates pairs (NULL when there are none or when
 * out of memory: st->candidates tells them apart). */
struct pair *pairs_candidates(const struct match_person *const *p, size_t n, size_t max_block,
                              struct pairs_blocking *st);

/* Pairs of equal values in v, which it sorts: the sum of C(run, 2). */
uint64_t pairs_equal(long *v, size_t n);

#endif
