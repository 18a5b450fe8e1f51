/*
 * ritra-match-bench (tools/bench/match-speed): matching and SearchPersons
 * at scale. Shared by its three parts:
 *
 *   bench_match.c       main, person records, held-out records, uuids, COPY text
 *   bench_match_load.c  the fixture: colgen persons loaded with COPY
 *   bench_match_run.c   fidelity check, matching, search, the pg_trgm baseline
 */
#ifndef BENCH_MATCH_H
#define BENCH_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "../eval/colgen.h"
#include "match/score.h"
#include "ritra.pb-c.h"

/* Every case, loaded or submitted, names this actor (created_by). */
#define BM_ACTOR "analista.bench"

/* The agencies that own cases, by kind; the search runs as the police. */
#define BM_N_OWNERS 4
extern const char *const bm_owner_codes[BM_N_OWNERS]; /* FGN PONAL MIGRACION ICBF */
#define BM_SEARCHER "PONAL"

/* A held-out record: never loaded, submitted or searched for by `run`. */
enum bm_hold_kind {
    BM_HOLD_MATCH = 1,  /* a duplicate of a loaded identity, to submit */
    BM_HOLD_NEW = 2,    /* a person with no loaded record, to submit */
    BM_HOLD_SEARCH = 3, /* a duplicate of a loaded identity, to search for */
};

struct bm_hold {
    int kind;
    long entity;
    char identity[37]; /* the identity its loaded records carry ("" for NEW) */
    struct eval_person p;
};

/* The file `load` writes and `run` reads: a header line, then the records
 * as binary (same build). Returns the count, or -1 (message printed). */
int bm_holds_write(const char *path, const struct bm_hold *h, size_t n);
long bm_holds_read(const char *path, struct bm_hold **out);

/* A v4-shaped uuid derived from (seed, tag, n): deterministic, and looks like
 * gen_random_uuid()'s. */
void bm_uuid(uint64_t seed, uint64_t tag, uint64_t n, char out[37]);
uint64_t bm_mix(uint64_t x);

/* The identity uuid of ground-truth entity e. */
void bm_identity(uint64_t seed, long entity, char out[37]);

/*
 * A case to load or submit: bench_case's scaffolding (events, picklists,
 * summary, victim and suspect contexts) with the identifying fields of each
 * person replaced by a colgen record's (names, sex, birth date,
 * citizenship, document, phone; no aliases, addresses or e-mail, which
 * colgen does not model). Deterministic in (seed, external_ref).
 */
struct bm_case;
/* r's birth date, or "" when the server would refuse it (in the future). */
const char *bm_birthdate(const struct eval_person *r);
struct bm_case *bm_case_new(uint64_t seed, const char *external_ref,
                            const struct eval_person *const *recs, size_t n);
Ritra__Case *bm_case_msg(struct bm_case *bc);
void bm_case_free(struct bm_case *bc);

/* A growing text buffer for COPY data. */
struct sbuf {
    char *p;
    size_t len, cap;
};

void sb_reset(struct sbuf *b);
void sb_free(struct sbuf *b);
void sb_put(struct sbuf *b, const char *s, size_t n);
void sb_puts(struct sbuf *b, const char *s);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A COPY text field: NULL (\N) when s is NULL or empty and null_if_empty. */
void sb_field(struct sbuf *b, const char *s, bool null_if_empty);
/* A bytea field (\\x hex). */
void sb_bytea(struct sbuf *b, const uint8_t *p, size_t n);
void sb_tab(struct sbuf *b);
void sb_nl(struct sbuf *b);

/* COPY table (columns) FROM STDIN with the buffer's rows. Returns 0, or -1
 * (message printed). */
int bm_copy(PGconn *db, const char *table_and_columns, const struct sbuf *b);

/* Runs sql (no parameters); exits the program on error. */
void bm_exec(PGconn *db, const char *sql);
/* Runs sql and returns the first value of the first row as a long. */
long bm_query_long(PGconn *db, const char *sql);

PGconn *bm_connect(const char *conninfo);
int bm_agency_id(PGconn *db, const char *code);

/* The blocking keys ritra-server computes for the i-th search query made
 * from h (the query run sends: mquery_build, score_blocking_keys). keys
 * holds SCORE_MAX_KEYS keys of SCORE_KEY_MAX bytes. */
size_t bm_query_keys(const struct bm_hold *h, uint64_t seed, long i, char keys[][SCORE_KEY_MAX]);

int bm_load_main(int argc, char **argv);
int bm_blocking_main(int argc, char **argv);
int bm_run_main(int argc, char **argv);

#endif
