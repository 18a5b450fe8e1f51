/*
 * ritra-match-bench: the program behind tools/bench/match-speed.
 *
 *   ritra-match-bench load --pg CONNINFO --records N [--seed S] [--matches M]
 *                          [--new K] [--queries Q] [--fidelity F] --holds FILE
 *   ritra-match-bench run  --pg CONNINFO --holds FILE --addr HOST:PORT --pki DIR
 *                          --server-log FILE [--server-pid PID] [--warmup W]
 *   ritra-match-bench blocking --records N [--seed S] [--matches M] [--new K]
 *                          [--queries Q] [--cap C]
 *
 * load is the benchmark's fixture (bench_match_load.c): it writes colgen
 * persons straight into PostgreSQL with COPY, as the superuser, the way
 * ritra-server and its matcher would have written them, and keeps some
 * records out (the held-out file) for run. run drives the server through
 * libritra and the pg_trgm baseline through libpq (bench_match_run.c).
 * blocking needs no database: it makes the same records and queries and
 * tells, for each held-out record, whether a loaded record of its identity
 * shares a blocking key with it in a block the server would read (at most
 * C records), only in blocks it skips, or not at all.
 */
#include "bench_match.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_case.h"
#include "case_validate.h"

const char *const bm_owner_codes[BM_N_OWNERS] = {"FGN", "PONAL", "MIGRACION", "ICBF"};

/* ---- uuids -------------------------------------------------------------- */

uint64_t bm_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void bm_uuid(uint64_t seed, uint64_t tag, uint64_t n, char out[37])
{
    uint64_t a = bm_mix(seed ^ bm_mix(tag ^ bm_mix(n))), b = bm_mix(a ^ 0x5851f42d4c957f2dULL);
    unsigned char r[16];

    for (int i = 0; i < 8; i++) {
        r[i] = (unsigned char)(a >> (8 * i));
        r[8 + i] = (unsigned char)(b >> (8 * i));
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
             r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
             r[14], r[15]);
}

void bm_identity(uint64_t seed, long entity, char out[37])
{
    bm_uuid(seed, 0x1d, (uint64_t)entity, out);
}

/* ---- held-out records ---------------------------------------------------- */

#define HOLDS_MAGIC "ritra-match-bench holds v1"

int bm_holds_write(const char *path, const struct bm_hold *h, size_t n)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL) {
        perror(path);
        return -1;
    }
    fprintf(f, "%s %zu %zu\n", HOLDS_MAGIC, sizeof(*h), n);
    if (fwrite(h, sizeof(*h), n, f) != n || fclose(f) != 0) {
        perror(path);
        return -1;
    }
    return (int)n;
}

long bm_holds_read(const char *path, struct bm_hold **out)
{
    FILE *f = fopen(path, "rb");
    char magic[64];
    size_t size = 0, n = 0;
    struct bm_hold *h;

    if (f == NULL) {
        perror(path);
        return -1;
    }
    if (fgets(magic, sizeof(magic), f) == NULL ||
        sscanf(magic, HOLDS_MAGIC " %zu %zu", &size, &n) != 2 || size != sizeof(*h)) {
        fprintf(stderr, "%s: not a held-out file of this build\n", path);
        fclose(f);
        return -1;
    }
    h = calloc(n ? n : 1, sizeof(*h));
    if (h == NULL || fread(h, sizeof(*h), n, f) != n) {
        fprintf(stderr, "%s: truncated\n", path);
        free(h);
        fclose(f);
        return -1;
    }
    fclose(f);
    *out = h;
    return (long)n;
}

/* ---- cases --------------------------------------------------------------- */

const char *bm_birthdate(const struct eval_person *r)
{
    const char *why = NULL;

    if (!r->birthdate[0] || case_date_valid(r->birthdate, true, time(NULL), &why))
        return r->birthdate;
    return ""; /* colgen's 1985 -> 1958 slip can put 2009 in 2090 */
}

struct bm_case {
    struct bench_case *bc;
    size_t n;
    Ritra__IdentityDocument *docs;
    Ritra__IdentityDocument **doc_ptrs;
    char **cit;
    char **phone;
};

static void fill_identity(Ritra__Person *p, const struct eval_person *r, Ritra__IdentityDocument *d,
                          Ritra__IdentityDocument **dp, char **cit, char **phone)
{
    p->prs_firstname = (char *)r->given;
    p->prs_middlename = (char *)r->middle;
    p->first_surname = (char *)r->surname1;
    p->second_surname = (char *)r->surname2;
    p->n_aliases = 0;
    p->aliases = NULL;
    p->sex = (char *)r->sex;
    p->prs_gender = "";
    p->prs_birthdate = (char *)bm_birthdate(r);
    p->n_prs_citizenship = 0;
    p->prs_citizenship = NULL;
    if (r->citizenship[0]) {
        *cit = (char *)r->citizenship;
        p->prs_citizenship = cit;
        p->n_prs_citizenship = 1;
    }
    p->n_documents = 0;
    p->documents = NULL;
    if (r->doc_number[0]) {
        ritra__identity_document__init(d);
        d->type = (char *)r->doc_type;
        d->number = (char *)r->doc_number;
        d->issuing_country = (char *)r->doc_country;
        *dp = d;
        p->documents = dp;
        p->n_documents = 1;
    }
    p->n_phones = 0;
    p->phones = NULL;
    if (r->phone[0]) {
        *phone = (char *)r->phone;
        p->phones = phone;
        p->n_phones = 1;
    }
    p->n_addresses = 0;
    p->addresses = NULL;
    p->prs_email = "";
}

struct bm_case *bm_case_new(uint64_t seed, const char *external_ref,
                            const struct eval_person *const *recs, size_t n)
{
    struct bm_case *c = calloc(1, sizeof(*c));
    Ritra__Case *m;

    if (c == NULL)
        abort();
    c->bc = bench_case_new(seed, external_ref, (int)n);
    c->n = n;
    c->docs = calloc(n, sizeof(*c->docs));
    c->doc_ptrs = calloc(n, sizeof(*c->doc_ptrs));
    c->cit = calloc(n, sizeof(*c->cit));
    c->phone = calloc(n, sizeof(*c->phone));
    if (c->docs == NULL || c->doc_ptrs == NULL || c->cit == NULL || c->phone == NULL)
        abort();
    m = (Ritra__Case *)bench_case_msg(c->bc);
    for (size_t i = 0; i < n && i < m->n_persons; i++)
        fill_identity(m->persons[i], recs[i], &c->docs[i], &c->doc_ptrs[i], &c->cit[i],
                      &c->phone[i]);
    return c;
}

Ritra__Case *bm_case_msg(struct bm_case *c)
{
    return (Ritra__Case *)bench_case_msg(c->bc);
}

void bm_case_free(struct bm_case *c)
{
    if (c == NULL)
        return;
    bench_case_free(c->bc);
    free(c->docs);
    free(c->doc_ptrs);
    free(c->cit);
    free(c->phone);
    free(c);
}

/* ---- COPY text ----------------------------------------------------------- */

static void sb_grow(struct sbuf *b, size_t more)
{
    if (b->len + more + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->len + more + 1)
        cap *= 2;
    b->p = realloc(b->p, cap);
    if (b->p == NULL)
        abort();
    b->cap = cap;
}

void sb_reset(struct sbuf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

void sb_free(struct sbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

void sb_put(struct sbuf *b, const char *s, size_t n)
{
    sb_grow(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void sb_puts(struct sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    char probe[1];
    int n;

    /* gcc's fortified vsnprintf under UBSan reports a "null format string"
     * unless it is shown fmt cannot be NULL. */
    if (fmt == NULL)
        abort();
    va_start(ap, fmt);
    n = vsnprintf(probe, sizeof(probe), fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    sb_grow(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sb_field(struct sbuf *b, const char *s, bool null_if_empty)
{
    if (s == NULL || (null_if_empty && *s == '\0')) {
        sb_put(b, "\\N", 2);
        return;
    }
    for (; *s; s++) {
        switch (*s) {
        case '\\':
            sb_put(b, "\\\\", 2);
            break;
        case '\t':
            sb_put(b, "\\t", 2);
            break;
        case '\n':
            sb_put(b, "\\n", 2);
            break;
        case '\r':
            sb_put(b, "\\r", 2);
            break;
        default:
            sb_put(b, s, 1);
        }
    }
}

void sb_bytea(struct sbuf *b, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";

    sb_grow(b, 3 + 2 * n);
    memcpy(b->p + b->len, "\\\\x", 3);
    b->len += 3;
    for (size_t i = 0; i < n; i++) {
        b->p[b->len++] = digits[p[i] >> 4];
        b->p[b->len++] = digits[p[i] & 15];
    }
    b->p[b->len] = '\0';
}

void sb_tab(struct sbuf *b)
{
    sb_put(b, "\t", 1);
}

void sb_nl(struct sbuf *b)
{
    sb_put(b, "\n", 1);
}

int bm_copy(PGconn *db, const char *table_and_columns, const struct sbuf *b)
{
    char sql[1024];
    PGresult *r;
    int ok;

    if (b->len == 0)
        return 0;
    snprintf(sql, sizeof(sql), "COPY %s FROM STDIN", table_and_columns);
    r = PQexec(db, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(db));
        PQclear(r);
        return -1;
    }
    PQclear(r);
    for (size_t off = 0; off < b->len;) {
        size_t n = b->len - off > (1u << 20) ? (1u << 20) : b->len - off;

        if (PQputCopyData(db, b->p + off, (int)n) != 1) {
            fprintf(stderr, "%s: %s", sql, PQerrorMessage(db));
            return -1;
        }
        off += n;
    }
    if (PQputCopyEnd(db, NULL) != 1) {
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(db));
        return -1;
    }
    r = PQgetResult(db);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    while ((r = PQgetResult(db)) != NULL)
        PQclear(r);
    return ok ? 0 : -1;
}

/* ---- libpq --------------------------------------------------------------- */

PGconn *bm_connect(const char *conninfo)
{
    PGconn *db = PQconnectdb(conninfo);

    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "ritra-match-bench: %s", PQerrorMessage(db));
        exit(1);
    }
    PQclear(PQexec(db, "SET client_min_messages = error"));
    return db;
}

void bm_exec(PGconn *db, const char *sql)
{
    PGresult *r = PQexec(db, sql);

    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "ritra-match-bench: %s\n  in: %.400s\n", PQresultErrorMessage(r), sql);
        PQclear(r);
        exit(1);
    }
    PQclear(r);
}

long bm_query_long(PGconn *db, const char *sql)
{
    PGresult *r = PQexec(db, sql);
    long v;

    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1) {
        fprintf(stderr, "ritra-match-bench: %s\n  in: %.400s\n", PQresultErrorMessage(r), sql);
        PQclear(r);
        exit(1);
    }
    v = PQgetisnull(r, 0, 0) ? 0 : strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

int bm_agency_id(PGconn *db, const char *code)
{
    const char *v[1] = {code};
    PGresult *r = PQexecParams(db, "SELECT agency_id FROM agencies WHERE code = $1", 1, NULL, v,
                               NULL, NULL, 0);
    int id = -1;

    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        id = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    if (id < 0) {
        fprintf(stderr, "ritra-match-bench: agency %s is not registered\n", code);
        exit(1);
    }
    return id;
}

/* ---- main ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "load") == 0)
        return bm_load_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return bm_run_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "blocking") == 0)
        return bm_blocking_main(argc - 1, argv + 1);
    fprintf(stderr,
            "usage: ritra-match-bench load|run|blocking OPTIONS (see tools/bench/match-speed)\n");
    return 2;
}
