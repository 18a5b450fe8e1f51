/*
 * The fixture of tools/bench/match-speed: N person records, loaded with COPY
 * as the superuser. This is not the product's path (that is SubmitCase and
 * the matcher, one case and one person at a time); it writes the rows that
 * path would have written, so that the benchmark can start from a registry
 * of a million persons in minutes instead of days:
 *
 *   cases, case_records (the 'full', 'shareable' and 'restricted'
 *   renderings, made by the server's own policy_render), case_versions,
 *   sync_feed (owner and audience, from ritra_case_audience), persons,
 *   person_documents, case_events (as ritra_project_case projects them),
 *   match_persons (person_pb packed from the stored 'full' record as the
 *   matcher does; identity_id the ground truth, as if every duplicate had
 *   been linked), match_keys (score_blocking_keys) and match_name_freq.
 *
 * Every case passes case_validate(). Triggers are off during the COPY
 * (session_replication_role = replica: nothing is queued for the matcher,
 * the owner triggers are checked afterwards by query); indexes and
 * constraints of the loaded tables are dropped and re-created from their
 * own definitions, which are compared before and after. No audit entries
 * are written. `run` checks the result: cases submitted through the server
 * and the same cases loaded here must give the same rows (fidelity).
 */
#include "bench_match.h"

#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "bench_stat.h"
#include "case_validate.h"
#include "match/from_proto.h"
#include "match/score.h"
#include "pgtext.h"
#include "policy.h"
#include "validate.h"

#define FLUSH_CASES 2000

struct lopt {
    const char *pg, *holds;
    long records;
    uint64_t seed;
    int matches, news, queries, fidelity;
    int case_min, case_max;
};

static void die(const char *msg)
{
    fprintf(stderr, "ritra-match-bench load: %s\n", msg);
    exit(1);
}

static double secs_since(int64_t t0)
{
    return (double)(bench_now_us() - t0) / 1e6;
}

/* ---- a deterministic rng -------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    return bm_mix((*s += 0x9e3779b97f4a7c15ULL));
}

static long rng_below(uint64_t *s, long n)
{
    return n > 0 ? (long)(rng_next(s) % (uint64_t)n) : 0;
}

/* ---- name-token counts ---------------------------------------------------- */

struct tok {
    char key[NORM_TOKEN_MAX + 3]; /* "g:maria" */
    unsigned long count;
};

struct toktab {
    struct tok *v;
    size_t cap, n;
};

static uint64_t str_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

static void tok_add(struct toktab *t, const char *key)
{
    size_t i;

    if (t->n * 2 >= t->cap) {
        struct toktab bigger = {calloc(t->cap ? t->cap * 2 : 4096, sizeof(struct tok)),
                                t->cap ? t->cap * 2 : 4096, 0};

        if (bigger.v == NULL)
            abort();
        for (size_t k = 0; k < t->cap; k++) {
            if (!t->v[k].key[0])
                continue;
            for (i = str_hash(t->v[k].key) & (bigger.cap - 1); bigger.v[i].key[0];
                 i = (i + 1) & (bigger.cap - 1))
                ;
            bigger.v[i] = t->v[k];
            bigger.n++;
        }
        free(t->v);
        *t = bigger;
    }
    for (i = str_hash(key) & (t->cap - 1); t->v[i].key[0]; i = (i + 1) & (t->cap - 1))
        if (strcmp(t->v[i].key, key) == 0) {
            t->v[i].count++;
            return;
        }
    snprintf(t->v[i].key, sizeof(t->v[i].key), "%s", key);
    t->v[i].count = 1;
    t->n++;
}

/* What ritra_match_apply counts for a fresh person: each distinct
 * non-empty "g:" and "s:" token the matcher sends (server/matcher.c). */
static void count_tokens(struct toktab *t, const struct match_person *mp)
{
    struct norm_tokens gt = {0}, st = {0};
    char seen[2 * NORM_MAX_TOKENS][NORM_TOKEN_MAX + 3];
    size_t ns = 0;

    norm_name_tokens(mp->given, NORM_GIVEN, &gt);
    norm_name_tokens(mp->middle, NORM_GIVEN, &gt);
    norm_name_tokens(mp->first_surname, NORM_SURNAME, &st);
    norm_name_tokens(mp->second_surname, NORM_SURNAME, &st);
    for (int pass = 0; pass < 2; pass++) {
        const struct norm_tokens *src = pass == 0 ? &gt : &st;

        for (size_t k = 0; k < src->n; k++) {
            char key[NORM_TOKEN_MAX + 3];
            bool dup = false;

            if (!src->tok[k][0])
                continue;
            snprintf(key, sizeof(key), "%c:%s", pass == 0 ? 'g' : 's', src->tok[k]);
            for (size_t j = 0; j < ns && !dup; j++)
                dup = strcmp(seen[j], key) == 0;
            if (dup)
                continue;
            memcpy(seen[ns++], key, sizeof(key));
            tok_add(t, key);
        }
    }
}

/* The match_person a loaded record's Person gives (from_proto.c's mapping
 * of the fields bm_case_new sets). */
struct mp_store {
    struct match_person p;
    struct match_document doc;
    const char *cit[1], *phone[1];
};

static void mp_of_record(struct mp_store *s, const struct eval_person *r)
{
    memset(s, 0, sizeof(*s));
    s->p.given = r->given;
    s->p.middle = r->middle;
    s->p.first_surname = r->surname1;
    s->p.second_surname = r->surname2;
    s->p.sex = r->sex;
    s->p.birthdate = bm_birthdate(r);
    if (r->citizenship[0]) {
        s->cit[0] = r->citizenship;
        s->p.citizenship = s->cit;
        s->p.n_citizenship = 1;
    }
    if (r->doc_number[0]) {
        s->doc = (struct match_document){r->doc_type, r->doc_number, r->doc_country};
        s->p.documents = &s->doc;
        s->p.n_documents = 1;
    }
    if (r->phone[0]) {
        s->phone[0] = r->phone;
        s->p.phones = s->phone;
        s->p.n_phones = 1;
    }
}

/* ---- rows of one case ------------------------------------------------------ */

/* The per-table COPY buffers, for the real tables or the fidelity copies. */
struct rows {
    const char *prefix; /* "" or "bench.fid_" */
    struct sbuf cases, records, persons, docs, events, mpersons, mkeys;
    long n_cases, n_persons, n_docs, n_events, n_keys;
};

/* One person's link, as the matcher would have made it. */
struct link {
    char person_id[37];
    char identity[37];
    const char *linked_by;
    double score; /* < -1e8: NULL */
};

static void doc_number_norm(const char *in, char *out, size_t outlen)
{
    size_t n = 0;

    for (; *in && n + 1 < outlen; in++)
        if (isalnum((unsigned char)*in))
            out[n++] = (char)toupper((unsigned char)*in);
    out[n] = '\0';
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

/* server/case_store.c's date_range */
static void date_range(const char *s, char from[11], char to[11])
{
    int y = 0, m = 0, d = 0;
    int n = sscanf(s, "%4d-%2d-%2d", &y, &m, &d);

    if (n == 3) {
        snprintf(from, 11, "%04d-%02d-%02d", y, m, d);
        snprintf(to, 11, "%04d-%02d-%02d", y, m, d);
    } else if (n == 2) {
        snprintf(from, 11, "%04d-%02d-01", y, m);
        snprintf(to, 11, "%04d-%02d-%02d", y, m, days_in_month(y, m));
    } else {
        snprintf(from, 11, "%04d-01-01", y);
        snprintf(to, 11, "%04d-12-31", y);
    }
}

static void sb_array(struct sbuf *b, char *const *v, size_t n)
{
    char *lit = pgtext_array(v, n);

    if (lit == NULL)
        abort();
    sb_field(b, lit, false);
    free(lit);
}

static void sb_int(struct sbuf *b, long v)
{
    sb_printf(b, "%ld", v);
}

/* Appends the rows ritra_submit_case and the matcher would write for case c
 * owned by agency owner. */
static void emit_case(struct rows *rw, const char *case_id, int owner, const Ritra__Case *c,
                      const struct link *links)
{
    struct field_errors fe;
    Ritra__Case rec = *c, *full;
    uint8_t *rd[3] = {NULL, NULL, NULL}, sha[32];
    size_t rdlen[3];
    static const enum policy_variant variants[3] = {POLICY_VARIANT_FULL, POLICY_VARIANT_SHAREABLE,
                                                    POLICY_VARIANT_RESTRICTED};
    static const char *const vnames[3] = {"full", "shareable", "restricted"};

    fe_init(&fe);
    if (!case_validate(c, "case", &fe, time(NULL))) {
        for (size_t i = 0; i < fe.count; i++)
            fprintf(stderr, "  %s: %s\n", fe.items[i].path, fe.items[i].reason);
        die("a generated case does not pass case_validate()");
    }
    /* case_store_submit: the record holds what the agency said. */
    rec.case_id = rec.owner_agency = rec.created_at = rec.updated_at = "";
    rec.version = 0;
    for (int v = 0; v < 3; v++)
        if (policy_render(&rec, variants[v], &rd[v], &rdlen[v]) < 0)
            die("policy_render failed");
    if (EVP_Digest(rd[0], rdlen[0], sha, NULL, EVP_sha256(), NULL) != 1)
        die("sha256 failed");

    /* cases */
    sb_field(&rw->cases, case_id, false);
    sb_tab(&rw->cases);
    sb_int(&rw->cases, owner);
    sb_tab(&rw->cases);
    sb_field(&rw->cases, c->external_ref, false);
    sb_puts(&rw->cases, "\t1\t");
    sb_field(&rw->cases, c->cas_status, false);
    sb_tab(&rw->cases);
    sb_field(&rw->cases, c->handling_code, false);
    sb_tab(&rw->cases);
    sb_field(&rw->cases, c->source_reliability, false);
    sb_tab(&rw->cases);
    sb_field(&rw->cases, c->information_accuracy, false);
    sb_tab(&rw->cases);
    sb_array(&rw->cases, c->vic_typeofexploitation, c->n_vic_typeofexploitation);
    sb_tab(&rw->cases);
    sb_int(&rw->cases, (long)c->n_persons);
    sb_tab(&rw->cases);
    sb_bytea(&rw->cases, sha, sizeof(sha));
    sb_puts(&rw->cases, "\t" BM_ACTOR "\t" BM_ACTOR "\t");
    sb_puts(&rw->cases, c->h3_allow_hits ? "t" : "f");
    sb_nl(&rw->cases);
    rw->n_cases++;

    /* case_records */
    for (int v = 0; v < 3; v++) {
        sb_int(&rw->records, owner);
        sb_tab(&rw->records);
        sb_puts(&rw->records, case_id);
        sb_tab(&rw->records);
        sb_puts(&rw->records, vnames[v]);
        sb_tab(&rw->records);
        sb_bytea(&rw->records, rd[v], rdlen[v]);
        sb_nl(&rw->records);
    }

    /* persons and person_documents, as ritra_project_case projects them */
    for (size_t i = 0; i < c->n_persons; i++) {
        const Ritra__Person *p = c->persons[i];
        const Ritra__VictimContext *v = p->victim;
        const Ritra__Consent *con = v ? v->consent : NULL;
        struct sbuf *b = &rw->persons;

        sb_puts(b, links[i].person_id);
        sb_tab(b);
        sb_int(b, owner);
        sb_tab(b);
        sb_puts(b, case_id);
        sb_tab(b);
        sb_field(b, p->person_ref, false);
        sb_tab(b);
        sb_field(b, p->role, false);
        sb_tab(b);
        sb_field(b, p->prs_firstname, true);
        sb_tab(b);
        sb_field(b, p->prs_middlename, true);
        sb_tab(b);
        sb_field(b, p->first_surname, true);
        sb_tab(b);
        sb_field(b, p->second_surname, true);
        sb_tab(b);
        sb_array(b, p->aliases, p->n_aliases);
        sb_tab(b);
        sb_field(b, p->sex, true);
        sb_tab(b);
        sb_field(b, p->prs_gender, true);
        sb_tab(b);
        sb_field(b, p->prs_birthdate, true);
        sb_tab(b);
        sb_array(b, p->prs_citizenship, p->n_prs_citizenship);
        sb_tab(b);
        sb_array(b, p->phones, p->n_phones);
        sb_tab(b);
        sb_field(b, v ? v->vic_traffickingstatus : NULL, true);
        sb_tab(b);
        sb_puts(b, con != NULL && con->con_consent ? "t" : "f");
        sb_tab(b);
        sb_array(b, con ? con->scope : NULL, con ? con->n_scope : 0);
        sb_tab(b);
        sb_field(b, con ? con->date : NULL, true);
        sb_nl(b);
        rw->n_persons++;

        for (size_t k = 0; k < p->n_documents; k++) {
            const Ritra__IdentityDocument *d = p->documents[k];
            char norm[80];
            bool dup = false;

            doc_number_norm(d->number, norm, sizeof(norm));
            for (size_t j = 0; j < k && !dup; j++) { /* DISTINCT ON */
                char other[80];

                doc_number_norm(p->documents[j]->number, other, sizeof(other));
                dup = strcmp(other, norm) == 0 && strcmp(p->documents[j]->type, d->type) == 0 &&
                      strcmp(p->documents[j]->issuing_country, d->issuing_country) == 0;
            }
            if (dup)
                continue;
            sb_int(&rw->docs, owner);
            sb_tab(&rw->docs);
            sb_puts(&rw->docs, links[i].person_id);
            sb_tab(&rw->docs);
            sb_field(&rw->docs, d->type, true);
            sb_tab(&rw->docs);
            sb_field(&rw->docs, d->number, true);
            sb_tab(&rw->docs);
            sb_field(&rw->docs, norm, true);
            sb_tab(&rw->docs);
            sb_field(&rw->docs, d->issuing_country, true);
            sb_nl(&rw->docs);
            rw->n_docs++;
        }
    }

    /* case_events */
    for (size_t i = 0; i < c->n_events; i++) {
        const Ritra__TraffickingEvent *e = c->events[i];
        struct sbuf *b = &rw->events;
        char from[11], to[11];
        bool dated = e->hte_date != NULL && *e->hte_date;

        if (dated)
            date_range(e->hte_date, from, to);
        sb_int(b, owner);
        sb_tab(b);
        sb_puts(b, case_id);
        sb_tab(b);
        sb_int(b, (long)i);
        sb_tab(b);
        sb_field(b, e->hte_type, true);
        sb_tab(b);
        sb_field(b, e->hte_date, true);
        sb_tab(b);
        sb_field(b, dated ? from : NULL, true);
        sb_tab(b);
        sb_field(b, dated ? to : NULL, true);
        sb_tab(b);
        sb_field(b, e->hte_country, true);
        sb_tab(b);
        sb_field(b, e->hte_state, true);
        sb_tab(b);
        sb_field(b, e->hte_city, true);
        sb_nl(b);
        rw->n_events++;
    }

    /* match_persons and match_keys: the matcher reads the stored 'full'
     * record back, finds the person by person_ref, packs it (person_pb) and
     * takes its blocking keys (server/matcher.c, prepare_subject). */
    full = ritra__case__unpack(NULL, rdlen[0], rd[0]);
    if (full == NULL)
        die("cannot unpack a rendered record");
    for (size_t i = 0; i < c->n_persons; i++) {
        const Ritra__Person *p = NULL;
        struct match_proto mp;
        char keys[SCORE_MAX_KEYS][SCORE_KEY_MAX];
        size_t nk, len;
        uint8_t *pb;

        for (size_t j = 0; j < full->n_persons && p == NULL; j++)
            if (strcmp(full->persons[j]->person_ref, c->persons[i]->person_ref) == 0)
                p = full->persons[j];
        if (p == NULL)
            die("a person is missing from its rendered record");
        len = ritra__person__get_packed_size(p);
        pb = malloc(len ? len : 1);
        if (pb == NULL)
            abort();
        ritra__person__pack(p, pb);
        sb_puts(&rw->mpersons, links[i].person_id);
        sb_tab(&rw->mpersons);
        sb_puts(&rw->mpersons, case_id);
        sb_tab(&rw->mpersons);
        sb_int(&rw->mpersons, owner);
        sb_tab(&rw->mpersons);
        sb_field(&rw->mpersons, p->role, false);
        sb_tab(&rw->mpersons);
        sb_puts(&rw->mpersons, links[i].identity);
        sb_tab(&rw->mpersons);
        sb_bytea(&rw->mpersons, pb, len);
        sb_tab(&rw->mpersons);
        sb_puts(&rw->mpersons, links[i].linked_by);
        sb_tab(&rw->mpersons);
        if (links[i].score < -1e8)
            sb_puts(&rw->mpersons, "\\N");
        else
            sb_printf(&rw->mpersons, "%.6g", (double)(float)links[i].score);
        sb_nl(&rw->mpersons);
        free(pb);

        if (match_proto_fill(&mp, p) < 0)
            abort();
        nk = score_blocking_keys(&mp.person, keys, SCORE_MAX_KEYS);
        for (size_t k = 0; k < nk; k++) {
            bool dup = false;

            for (size_t j = 0; j < k && !dup; j++)
                dup = strcmp(keys[j], keys[k]) == 0;
            if (dup)
                continue;
            sb_field(&rw->mkeys, keys[k], false);
            sb_tab(&rw->mkeys);
            sb_puts(&rw->mkeys, links[i].person_id);
            sb_nl(&rw->mkeys);
            rw->n_keys++;
        }
        match_proto_clear(&mp);
    }
    ritra__case__free_unpacked(full, NULL);
    for (int v = 0; v < 3; v++)
        free(rd[v]);
}

static void flush_rows(PGconn *db, struct rows *rw)
{
    char t[256];
    struct {
        const char *table, *cols;
        struct sbuf *b;
    } tabs[] = {
        {"cases",
         "case_id, owner_agency_id, external_ref, version, status, handling_code, "
         "source_reliability, information_accuracy, exploitation_types, person_count, "
         "content_sha256, created_by, updated_by, h3_allow_hits",
         &rw->cases},
        {"case_records", "owner_agency_id, case_id, variant, record", &rw->records},
        {"persons",
         "person_id, owner_agency_id, case_id, person_ref, role, given_names, middle_name, "
         "first_surname, second_surname, aliases, sex, gender, birth_date, citizenships, phones, "
         "trafficking_status, consent_given, consent_scope, consent_date",
         &rw->persons},
        {"person_documents",
         "owner_agency_id, person_id, doc_type, number, number_norm, issuing_country", &rw->docs},
        {"case_events",
         "owner_agency_id, case_id, ordinal, event_type, event_date, date_from, date_to, "
         "country, state, city",
         &rw->events},
        {"match_persons",
         "person_id, case_id, owner_agency_id, role, identity_id, person_pb, linked_by, "
         "linked_score",
         &rw->mpersons},
        {"match_keys", "key, person_id", &rw->mkeys},
    };

    for (size_t i = 0; i < sizeof(tabs) / sizeof(tabs[0]); i++) {
        snprintf(t, sizeof(t), "%s%s (%s)", rw->prefix, tabs[i].table, tabs[i].cols);
        if (bm_copy(db, t, tabs[i].b) < 0)
            die("COPY failed");
        sb_reset(tabs[i].b);
    }
}

static void rows_free(struct rows *rw)
{
    sb_free(&rw->cases);
    sb_free(&rw->records);
    sb_free(&rw->persons);
    sb_free(&rw->docs);
    sb_free(&rw->events);
    sb_free(&rw->mpersons);
    sb_free(&rw->mkeys);
}

/* ---- the loaded tables' indexes and constraints ----------------------------- */

#define LOADED_TABLES                                                                              \
    "ARRAY['cases', 'case_records', 'case_versions', 'sync_feed', 'persons', "                     \
    "'person_documents', 'case_events', 'match_persons', 'match_keys']::regclass[]"

static const char snapshot_sql[] =
    "SELECT 'constraint' AS what, conrelid::regclass::text AS rel, conname::text AS name,"
    "       pg_get_constraintdef(oid) AS def"
    "  FROM pg_constraint WHERE conrelid = ANY (" LOADED_TABLES
    ") OR confrelid = ANY (" LOADED_TABLES ")"
    " UNION ALL "
    "SELECT 'index', indrelid::regclass::text, indexrelid::regclass::text,"
    "       pg_get_indexdef(indexrelid)"
    "  FROM pg_index WHERE indrelid = ANY (" LOADED_TABLES ")";

static void drop_indexes(PGconn *db)
{
    char sql[4096];

    snprintf(sql, sizeof(sql), "CREATE TEMP TABLE bench_schema_before AS %s", snapshot_sql);
    bm_exec(db, sql);
    snprintf(sql, sizeof(sql),
             "CREATE TEMP TABLE bench_ddl AS"
             " SELECT 1 AS drop_order, 3 AS add_order,"
             "   format('ALTER TABLE %%s DROP CONSTRAINT %%I', conrelid::regclass, conname) AS d,"
             "   format('ALTER TABLE %%s ADD CONSTRAINT %%I %%s', conrelid::regclass, conname,"
             "          pg_get_constraintdef(oid)) AS a"
             "   FROM pg_constraint WHERE contype = 'f'"
             "    AND (conrelid = ANY (%s) OR confrelid = ANY (%s))"
             " UNION ALL"
             " SELECT 2, 1,"
             "   format('ALTER TABLE %%s DROP CONSTRAINT %%I', conrelid::regclass, conname),"
             "   format('ALTER TABLE %%s ADD CONSTRAINT %%I %%s', conrelid::regclass, conname,"
             "          pg_get_constraintdef(oid))"
             "   FROM pg_constraint WHERE contype IN ('p', 'u') AND conrelid = ANY (%s)"
             " UNION ALL"
             " SELECT 3, 2, format('DROP INDEX %%s', i.indexrelid::regclass),"
             "   pg_get_indexdef(i.indexrelid)"
             "   FROM pg_index i WHERE i.indrelid = ANY (%s)"
             "    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid"
             "                       AND c.contype IN ('p', 'u', 'x'))",
             LOADED_TABLES, LOADED_TABLES, LOADED_TABLES, LOADED_TABLES);
    bm_exec(db, sql);
    bm_exec(db, "DO $$ DECLARE s text; BEGIN"
                " FOR s IN SELECT d FROM bench_ddl ORDER BY drop_order LOOP EXECUTE s; END LOOP;"
                " END $$");
}

static void restore_indexes(PGconn *db)
{
    char sql[4096];

    bm_exec(db, "DO $$ DECLARE s text; BEGIN"
                " FOR s IN SELECT a FROM bench_ddl ORDER BY add_order LOOP EXECUTE s; END LOOP;"
                " END $$");
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM ((SELECT * FROM bench_schema_before"
             "   EXCEPT SELECT * FROM (%s) now)"
             " UNION ALL (SELECT * FROM (%s) now EXCEPT SELECT * FROM bench_schema_before)) d",
             snapshot_sql, snapshot_sql);
    if (bm_query_long(db, sql) != 0)
        die("the loaded tables' constraints or indexes differ from before the load");
}

/* ---- choosing what to load and what to hold out ------------------------------ */

struct plan {
    struct eval_person *rec;
    long n_rec;
    long *ent_start, *ent_len, n_ent;
    unsigned char *excluded; /* per record: held out */
    long *loaded;            /* record indexes, in generation order */
    long n_loaded;
    struct bm_hold *holds;
    size_t n_holds;
};

static void plan_entities(struct plan *pl)
{
    pl->ent_start = calloc((size_t)pl->n_rec, sizeof(long));
    pl->ent_len = calloc((size_t)pl->n_rec, sizeof(long));
    if (pl->ent_start == NULL || pl->ent_len == NULL)
        abort();
    pl->n_ent = 0;
    for (long i = 0; i < pl->n_rec; i++) {
        if (i == 0 || pl->rec[i].entity != pl->rec[i - 1].entity) {
            pl->ent_start[pl->n_ent] = i;
            pl->n_ent++;
        }
        pl->ent_len[pl->n_ent - 1]++;
    }
}

static void add_hold(struct plan *pl, const struct lopt *o, int kind, long rec)
{
    struct bm_hold *h = &pl->holds[pl->n_holds++];

    memset(h, 0, sizeof(*h));
    h->kind = kind;
    h->entity = pl->rec[rec].entity;
    if (kind != BM_HOLD_NEW)
        bm_identity(o->seed, h->entity, h->identity);
    h->p = pl->rec[rec];
    pl->excluded[rec] = 1;
}

/* Returns 0, or -1 when the generated records do not reach o->records. */
static int plan_holds(struct plan *pl, const struct lopt *o)
{
    long eligible = 0, multi = 0, need = o->matches + o->queries;
    long *multi_idx;

    plan_entities(pl);
    pl->excluded = calloc((size_t)pl->n_rec, 1);
    pl->holds = calloc((size_t)(need + o->news) + 1, sizeof(*pl->holds));
    multi_idx = calloc((size_t)pl->n_ent + 1, sizeof(long));
    if (pl->excluded == NULL || pl->holds == NULL || multi_idx == NULL)
        abort();
    pl->n_holds = 0;
    /* Entities wholly inside the first o->records records are loaded
     * whatever is held out before them. */
    while (eligible < pl->n_ent &&
           pl->ent_start[eligible] + pl->ent_len[eligible] <= o->records - 2 * (need + o->news))
        eligible++;
    for (long e = 0; e < eligible; e++)
        if (pl->ent_len[e] >= 2)
            multi_idx[multi++] = e;
    if (multi < 2 * need || eligible < 4 * (need + o->news)) {
        free(multi_idx);
        fprintf(stderr, "ritra-match-bench load: %ld records are too few to hold out %ld\n",
                o->records, need + o->news);
        exit(2);
    }
    /* Duplicates: the last (corrupted) record of every stride-th entity
     * with two records or more, matches and searches interleaved. */
    for (long k = 0; k < need; k++) {
        long e = multi_idx[k * multi / need];
        long rec = pl->ent_start[e] + pl->ent_len[e] - 1;
        bool match = (k * o->matches) / need != ((k + 1) * o->matches) / need;

        add_hold(pl, o, match ? BM_HOLD_MATCH : BM_HOLD_SEARCH, rec);
    }
    /* New persons: every record of an entity left out, its first one
     * submitted. */
    for (long k = 0; k < o->news; k++) {
        long e = (k * eligible) / o->news + eligible / (2 * o->news);

        while (e < eligible && (pl->excluded[pl->ent_start[e]] ||
                                pl->excluded[pl->ent_start[e] + pl->ent_len[e] - 1]))
            e++;
        if (e >= eligible)
            die("could not place the new persons");
        add_hold(pl, o, BM_HOLD_NEW, pl->ent_start[e]);
        for (long r = 1; r < pl->ent_len[e]; r++)
            pl->excluded[pl->ent_start[e] + r] = 1;
    }
    free(multi_idx);
    pl->loaded = calloc((size_t)o->records, sizeof(long));
    if (pl->loaded == NULL)
        abort();
    pl->n_loaded = 0;
    for (long j = 0; j < pl->n_rec && pl->n_loaded < o->records; j++)
        if (!pl->excluded[j])
            pl->loaded[pl->n_loaded++] = j;
    return pl->n_loaded == o->records ? 0 : -1;
}

/* Generates the records (about 2.3 per generated person) and decides what
 * is loaded and what held out; the same for the same options. */
static void make_plan(struct plan *pl, const struct lopt *o)
{
    int64_t t0 = bench_now_us();
    size_t n_base;

    for (n_base = (size_t)(o->records / 2) + 1000;; n_base = n_base * 3 / 2) {
        free(pl->rec);
        free(pl->ent_start);
        free(pl->ent_len);
        free(pl->excluded);
        free(pl->loaded);
        free(pl->holds);
        pl->n_rec = colgen_generate(o->seed, n_base, &pl->rec);
        if (pl->n_rec < 0)
            die("out of memory");
        if (pl->n_rec > o->records + 4 * (o->matches + o->queries + o->news) &&
            plan_holds(pl, o) == 0)
            break;
    }
    fprintf(stderr,
            "load: %ld records generated for %zu people, %ld loaded, %zu held out (%.1f s)\n",
            pl->n_rec, n_base, pl->n_loaded, pl->n_holds, secs_since(t0));
}

/* ---- main ------------------------------------------------------------------ */

static void usage(void)
{
    fprintf(stderr, "usage: ritra-match-bench load --pg CONNINFO --records N --holds FILE\n"
                    "         [--seed S] [--matches M] [--new K] [--queries Q] [--fidelity F]\n"
                    "         [--case-persons MIN-MAX]\n"
                    "       ritra-match-bench blocking --records N [--seed S] [--matches M]\n"
                    "         [--new K] [--queries Q] [--cap C]\n");
    exit(2);
}

static void fidelity_cases(PGconn *db, const struct lopt *o, const int *owner_ids)
{
    struct eval_person *fr = NULL;
    long nf = colgen_generate(o->seed ^ 0xf1de11f1deULL, (size_t)o->fidelity * 2, &fr);
    struct rows rw = {.prefix = "bench.fid_"};
    struct sbuf sub = {0};
    long used = 0;

    if (nf < 0)
        abort();
    bm_exec(db, "CREATE SCHEMA IF NOT EXISTS bench");
    bm_exec(db, "DROP TABLE IF EXISTS bench.fid_cases, bench.fid_case_records, bench.fid_persons,"
                " bench.fid_person_documents, bench.fid_case_events, bench.fid_match_persons,"
                " bench.fid_match_keys, bench.fid_submit");
    bm_exec(db, "CREATE TABLE bench.fid_cases (LIKE cases INCLUDING DEFAULTS)");
    bm_exec(db, "CREATE TABLE bench.fid_case_records (LIKE case_records INCLUDING DEFAULTS)");
    bm_exec(db, "CREATE TABLE bench.fid_persons (LIKE persons INCLUDING DEFAULTS"
                " INCLUDING GENERATED)");
    bm_exec(db, "CREATE TABLE bench.fid_person_documents (LIKE person_documents)");
    bm_exec(db, "CREATE TABLE bench.fid_case_events (LIKE case_events)");
    bm_exec(db, "CREATE TABLE bench.fid_match_persons (LIKE match_persons INCLUDING DEFAULTS)");
    bm_exec(db, "CREATE TABLE bench.fid_match_keys (LIKE match_keys)");
    bm_exec(db,
            "CREATE TABLE bench.fid_submit (owner_code text, external_ref text, case_pb bytea)");
    for (int k = 0; k < o->fidelity; k++) {
        const struct eval_person *recs[4];
        struct link links[4];
        size_t n = 1 + (size_t)(k % 4);
        char ref[32], case_id[37];
        struct bm_case *bc;
        Ritra__Case *c;
        uint8_t *pb;
        size_t len;

        for (size_t i = 0; i < n; i++) {
            recs[i] = &fr[used % nf];
            bm_uuid(o->seed, 0xf1d, (uint64_t)used, links[i].person_id);
            bm_uuid(o->seed, 0xf1e, (uint64_t)used, links[i].identity);
            links[i].linked_by = "new";
            links[i].score = -1e9;
            used++;
        }
        snprintf(ref, sizeof(ref), "fid-%03d", k);
        bm_uuid(o->seed, 0xf1c, (uint64_t)k, case_id);
        bc = bm_case_new(o->seed, ref, recs, n);
        c = bm_case_msg(bc);
        emit_case(&rw, case_id, owner_ids[k % BM_N_OWNERS], c, links);
        len = ritra__case__get_packed_size(c);
        pb = malloc(len);
        if (pb == NULL)
            abort();
        ritra__case__pack(c, pb);
        sb_puts(&sub, bm_owner_codes[k % BM_N_OWNERS]);
        sb_tab(&sub);
        sb_puts(&sub, ref);
        sb_tab(&sub);
        sb_bytea(&sub, pb, len);
        sb_nl(&sub);
        free(pb);
        bm_case_free(bc);
    }
    flush_rows(db, &rw);
    if (bm_copy(db, "bench.fid_submit (owner_code, external_ref, case_pb)", &sub) < 0)
        die("COPY failed");
    sb_free(&sub);
    rows_free(&rw);
    free(fr);
}

int bm_load_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"pg", required_argument, NULL, 'p'},           {"records", required_argument, NULL, 'n'},
        {"holds", required_argument, NULL, 'H'},        {"seed", required_argument, NULL, 's'},
        {"matches", required_argument, NULL, 'm'},      {"new", required_argument, NULL, 'k'},
        {"queries", required_argument, NULL, 'q'},      {"fidelity", required_argument, NULL, 'f'},
        {"case-persons", required_argument, NULL, 'c'}, {NULL, 0, NULL, 0}};
    struct lopt o = {.seed = 20240611,
                     .matches = 450,
                     .news = 50,
                     .queries = 1000,
                     .fidelity = 20,
                     .case_min = 2,
                     .case_max = 12};
    struct plan pl = {0};
    struct toktab toks = {0};
    struct score_freq *freq;
    struct score_config scfg;
    struct sbuf fb = {0};
    struct rows rw = {.prefix = ""};
    int owner_ids[BM_N_OWNERS], ch;
    static const int owner_weight[BM_N_OWNERS] = {30, 30, 15, 25};
    float *score;
    unsigned char *is_first;
    long n_cases = 0;
    uint64_t rs;
    int64_t t0, t_all = bench_now_us();
    PGconn *db;
    char sql[512];

    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'p':
            o.pg = optarg;
            break;
        case 'n':
            o.records = strtol(optarg, NULL, 10);
            break;
        case 'H':
            o.holds = optarg;
            break;
        case 's':
            o.seed = strtoull(optarg, NULL, 10);
            break;
        case 'm':
            o.matches = (int)strtol(optarg, NULL, 10);
            break;
        case 'k':
            o.news = (int)strtol(optarg, NULL, 10);
            break;
        case 'q':
            o.queries = (int)strtol(optarg, NULL, 10);
            break;
        case 'f':
            o.fidelity = (int)strtol(optarg, NULL, 10);
            break;
        case 'c':
            if (sscanf(optarg, "%d-%d", &o.case_min, &o.case_max) != 2 || o.case_min < 1 ||
                o.case_max < o.case_min || o.case_max > 200)
                usage();
            break;
        default:
            usage();
        }
    }
    if (o.pg == NULL || o.holds == NULL || o.records < 1000 || o.matches < 0 || o.news < 1 ||
        o.queries < 0 || o.fidelity < 0)
        usage();

    /* 1. The people, and what is held out. */
    make_plan(&pl, &o);
    if (bm_holds_write(o.holds, pl.holds, pl.n_holds) < 0)
        exit(1);

    /* 2. Name frequencies, and each duplicate's score against the first
     * loaded record of its identity (the link's linked_score). */
    t0 = bench_now_us();
    for (long i = 0; i < pl.n_loaded; i++) {
        struct mp_store s;

        mp_of_record(&s, &pl.rec[pl.loaded[i]]);
        count_tokens(&toks, &s.p);
    }
    freq = score_freq_new();
    if (freq == NULL)
        abort();
    for (size_t k = 0; k < toks.cap; k++)
        if (toks.v[k].key[0] &&
            score_freq_add_name(freq,
                                toks.v[k].key[0] == 'g' ? SCORE_KIND_GIVEN : SCORE_KIND_SURNAME,
                                toks.v[k].key + 2, toks.v[k].count) < 0)
            abort();
    score_freq_set_population(freq, (unsigned long)pl.n_loaded);
    score_config_default(&scfg);
    score = calloc((size_t)pl.n_loaded, sizeof(*score));
    is_first = calloc((size_t)pl.n_loaded, 1);
    if (score == NULL || is_first == NULL)
        abort();
    for (long i = 0, first = 0; i < pl.n_loaded; i++) {
        if (i == 0 || pl.rec[pl.loaded[i]].entity != pl.rec[pl.loaded[i - 1]].entity) {
            first = i;
            is_first[i] = 1;
        } else {
            struct mp_store a, b;
            struct cmp_record *ra, *rb;
            struct score_result r;

            mp_of_record(&a, &pl.rec[pl.loaded[first]]);
            mp_of_record(&b, &pl.rec[pl.loaded[i]]);
            ra = cmp_record_new(&a.p);
            rb = cmp_record_new(&b.p);
            if (ra == NULL || rb == NULL)
                abort();
            score_pair(&scfg, freq, rb, ra, &r);
            score[i] = (float)r.total;
            cmp_record_free(ra);
            cmp_record_free(rb);
        }
    }
    fprintf(stderr, "load: %zu distinct name tokens, link scores (%.1f s)\n", toks.n,
            secs_since(t0));

    /* 3. The database. */
    db = bm_connect(o.pg);
    if (bm_query_long(db, "SELECT count(*) FROM cases") != 0)
        die("the database already holds cases; load into a fresh one");
    for (int a = 0; a < BM_N_OWNERS; a++)
        owner_ids[a] = bm_agency_id(db, bm_owner_codes[a]);
    bm_exec(db, "SET maintenance_work_mem = '1GB'");
    bm_exec(db, "SET work_mem = '256MB'");
    bm_exec(db, "SET synchronous_commit = off");
    bm_exec(db, "BEGIN");
    bm_exec(db, "SET LOCAL session_replication_role = replica");
    t0 = bench_now_us();
    drop_indexes(db);

    /* 4. Cases of case_min..case_max persons, in shuffled order so that an
     * identity's records land in different cases of different agencies. */
    rs = bm_mix(o.seed ^ 0xca5e5ULL);
    for (long i = pl.n_loaded - 1; i > 0; i--) {
        long j = rng_below(&rs, i + 1), t = pl.loaded[i];
        float ts = score[i];
        unsigned char tf = is_first[i];

        pl.loaded[i] = pl.loaded[j];
        pl.loaded[j] = t;
        score[i] = score[j];
        score[j] = ts;
        is_first[i] = is_first[j];
        is_first[j] = tf;
    }
    for (long i = 0; i < pl.n_loaded;) {
        long n = o.case_min + rng_below(&rs, o.case_max - o.case_min + 1), w = rng_below(&rs, 100);
        const struct eval_person *recs[200];
        struct link links[200];
        char ref[32], case_id[37];
        struct bm_case *bc;
        int owner = 0;

        if (n > pl.n_loaded - i)
            n = pl.n_loaded - i;
        while (w >= owner_weight[owner]) {
            w -= owner_weight[owner];
            owner++;
        }
        for (long k = 0; k < n; k++) {
            const struct eval_person *r = &pl.rec[pl.loaded[i + k]];

            recs[k] = r;
            bm_uuid(o.seed, 0x9e5, (uint64_t)(i + k), links[k].person_id);
            bm_identity(o.seed, r->entity, links[k].identity);
            links[k].linked_by = is_first[i + k] ? "new" : "auto";
            links[k].score = is_first[i + k] ? -1e9 : score[i + k];
        }
        snprintf(ref, sizeof(ref), "ld-%07ld", n_cases);
        bm_uuid(o.seed, 0xca5e, (uint64_t)n_cases, case_id);
        bc = bm_case_new(o.seed, ref, recs, (size_t)n);
        emit_case(&rw, case_id, owner_ids[owner], bm_case_msg(bc), links);
        bm_case_free(bc);
        n_cases++;
        i += n;
        if (n_cases % FLUSH_CASES == 0) {
            flush_rows(db, &rw);
            if (n_cases % (FLUSH_CASES * 10) == 0)
                fprintf(stderr, "load: %ld cases, %ld persons (%.0f s)\n", n_cases, i,
                        secs_since(t0));
        }
    }
    flush_rows(db, &rw);
    fprintf(stderr,
            "load: COPY of %ld cases, %ld persons, %ld documents, %ld events, %ld keys (%.1f s)\n",
            rw.n_cases, rw.n_persons, rw.n_docs, rw.n_events, rw.n_keys, secs_since(t0));

    /* 5. Indexes and constraints back (foreign keys validated). */
    t0 = bench_now_us();
    restore_indexes(db);
    fprintf(stderr, "load: indexes and constraints re-created and validated (%.1f s)\n",
            secs_since(t0));
    /* 6. What the submission function writes besides the projection (with
     * the indexes back: ritra_case_audience looks each case up). */
    t0 = bench_now_us();
    bm_exec(db, "SET LOCAL session_replication_role = origin");
    bm_exec(db,
            "INSERT INTO case_versions (case_id, version, status, content_sha256, record,"
            " submitted_by, agency_id)"
            " SELECT c.case_id, 1, c.status, c.content_sha256, r.record, c.created_by,"
            "        c.owner_agency_id"
            "   FROM cases c JOIN case_records r ON r.case_id = c.case_id AND r.variant = 'full'");
    bm_exec(db, "INSERT INTO sync_feed (agency_id, case_id, xid, seq)"
                " SELECT x.a, x.case_id, pg_current_xact_id(), nextval('sync_feed_seq') FROM ("
                "   SELECT c.case_id, c.owner_agency_id AS a, 0 AS o, c.external_ref FROM cases c"
                "   UNION ALL"
                "   SELECT c.case_id, au.a, 1, c.external_ref"
                "     FROM cases c CROSS JOIN LATERAL ritra_case_audience(c.case_id) AS au (a)"
                " ) x ORDER BY x.external_ref, x.o, x.a");
    for (size_t k = 0; k < toks.cap; k++) {
        if (!toks.v[k].key[0])
            continue;
        sb_put(&fb, toks.v[k].key, 1);
        sb_tab(&fb);
        sb_field(&fb, toks.v[k].key + 2, false);
        sb_printf(&fb, "\t%lu\n", toks.v[k].count);
    }
    bm_exec(db, "CREATE TEMP TABLE bench_freq (kind text, token text, persons bigint)");
    if (bm_copy(db, "bench_freq (kind, token, persons)", &fb) < 0)
        die("COPY failed");
    bm_exec(db, "INSERT INTO match_name_freq AS f (kind, token, persons)"
                " SELECT kind, token, persons FROM bench_freq"
                " ON CONFLICT (kind, token) DO UPDATE SET persons = f.persons + EXCLUDED.persons");
    snprintf(sql, sizeof(sql),
             "UPDATE match_name_freq SET persons = persons + %ld WHERE kind = 'p'", pl.n_loaded);
    bm_exec(db, sql);
    fprintf(stderr, "load: case_versions, sync_feed, match_name_freq (%.1f s)\n", secs_since(t0));

    if (bm_query_long(db, "SELECT (SELECT count(*) FROM persons p JOIN cases c USING (case_id)"
                          "         WHERE p.owner_agency_id <> c.owner_agency_id)"
                          "     + (SELECT count(*) FROM case_records r JOIN cases c USING (case_id)"
                          "         WHERE r.owner_agency_id <> c.owner_agency_id)"
                          "     + (SELECT count(*) FROM case_events e JOIN cases c USING (case_id)"
                          "         WHERE e.owner_agency_id <> c.owner_agency_id)"
                          "     + (SELECT count(*) FROM person_documents d JOIN persons p"
                          "         USING (person_id) WHERE d.owner_agency_id <> p.owner_agency_id)"
                          "     + (SELECT count(*) FROM match_persons m JOIN persons p"
                          "         USING (person_id) WHERE m.case_id <> p.case_id"
                          "            OR m.owner_agency_id <> p.owner_agency_id)") != 0)
        die("owner columns disagree with their case (ritra_check_owner would refuse them)");
    if (bm_query_long(db, "SELECT count(*) FROM match_queue") != 0)
        die("match_queue is not empty");
    if (bm_query_long(db, "SELECT count(*) FROM persons") != pl.n_loaded ||
        bm_query_long(db, "SELECT count(*) FROM match_persons") != pl.n_loaded)
        die("persons or match_persons do not hold every loaded record");

    /* 7. The cases the fidelity check submits through the server. */
    if (o.fidelity > 0)
        fidelity_cases(db, &o, owner_ids);
    bm_exec(db, "COMMIT");

    t0 = bench_now_us();
    bm_exec(db, "VACUUM (ANALYZE) cases, case_records, case_versions, sync_feed, persons,"
                " person_documents, case_events, match_persons, match_keys, match_name_freq,"
                " match_queue");
    bm_exec(db, "CHECKPOINT");
    fprintf(stderr, "load: VACUUM ANALYZE, CHECKPOINT (%.1f s)\n", secs_since(t0));
    printf("{\"records\":%ld,\"cases\":%ld,\"documents\":%ld,\"events\":%ld,\"keys\":%ld,"
           "\"tokens\":%zu,\"held_out\":%zu,\"seconds\":%.1f}\n",
           pl.n_loaded, rw.n_cases, rw.n_docs, rw.n_events, rw.n_keys, toks.n, pl.n_holds,
           secs_since(t_all));
    PQfinish(db);
    rows_free(&rw);
    sb_free(&fb);
    score_freq_free(freq);
    free(toks.v);
    free(score);
    free(is_first);
    free(pl.rec);
    free(pl.ent_start);
    free(pl.ent_len);
    free(pl.excluded);
    free(pl.loaded);
    free(pl.holds);
    return 0;
}

/* ---- blocking: can the server find the right identity at all? ---------------- */

struct keytab {
    char **key;
    uint32_t *count;
    size_t cap, n;
};

static uint32_t *kt_slot(struct keytab *t, const char *key, bool add)
{
    size_t i;

    if (add && t->n * 2 >= t->cap) {
        struct keytab big = {calloc(t->cap ? t->cap * 2 : 1u << 20, sizeof(char *)),
                             calloc(t->cap ? t->cap * 2 : 1u << 20, sizeof(uint32_t)),
                             t->cap ? t->cap * 2 : 1u << 20, t->n};

        if (big.key == NULL || big.count == NULL)
            abort();
        for (size_t k = 0; k < t->cap; k++) {
            if (t->key[k] == NULL)
                continue;
            for (i = str_hash(t->key[k]) & (big.cap - 1); big.key[i]; i = (i + 1) & (big.cap - 1))
                ;
            big.key[i] = t->key[k];
            big.count[i] = t->count[k];
        }
        free(t->key);
        free(t->count);
        *t = big;
    }
    if (t->cap == 0)
        return NULL;
    for (i = str_hash(key) & (t->cap - 1); t->key[i]; i = (i + 1) & (t->cap - 1))
        if (strcmp(t->key[i], key) == 0)
            return &t->count[i];
    if (!add)
        return NULL;
    t->key[i] = strdup(key);
    if (t->key[i] == NULL)
        abort();
    t->n++;
    return &t->count[i];
}

/* The distinct blocking keys of a loaded record, as the loader stores them. */
static size_t record_keys(const struct eval_person *r, char keys[][SCORE_KEY_MAX])
{
    struct mp_store s;
    size_t n, out = 0;

    mp_of_record(&s, r);
    n = score_blocking_keys(&s.p, keys, SCORE_MAX_KEYS);
    for (size_t k = 0; k < n; k++) {
        bool dup = false;

        for (size_t j = 0; j < out && !dup; j++)
            dup = strcmp(keys[j], keys[k]) == 0;
        if (!dup)
            memmove(keys[out++], keys[k], SCORE_KEY_MAX);
    }
    return out;
}

struct reach {
    long n, reachable, capped, none, keys, keys_over;
};

int bm_blocking_main(int argc, char **argv)
{
    static const struct option longopts[] = {{"records", required_argument, NULL, 'n'},
                                             {"seed", required_argument, NULL, 's'},
                                             {"matches", required_argument, NULL, 'm'},
                                             {"new", required_argument, NULL, 'k'},
                                             {"queries", required_argument, NULL, 'q'},
                                             {"cap", required_argument, NULL, 'c'},
                                             {NULL, 0, NULL, 0}};
    struct lopt o = {.seed = 20240611, .matches = 450, .news = 50, .queries = 1000};
    struct plan pl = {0};
    struct keytab kt = {0};
    struct reach rs[2] = {{0}, {0}};
    long cap = 200, *ent_first, *ent_last, max_ent = 0, search_i = 0, instances = 0,
         instances_over = 0, distinct_over = 0;
    uint32_t largest = 0;
    char(*keys)[SCORE_KEY_MAX] = calloc(SCORE_MAX_KEYS, SCORE_KEY_MAX);
    char(*qk)[SCORE_KEY_MAX] = calloc(SCORE_MAX_KEYS, SCORE_KEY_MAX);
    int ch;

    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'n':
            o.records = strtol(optarg, NULL, 10);
            break;
        case 's':
            o.seed = strtoull(optarg, NULL, 10);
            break;
        case 'm':
            o.matches = (int)strtol(optarg, NULL, 10);
            break;
        case 'k':
            o.news = (int)strtol(optarg, NULL, 10);
            break;
        case 'q':
            o.queries = (int)strtol(optarg, NULL, 10);
            break;
        case 'c':
            cap = strtol(optarg, NULL, 10);
            break;
        default:
            usage();
        }
    }
    if (o.records < 1000 || o.news < 1 || cap < 2 || keys == NULL || qk == NULL)
        usage();
    make_plan(&pl, &o);
    for (long i = 0; i < pl.n_loaded; i++) {
        size_t n = record_keys(&pl.rec[pl.loaded[i]], keys);

        for (size_t k = 0; k < n; k++)
            (*kt_slot(&kt, keys[k], true))++;
        if (pl.rec[pl.loaded[i]].entity > max_ent)
            max_ent = pl.rec[pl.loaded[i]].entity;
    }
    for (size_t k = 0; k < kt.cap; k++) {
        if (kt.key[k] == NULL)
            continue;
        instances += kt.count[k];
        if (kt.count[k] > largest)
            largest = kt.count[k];
        if (kt.count[k] > (uint32_t)cap) {
            instances_over += kt.count[k];
            distinct_over++;
        }
    }
    /* loaded[] is in generation order: an identity's records are adjacent */
    ent_first = malloc(sizeof(long) * (size_t)(max_ent + 1));
    ent_last = malloc(sizeof(long) * (size_t)(max_ent + 1));
    if (ent_first == NULL || ent_last == NULL)
        abort();
    for (long e = 0; e <= max_ent; e++)
        ent_first[e] = -1;
    for (long i = 0; i < pl.n_loaded; i++) {
        long e = pl.rec[pl.loaded[i]].entity;

        if (ent_first[e] < 0)
            ent_first[e] = i;
        ent_last[e] = i;
    }
    for (size_t hi = 0; hi < pl.n_holds; hi++) {
        const struct bm_hold *h = &pl.holds[hi];
        struct reach *r;
        size_t nq;
        uint32_t best = UINT32_MAX;
        bool shared = false;

        if (h->kind == BM_HOLD_NEW)
            continue;
        r = &rs[h->kind == BM_HOLD_SEARCH];
        nq = h->kind == BM_HOLD_SEARCH ? bm_query_keys(h, o.seed, search_i++, qk)
                                       : record_keys(&h->p, qk);
        r->n++;
        for (size_t k = 0; k < nq; k++) {
            uint32_t *c = kt_slot(&kt, qk[k], false);

            r->keys++;
            r->keys_over += c != NULL && *c > (uint32_t)cap;
        }
        if (h->entity <= max_ent && ent_first[h->entity] >= 0) {
            for (long i = ent_first[h->entity]; i <= ent_last[h->entity]; i++) {
                size_t n = record_keys(&pl.rec[pl.loaded[i]], keys);

                for (size_t k = 0; k < n; k++)
                    for (size_t j = 0; j < nq; j++)
                        if (strcmp(keys[k], qk[j]) == 0) {
                            uint32_t *c = kt_slot(&kt, keys[k], false);

                            shared = true;
                            if (c != NULL && *c < best)
                                best = *c;
                        }
            }
        }
        if (!shared)
            r->none++;
        else if (best <= (uint32_t)cap)
            r->reachable++;
        else
            r->capped++;
    }
    printf("Blocking at %ld records (match_block_cap %ld): %zu distinct keys, %ld key entries; "
           "%ld keys (%.2f%%) hold more than %ld records and are skipped, %.1f%% of the entries; "
           "the largest block holds %u records.\n\n",
           pl.n_loaded, cap, kt.n, instances, distinct_over,
           100.0 * (double)distinct_over / (double)(kt.n ? kt.n : 1), cap,
           100.0 * (double)instances_over / (double)(instances ? instances : 1), largest);
    {
        /* which key families the skipped blocks belong to ("ph", "dob"...) */
        struct fam {
            char name[8];
            long keys, over, entries_over;
        } fam[24];
        size_t nf = 0;

        for (size_t k = 0; k < kt.cap; k++) {
            size_t f, len;

            if (kt.key[k] == NULL)
                continue;
            len = strcspn(kt.key[k], ":");
            for (f = 0; f < nf; f++)
                if (strlen(fam[f].name) == len && strncmp(fam[f].name, kt.key[k], len) == 0)
                    break;
            if (f == nf) {
                if (nf == sizeof(fam) / sizeof(fam[0]))
                    continue;
                memset(&fam[nf], 0, sizeof(fam[nf]));
                snprintf(fam[nf].name, sizeof(fam[nf].name), "%.*s", (int)len, kt.key[k]);
                nf++;
            }
            fam[f].keys++;
            if (kt.count[k] > (uint32_t)cap) {
                fam[f].over++;
                fam[f].entries_over += kt.count[k];
            }
        }
        printf("| key family | distinct keys | skipped (block > cap) | entries in skipped blocks "
               "|\n|---|---|---|---|\n");
        for (size_t f = 0; f < nf; f++)
            if (fam[f].over > 0)
                printf("| `%s:` | %ld | %ld | %ld |\n", fam[f].name, fam[f].keys, fam[f].over,
                       fam[f].entries_over);
        printf("\n");
    }
    printf("| held-out record | count | keys per query | of them skipped (block > cap) | a loaded "
           "record of the right identity shares a key in a block the server reads | only in "
           "skipped blocks | in no block |\n|---|---|---|---|---|---|---|\n");
    for (int k = 1; k >= 0; k--) {
        const struct reach *r = &rs[k];

        printf("| %s | %ld | %.1f | %.1f | %ld (%.1f%%) | %ld (%.1f%%) | %ld (%.1f%%) |\n",
               k ? "SearchPersons query" : "submitted duplicate", r->n,
               (double)r->keys / (double)(r->n ? r->n : 1),
               (double)r->keys_over / (double)(r->n ? r->n : 1), r->reachable,
               100.0 * (double)r->reachable / (double)(r->n ? r->n : 1), r->capped,
               100.0 * (double)r->capped / (double)(r->n ? r->n : 1), r->none,
               100.0 * (double)r->none / (double)(r->n ? r->n : 1));
    }
    printf("\n");
    for (size_t k = 0; k < kt.cap; k++)
        free(kt.key[k]);
    free(kt.key);
    free(kt.count);
    free(ent_first);
    free(ent_last);
    free(keys);
    free(qk);
    free(pl.rec);
    free(pl.ent_start);
    free(pl.ent_len);
    free(pl.excluded);
    free(pl.loaded);
    free(pl.holds);
    return 0;
}
