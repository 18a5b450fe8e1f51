/*
 * Candidate pairs for the evaluation, built exactly from the matcher's
 * blocking keys: what the evaluation measures is what a server would see.
 */
#include "pairs.h"

#include "score.h"

#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    return x ^ (x >> 33);
}

static int grow(struct pair_set *s)
{
    struct pair_set g = {NULL, s->cap ? s->cap * 2 : 4096, 0};

    if ((g.slot = calloc(g.cap, sizeof(uint64_t))) == NULL)
        return -1;
    for (size_t k = 0; k < s->cap; k++) {
        size_t i;

        if (s->slot[k] == 0)
            continue;
        for (i = mix(s->slot[k]) & (g.cap - 1); g.slot[i]; i = (i + 1) & (g.cap - 1))
            ;
        g.slot[i] = s->slot[k];
        g.n++;
    }
    free(s->slot);
    *s = g;
    return 0;
}

int pairs_set_add(struct pair_set *s, uint32_t a, uint32_t b)
{
    uint64_t key = ((uint64_t)(a < b ? a : b) << 32 | (a < b ? b : a)) + 1;
    size_t i;

    if ((s->n + 1) * 2 > s->cap && grow(s) < 0)
        return -1;
    for (i = mix(key) & (s->cap - 1); s->slot[i]; i = (i + 1) & (s->cap - 1))
        if (s->slot[i] == key)
            return 0;
    s->slot[i] = key;
    s->n++;
    return 1;
}

void pairs_set_free(struct pair_set *s)
{
    free(s->slot);
    memset(s, 0, sizeof(*s));
}

struct bentry {
    uint64_t h; /* FNV-1a of the key: collisions only merge blocks, harmlessly */
    uint32_t idx;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int cmp_bentry(const void *x, const void *y)
{
    const struct bentry *a = x, *b = y;

    if (a->h != b->h)
        return a->h < b->h ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static struct bentry *block_entries(const struct match_person *const *p, size_t n, size_t *nb)
{
    struct bentry *be = NULL;
    size_t cap = 0;

    *nb = 0;
    for (size_t i = 0; i < n; i++) {
        char keys[SCORE_MAX_KEYS][SCORE_KEY_MAX];
        size_t k = score_blocking_keys(p[i], keys, SCORE_MAX_KEYS);

        for (size_t j = 0; j < k; j++) {
            if (*nb == cap) {
                struct bentry *nbe = realloc(be, (cap = cap ? cap * 2 : 4096) * sizeof(*nbe));

                if (nbe == NULL) {
                    free(be);
                    return NULL;
                }
                be = nbe;
            }
            be[*nb].h = hash_str(keys[j]);
            be[(*nb)++].idx = (uint32_t)i;
        }
    }
    return be;
}

struct pair *pairs_candidates(const struct match_person *const *p, size_t n, size_t max_block,
                              struct pairs_blocking *st)
{
    size_t nb, cap = 0;
    struct bentry *be = block_entries(p, n, &nb);
    struct pair_set seen = {0};
    struct pair *c = NULL;

    memset(st, 0, sizeof(*st));
    if (be == NULL)
        return NULL;
    qsort(be, nb, sizeof(*be), cmp_bentry);
    for (size_t s = 0, e; s < nb; s = e) {
        for (e = s + 1; e < nb && be[e].h == be[s].h; e++)
            ;
        if (e - s > st->largest)
            st->largest = e - s;
        if (max_block && e - s > max_block) {
            st->skipped++;
            continue;
        }
        for (size_t x = s; x < e; x++)
            for (size_t y = x + 1; y < e; y++) {
                int added = pairs_set_add(&seen, be[x].idx, be[y].idx);

                if (added < 0)
                    goto oom;
                if (added == 0)
                    continue;
                if (st->candidates == cap) {
                    struct pair *nc = realloc(c, (cap = cap ? cap * 2 : 4096) * sizeof(*nc));

                    if (nc == NULL)
                        goto oom;
                    c = nc;
                }
                c[st->candidates++] = (struct pair){be[x].idx, be[y].idx, 0, 0, 0};
            }
    }
    free(be);
    pairs_set_free(&seen);
    return c;
oom:
    free(be);
    free(c);
    pairs_set_free(&seen);
    st->candidates = 0;
    return NULL;
}

static int cmp_long(const void *x, const void *y)
{
    long a = *(const long *)x, b = *(const long *)y;

    return a < b ? -1 : a > b;
}

uint64_t pairs_equal(long *v, size_t n)
{
    uint64_t p = 0;

    qsort(v, n, sizeof(*v), cmp_long);
    for (size_t s = 0, e; s < n; s = e) {
        for (e = s + 1; e < n && v[e] == v[s]; e++)
            ;
        p += (uint64_t)(e - s) * (e - s - 1) / 2;
    }
    return p;
}
