#include "case_store.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "jsonw.h"
#include "pgtext.h"
#include "policy.h"

/* Server-side timestamps as RFC 3339 UTC text with microseconds. */
#define TS(col) PGTEXT_TS(col)

/* Uppercase letters and digits only: "1.023.456-7" and "10234567" match. */
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

/* The first and last day a validated partial date can denote. */
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

static void project_person(struct jsonw *w, const Ritra__Person *p)
{
    const Ritra__VictimContext *v = p->victim;
    const Ritra__Consent *con = v ? v->consent : NULL;

    jsonw_obj_begin(w);
    jsonw_key(w, "person_ref");
    jsonw_str(w, p->person_ref);
    jsonw_key(w, "role");
    jsonw_str(w, p->role);
    jsonw_key(w, "given_names");
    jsonw_str(w, p->prs_firstname);
    jsonw_key(w, "middle_name");
    jsonw_str(w, p->prs_middlename);
    jsonw_key(w, "first_surname");
    jsonw_str(w, p->first_surname);
    jsonw_key(w, "second_surname");
    jsonw_str(w, p->second_surname);
    jsonw_key(w, "aliases");
    jsonw_strs(w, p->aliases, p->n_aliases);
    jsonw_key(w, "sex");
    jsonw_str(w, p->sex);
    jsonw_key(w, "gender");
    jsonw_str(w, p->prs_gender);
    jsonw_key(w, "birth_date");
    jsonw_str(w, p->prs_birthdate);
    jsonw_key(w, "citizenships");
    jsonw_strs(w, p->prs_citizenship, p->n_prs_citizenship);
    jsonw_key(w, "phones");
    jsonw_strs(w, p->phones, p->n_phones);
    jsonw_key(w, "trafficking_status");
    jsonw_str(w, v ? v->vic_traffickingstatus : NULL);
    jsonw_key(w, "consent_given");
    jsonw_bool(w, con != NULL && con->con_consent);
    jsonw_key(w, "consent_scope");
    jsonw_strs(w, con ? con->scope : NULL, con ? con->n_scope : 0);
    jsonw_key(w, "consent_date");
    jsonw_str(w, con ? con->date : NULL);
    jsonw_key(w, "documents");
    jsonw_arr_begin(w);
    for (size_t i = 0; i < p->n_documents; i++) {
        const Ritra__IdentityDocument *d = p->documents[i];
        char norm[80];

        doc_number_norm(d->number, norm, sizeof(norm));
        jsonw_obj_begin(w);
        jsonw_key(w, "type");
        jsonw_str(w, d->type);
        jsonw_key(w, "number");
        jsonw_str(w, d->number);
        jsonw_key(w, "number_norm");
        jsonw_str(w, norm);
        jsonw_key(w, "issuing_country");
        jsonw_str(w, d->issuing_country);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
    jsonw_obj_end(w);
}

static void project_events(struct jsonw *w, const Ritra__Case *c)
{
    jsonw_arr_begin(w);
    for (size_t i = 0; i < c->n_events; i++) {
        const Ritra__TraffickingEvent *e = c->events[i];
        char from[11], to[11];

        jsonw_obj_begin(w);
        jsonw_key(w, "ordinal");
        jsonw_int(w, (int64_t)i);
        jsonw_key(w, "type");
        jsonw_str(w, e->hte_type);
        jsonw_key(w, "date");
        jsonw_str(w, e->hte_date);
        if (e->hte_date != NULL && *e->hte_date) {
            date_range(e->hte_date, from, to);
            jsonw_key(w, "date_from");
            jsonw_str(w, from);
            jsonw_key(w, "date_to");
            jsonw_str(w, to);
        }
        jsonw_key(w, "country");
        jsonw_str(w, e->hte_country);
        jsonw_key(w, "state");
        jsonw_str(w, e->hte_state);
        jsonw_key(w, "city");
        jsonw_str(w, e->hte_city);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
}

struct submit_ctx {
    case_written_fn fn;
    void *arg;
};

#ifndef RITRA_BENCH_NO_AUDIT
/* The submission and its audit entry are one statement, one transaction:
 * the entry records the outcome the function decided. */
static const char submit_sql[] =
    "WITH s AS (SELECT * FROM ritra_submit_case($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
    "   $12, $13, $14, $15, $16::jsonb, $17::jsonb)),"
    " a AS (INSERT INTO audit_log (agency_id, agency_code, fingerprint, actor, operation, details,"
    "   request_id, case_ids, outcome)"
    "   SELECT $18::integer, $19, $20, $21, $22, $23, $24::numeric,"
    "     CASE WHEN s.case_id IS NULL THEN '{}'::uuid[] ELSE ARRAY[s.case_id] END,"
    "     CASE s.outcome WHEN 'conflict' THEN 'FAILED_PRECONDITION' ELSE 'OK' END FROM s)"
    " SELECT outcome, case_id::text, version FROM s";
#define SUBMIT_NPARAMS 24
#else
/* Benchmark-only build (ritra-server-noaudit-bench, tools/bench/meson.build):
 * the same statement without the audit insert, hence without $18..$24, so
 * that tools/bench/audit-overhead can measure what the entry costs (it
 * checks that this is submit_sql above minus its "a" CTE). Never compiled
 * into ritra-server. */
static const char submit_sql[] =
    "WITH s AS (SELECT * FROM ritra_submit_case($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
    "   $12, $13, $14, $15, $16::jsonb, $17::jsonb))"
    " SELECT outcome, case_id::text, version FROM s";
#define SUBMIT_NPARAMS 17
#endif

static void submit_done(struct db_txn *t, enum db_outcome db, void *arg)
{
    struct submit_ctx *ctx = arg;
    const PGresult *r = db_txn_result(t, 1);
    struct case_written w;
    const char *outcome;

    memset(&w, 0, sizeof(w));
    w.db = db;
    w.error = db_txn_error(t);
    w.outcome = CASE_FAILED;
    if (db == DB_OK && r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        outcome = PQgetvalue(r, 0, 0);
        snprintf(w.case_id, sizeof(w.case_id), "%s", PQgetvalue(r, 0, 1));
        w.version = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
        if (strcmp(outcome, "created") == 0)
            w.outcome = CASE_CREATED;
        else if (strcmp(outcome, "updated") == 0)
            w.outcome = CASE_UPDATED;
        else if (strcmp(outcome, "unchanged") == 0)
            w.outcome = CASE_UNCHANGED;
        else if (strcmp(outcome, "conflict") == 0)
            w.outcome = CASE_CONFLICT;
    } else if (db == DB_OK) {
        w.db = DB_SQL_ERROR;
        w.error = "unexpected result from ritra_submit_case";
    }
    ctx->fn(&w, ctx->arg);
    free(ctx);
}

/* The three renderings of a record (see policy_render). */
struct renderings {
    uint8_t *full, *shareable, *restricted;
    size_t full_len, shareable_len, restricted_len;
    uint8_t sha[32];
};

static void renderings_free(struct renderings *rd)
{
    free(rd->full);
    free(rd->shareable);
    free(rd->restricted);
}

static int render_all(const Ritra__Case *rec, struct renderings *rd)
{
    memset(rd, 0, sizeof(*rd));
    if (policy_render(rec, POLICY_VARIANT_FULL, &rd->full, &rd->full_len) < 0 ||
        policy_render(rec, POLICY_VARIANT_SHAREABLE, &rd->shareable, &rd->shareable_len) < 0 ||
        policy_render(rec, POLICY_VARIANT_RESTRICTED, &rd->restricted, &rd->restricted_len) < 0)
        return -1;
    /* The identity of the content is the hash of what the owner said. */
    return EVP_Digest(rd->full, rd->full_len, rd->sha, NULL, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

int case_store_submit(struct db_pool *db, const struct audit_who *who, const char *operation,
                      const Ritra__Case *c, int64_t expected_version, case_written_fn fn, void *arg)
{
    const struct agency *a = who->agency;
    const char *actor = who->actor;
    struct audit_note note;
    struct audit_params ap;
    Ritra__Case rec = *c;
    struct submit_ctx *ctx = NULL;
    struct jsonw persons, events;
    struct renderings rd;
    char agency_id[16], expected[24], count[16], *types = NULL;
    const char *values[24];
    int lengths[24] = {0}, formats[24] = {0}, rc = -1;
    struct db_txn *t;

    /* The record holds what the agency said, never what the server says. */
    rec.case_id = rec.owner_agency = rec.created_at = rec.updated_at = "";
    rec.version = 0;
    jsonw_init(&persons);
    jsonw_init(&events);
    if (render_all(&rec, &rd) < 0)
        goto out;
    jsonw_arr_begin(&persons);
    for (size_t i = 0; i < c->n_persons; i++)
        project_person(&persons, c->persons[i]);
    jsonw_arr_end(&persons);
    project_events(&events, c);
    types = pgtext_array(c->vic_typeofexploitation, c->n_vic_typeofexploitation);
    if (types == NULL || jsonw_finish(&persons) == NULL || jsonw_finish(&events) == NULL)
        goto out;
    snprintf(agency_id, sizeof(agency_id), "%d", a->id);
    snprintf(expected, sizeof(expected), "%lld", (long long)expected_version);
    snprintf(count, sizeof(count), "%zu", c->n_persons);
    values[0] = agency_id;
    values[1] = actor;
    values[2] = c->external_ref;
    values[3] = expected;
    values[4] = (const char *)rd.sha;
    lengths[4] = sizeof(rd.sha);
    values[5] = (const char *)rd.full;
    lengths[5] = (int)rd.full_len;
    values[6] = (const char *)rd.shareable;
    lengths[6] = (int)rd.shareable_len;
    values[7] = (const char *)rd.restricted;
    lengths[7] = (int)rd.restricted_len;
    formats[4] = formats[5] = formats[6] = formats[7] = 1;
    values[8] = c->cas_status;
    values[9] = c->handling_code;
    values[10] = c->source_reliability;
    values[11] = c->information_accuracy;
    values[12] = types;
    values[13] = count;
    values[14] = c->h3_allow_hits ? "true" : "false";
    values[15] = jsonw_finish(&persons);
    values[16] = jsonw_finish(&events);
    audit_note_init(&note, operation);
    audit_note_detail(&note, "external_ref", c->external_ref);
    audit_params(&ap, &note, who);
    memcpy(&values[17], ap.values, sizeof(ap.values));
    ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL)
        goto out;
    ctx->fn = fn;
    ctx->arg = arg;
    t = agency_txn(a);
    if (db_txn_add_ex(t, submit_sql, SUBMIT_NPARAMS, values, lengths, formats, 0) < 0) {
        db_txn_free(t);
        free(ctx);
        goto out;
    }
    db_submit(db, t, submit_done, ctx);
    rc = 0;
out:
    free(types);
    renderings_free(&rd);
    jsonw_free(&persons);
    jsonw_free(&events);
    return rc;
}

struct rows_ctx {
    case_rows_fn fn;
    void *arg;
    enum { Q_GET, Q_LIST, Q_SYNC } kind;
    int limit;
};

/*
 * Every read returns the same columns (see row_at): the case's metadata,
 * the one rendering the database's own access decision allows, that
 * decision, and the facts it was made from, so that the server's policy
 * module can make it again and compare.
 *
 * Get and sync read the cases of a CTE ids(id) through HEADS, as a CTE h
 * (materialized where it is joined to many rows, so it runs once). The
 * caller's own cases come straight from cases (level 3 by definition; the
 * cases policy admits them), with zero facts, as the owner needs none.
 * Any other case goes through ritra_case_heads() (migrations/0015): the
 * cases policy admits other agencies' rows only from RESTRICTED up, and the
 * head of a case the agency may only hit carries the HIT fields alone
 * (content columns NULL). The function is called once per statement, and
 * not at all when every case is the caller's (the HAVING below), which
 * keeps owners' reads and syncs, the common ones, off it.
 */
#define HEADS                                                                                      \
    " SELECT c.case_id, a.code AS owner_code, c.version, c.created_at, c.updated_at, c.status,"    \
    "    c.handling_code, c.person_count, c.external_ref, 3::smallint AS level,"                   \
    "    c.owner_agency_id, c.h3_allow_hits, 0::smallint AS direct, 0::smallint AS by_kind,"       \
    "    0::smallint AS kind_default, a.name AS owner_name, a.contact"                             \
    "    FROM ids JOIN cases c ON c.case_id = ids.id AND c.owner_agency_id = $1"                   \
    "    JOIN agencies a ON a.agency_id = c.owner_agency_id"                                       \
    "  UNION ALL"                                                                                  \
    "  SELECT x.* FROM (SELECT array_agg(ids.id) AS others FROM ids"                               \
    "     WHERE NOT EXISTS (SELECT 1 FROM cases o"                                                 \
    "                        WHERE o.case_id = ids.id AND o.owner_agency_id = $1)"                 \
    "     HAVING count(*) > 0) n"                                                                  \
    "   CROSS JOIN LATERAL ritra_case_heads(n.others) x"

#define HEAD_COLUMNS                                                                               \
    "h.case_id::text, h.owner_code, h.version::text, " TS("h.created_at") ", " TS(                 \
        "h.updated_at") ", h.status, h.handling_code, h.person_count::text, h.external_ref, "      \
                        "r.record, h.level::text, "                                                \
                        "h.owner_agency_id::text, h.h3_allow_hits::text, h.direct::text, "         \
                        "h.by_kind::text, "                                                        \
                        "h.kind_default::text, h.owner_name, h.contact, r.variant"

/* The one rendering the database lets the agency ($1) read, if any. */
#define HEAD_RECORD                                                                                \
    " LEFT JOIN case_records r ON r.case_id = h.case_id AND r.variant = CASE"                      \
    "   WHEN h.owner_agency_id = $1 THEN 'full' WHEN h.level = 3 THEN 'shareable'"                 \
    "   WHEN h.level = 2 THEN 'restricted' END"

/* For lists: the same columns, no record. */
#define LIST_COLUMNS                                                                               \
    "c.case_id::text, a.code, c.version::text, " TS("c.created_at") ", " TS(                       \
        "c.updated_at") ", c.status, c.handling_code, c.person_count::text, c.external_ref, "      \
                        "NULL::bytea, l.lvl::text, "                                               \
                        "c.owner_agency_id::text, c.h3_allow_hits::text, i.direct::text, "         \
                        "i.by_kind::text, "                                                        \
                        "i.kind_default::text, a.name, a.contact, NULL::text"

/* Lists read cases directly (row-level security: RESTRICTED and up); for
 * the owner the facts are not fetched: the owner always sees everything. */
#define LEVEL_JOINS                                                                                \
    " LEFT JOIN agencies a ON a.agency_id = c.owner_agency_id"                                     \
    " LEFT JOIN LATERAL (SELECT CASE WHEN c.owner_agency_id = $1 THEN 3"                           \
    "   ELSE ritra_my_case_level(c.case_id) END AS lvl) l ON true"                                 \
    " LEFT JOIN LATERAL (SELECT * FROM ritra_my_level_inputs(c.case_id)"                           \
    "   WHERE c.owner_agency_id <> $1 OFFSET 0) i ON true"

static int int_at(const PGresult *r, int i, int col)
{
    return PQgetisnull(r, i, col) ? 0 : (int)strtol(PQgetvalue(r, i, col), NULL, 10);
}

static void row_at(const PGresult *r, int i, struct case_row *row)
{
    memset(row, 0, sizeof(*row));
    row->case_id = PQgetvalue(r, i, 0);
    row->visible = !PQgetisnull(r, i, 1);
    row->owner_code = PQgetvalue(r, i, 1);
    row->version = strtoll(PQgetvalue(r, i, 2), NULL, 10);
    row->created_at = PQgetvalue(r, i, 3);
    row->updated_at = PQgetvalue(r, i, 4);
    row->status = PQgetvalue(r, i, 5);
    row->handling_code = PQgetvalue(r, i, 6);
    row->person_count = int_at(r, i, 7);
    row->external_ref = PQgetvalue(r, i, 8);
    if (!PQgetisnull(r, i, 9)) {
        row->record = (const uint8_t *)PQgetvalue(r, i, 9);
        row->record_len = (size_t)PQgetlength(r, i, 9);
    }
    row->db_level = int_at(r, i, 10);
    row->owner_agency_id = int_at(r, i, 11);
    row->h3_allow_hits = strcmp(PQgetvalue(r, i, 12), "true") == 0;
    row->grant_direct = int_at(r, i, 13);
    row->grant_by_kind = int_at(r, i, 14);
    row->kind_default = int_at(r, i, 15);
    row->owner_name = PQgetvalue(r, i, 16);
    row->contact = PQgetvalue(r, i, 17);
    row->variant = PQgetvalue(r, i, 18);
}

static void rows_done(struct db_txn *t, enum db_outcome db, void *arg)
{
    struct rows_ctx *ctx = arg;
    const PGresult *r = db_txn_result(t, 1);
    struct case_row *rows = NULL;
    char next[128] = "";
    int n = 0;

    if (db == DB_OK && (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK))
        db = DB_SQL_ERROR;
    if (db == DB_OK)
        n = PQntuples(r);
    if (n > 0) {
        rows = calloc((size_t)n, sizeof(*rows));
        if (rows == NULL) {
            ctx->fn(NULL, 0, DB_SQL_ERROR, "out of memory", "", ctx->arg);
            free(ctx);
            return;
        }
        for (int i = 0; i < n; i++) {
            row_at(r, i, &rows[i]);
            if (ctx->kind == Q_LIST)
                rows[i].variant = NULL; /* lists carry no rendering */
            if (ctx->kind == Q_SYNC) {
                /* The feed knows the case even when the agency no longer may. */
                rows[i].case_id = PQgetvalue(r, i, 19);
                rows[i].feed_xid = PQgetvalue(r, i, 20);
                rows[i].feed_seq = PQgetvalue(r, i, 21);
            }
        }
        if (ctx->kind == Q_SYNC)
            snprintf(next, sizeof(next), "%s:%s", rows[n - 1].feed_xid, rows[n - 1].feed_seq);
        else if (ctx->kind == Q_LIST && n == ctx->limit)
            snprintf(next, sizeof(next), "%s|%s", PQgetvalue(r, n - 1, 19), rows[n - 1].case_id);
    }
    ctx->fn(rows, n, db, db_txn_error(t), next, ctx->arg);
    free(rows);
    free(ctx);
}

static void submit_rows(struct db_pool *db, struct db_txn *t, int kind, int limit, case_rows_fn fn,
                        void *arg)
{
    struct rows_ctx *ctx = calloc(1, sizeof(*ctx));

    if (ctx == NULL)
        abort();
    ctx->fn = fn;
    ctx->arg = arg;
    ctx->kind = kind;
    ctx->limit = limit;
    /* Binary results: records arrive as raw bytes, text columns as text. */
    db_submit(db, t, rows_done, ctx);
}

void case_store_get(struct db_pool *db, const struct agency *a, const char *case_id,
                    const char *external_ref, case_rows_fn fn, void *arg)
{
    static const char by_id[] = "WITH ids AS (SELECT $2::uuid AS id), h AS (" HEADS ")"
                                " SELECT " HEAD_COLUMNS " FROM h" HEAD_RECORD;
    /* external_ref is the caller's own namespace: only its own cases. */
    static const char by_ref[] = "WITH ids AS (SELECT c.case_id AS id FROM cases c"
                                 "   WHERE c.external_ref = $2 AND c.owner_agency_id = $1),"
                                 " h AS (" HEADS ") SELECT " HEAD_COLUMNS " FROM h" HEAD_RECORD;
    struct db_txn *t = agency_txn(a);
    char agency_id[16];
    const char *values[2] = {agency_id, case_id ? case_id : external_ref};

    snprintf(agency_id, sizeof(agency_id), "%d", a->id);
    if (db_txn_add_ex(t, case_id ? by_id : by_ref, 2, values, NULL, NULL, 1) < 0)
        abort();
    submit_rows(db, t, Q_GET, 0, fn, arg);
}

void case_store_list(struct db_pool *db, const struct agency *a, const struct case_list_query *q,
                     case_rows_fn fn, void *arg)
{
    /* Row-level security already limits cases to the visible ones. */
    static const char sql[] = "SELECT " LIST_COLUMNS ", " TS(
        "c.updated_at") " FROM cases c" LEVEL_JOINS
                        " WHERE ($2::text[] IS NULL OR c.status = ANY ($2::text[]))"
                        "   AND ($3::text[] IS NULL OR c.handling_code = ANY ($3::text[]))"
                        "   AND ($4::timestamptz IS NULL OR c.updated_at >= $4::timestamptz)"
                        "   AND ($5::timestamptz IS NULL OR (c.updated_at, c.case_id) > "
                        "($5::timestamptz, "
                        "$6::uuid))"
                        "   AND ($8::boolean IS NULL OR (c.owner_agency_id = $1) = $8::boolean)"
                        "   AND ($9::text[] IS NULL OR c.exploitation_types && $9::text[])"
                        "   AND (($10::text IS NULL AND $11::text IS NULL AND $12::date IS NULL"
                        "         AND $13::date IS NULL)"
                        "        OR ritra_case_events_match(c.case_id, $10, $11, $12::date,"
                        "                                   $13::date))"
                        /* HIT-level cases are not listed: filters and page tokens would
                         * reveal content (status, dates) a HIT must not carry. */
                        "   AND l.lvl >= 2"
                        " ORDER BY c.updated_at, c.case_id LIMIT $7";
    struct db_txn *t = agency_txn(a);
    char agency_id[16], limit[16];
    char *status = q->n_status ? pgtext_array(q->status, q->n_status) : NULL;
    char *handling = q->n_handling ? pgtext_array(q->handling, q->n_handling) : NULL;
    char *exploitation =
        q->n_exploitation ? pgtext_array(q->exploitation, q->n_exploitation) : NULL;
    const char *values[13];

    snprintf(agency_id, sizeof(agency_id), "%d", a->id);
    snprintf(limit, sizeof(limit), "%d", q->limit);
    values[0] = agency_id;
    values[1] = status;
    values[2] = handling;
    values[3] = q->updated_since;
    values[4] = q->after_updated;
    values[5] = q->after_case_id;
    values[6] = limit;
    values[7] = q->own_only < 0 ? NULL : q->own_only ? "true" : "false";
    values[8] = exploitation;
    values[9] = q->event_country;
    values[10] = q->event_city;
    values[11] = q->event_from;
    values[12] = q->event_to;
    if ((q->n_status && status == NULL) || (q->n_handling && handling == NULL) ||
        (q->n_exploitation && exploitation == NULL) ||
        db_txn_add_ex(t, sql, 13, values, NULL, NULL, 1) < 0)
        abort();
    free(status);
    free(handling);
    free(exploitation);
    submit_rows(db, t, Q_LIST, q->limit, fn, arg);
}

void case_store_sync(struct db_pool *db, const struct agency *a, const char *xid, const char *seq,
                     int limit, case_rows_fn fn, void *arg)
{
    /*
     * Only rows written by transactions older than every transaction still
     * running: a writer that commits after this read gets an xid at or
     * above the xmin seen here, hence a position after our cursor. The
     * case itself may be invisible by now (row-level security): that row
     * tells the agency it lost visibility.
     */
    static const char sql[] =
        "WITH page AS MATERIALIZED ("
        "  SELECT f.case_id, f.xid, f.seq FROM sync_feed f"
        "   WHERE f.agency_id = $1"
        "     AND (f.xid, f.seq) > ($2::xid8, $3::bigint)"
        "     AND f.xid < pg_snapshot_xmin(pg_current_snapshot())"
        "   ORDER BY f.xid, f.seq LIMIT $4),"
        " ids AS MATERIALIZED (SELECT DISTINCT case_id AS id FROM page),"
        " h AS MATERIALIZED (" HEADS ")"
        " SELECT " HEAD_COLUMNS ", p.case_id::text, p.xid::text, p.seq::text"
        "  FROM page p LEFT JOIN h ON h.case_id = p.case_id" HEAD_RECORD " ORDER BY p.xid, p.seq";
    struct db_txn *t = agency_txn(a);
    char agency_id[16], lim[16];
    const char *values[4] = {agency_id, xid, seq, lim};

    snprintf(agency_id, sizeof(agency_id), "%d", a->id);
    snprintf(lim, sizeof(lim), "%d", limit);
    if (db_txn_add_ex(t, sql, 4, values, NULL, NULL, 1) < 0)
        abort();
    submit_rows(db, t, Q_SYNC, limit, fn, arg);
}

Ritra__Case *case_store_unpack(const struct case_row *row)
{
    return ritra__case__unpack(NULL, row->record_len, row->record);
}

int case_store_encoded_field(const struct case_row *row, uint8_t **out, size_t *len)
{
    Ritra__Case head = RITRA__CASE__INIT;
    size_t head_len, body, n = 0, v;
    uint8_t *buf;

    head.case_id = (char *)row->case_id;
    head.owner_agency = (char *)row->owner_code;
    head.version = row->version;
    head.created_at = (char *)row->created_at;
    head.updated_at = (char *)row->updated_at;
    head_len = ritra__case__get_packed_size(&head);
    body = row->record_len + head_len;
    buf = malloc(10 + body);
    if (buf == NULL)
        return -1;
    for (v = body; v >= 0x80; v >>= 7)
        buf[n++] = (uint8_t)(v | 0x80);
    buf[n++] = (uint8_t)v;
    if (row->record_len > 0)
        memcpy(buf + n, row->record, row->record_len);
    /* After the record, so that these win even if a record held them. */
    ritra__case__pack(&head, buf + n + row->record_len);
    *out = buf;
    *len = n + body;
    return 0;
}

void case_store_view(const Ritra__Case *stored, const struct case_row *row, Ritra__Case *view)
{
    *view = *stored;
    view->case_id = (char *)row->case_id;
    view->owner_agency = (char *)row->owner_code;
    view->version = row->version;
    view->created_at = (char *)row->created_at;
    view->updated_at = (char *)row->updated_at;
}
