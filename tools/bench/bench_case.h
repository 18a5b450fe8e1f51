/*
 * Realistic generated cases for ritra-bench: Colombian and Venezuelan
 * persons with accented names and surname particles, cédula numbers,
 * +57 phones, trafficking events in Colombian cities and abroad, and a
 * Spanish summary. Every case passes the server's validation.
 *
 * A case is deterministic in (seed, external_ref): the same arguments give
 * the same bytes, so runs are repeatable.
 */
#ifndef BENCH_CASE_H
#define BENCH_CASE_H

#include <stdint.h>

#include "ritra.pb-c.h"

struct bench_case;

/* Builds one case with the given external_ref (copied). persons 0 gives the
 * usual mix (1 victim, 1-2 suspects, sometimes a witness); otherwise exactly
 * that many persons, the first a victim. Never returns NULL (aborts when
 * out of memory). */
struct bench_case *bench_case_new(uint64_t seed, const char *external_ref, int persons);

/* The case; valid until bench_case_free(). */
const Ritra__Case *bench_case_msg(const struct bench_case *bc);

/* NULL-safe. */
void bench_case_free(struct bench_case *bc);

#endif
