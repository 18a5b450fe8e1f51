#include "grant_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "pgtext.h"
#include "policy.h"

#define TS(col) PGTEXT_TS(col)

/* Columns of one grant, in the order grant_at() reads them. */
#define GRANT_COLUMNS                                                                              \
    "g.grant_id::text, g.case_id::text, gr.code, coalesce(ge.code, ''), "                          \
    "coalesce(g.grantee_kind::text, ''), g.level::text, g.purpose, "                               \
    "coalesce(" TS("g.expires_at") ", ''), g.state, " TS("g.created_at") ", " TS(                  \
        "g.updated_at") ", coalesce(g.parent_grant_id::text, ''), coalesce(g.reason, '')"

#define GRANT_FROM                                                                                 \
    " FROM grants g JOIN agencies gr ON gr.agency_id = g.grantor_agency_id"                        \
    " LEFT JOIN agencies ge ON ge.agency_id = g.grantee_agency_id"

static const char last_grant_sql[] =
    "SELECT " GRANT_COLUMNS GRANT_FROM
    " WHERE g.grant_id = nullif(current_setting('ritra.last_grant', true), '')::uuid";

struct grant_ctx {
    grant_fn fn;
    void *arg;
    int result_stmt;  /* which statement holds the grants */
    int outcome_stmt; /* -1 for lists */
    int limit;
};

static void grant_at(const PGresult *r, int i, Ritra__Grant *g)
{
    ritra__grant__init(g);
    g->grant_id = PQgetvalue(r, i, 0);
    g->case_id = PQgetvalue(r, i, 1);
    g->grantor_agency = PQgetvalue(r, i, 2);
    g->grantee_agency = PQgetvalue(r, i, 3);
    g->grantee_kind = PQgetvalue(r, i, 4);
    g->level = (char *)policy_level_name((enum policy_level)strtol(PQgetvalue(r, i, 5), NULL, 10));
    g->purpose = PQgetvalue(r, i, 6);
    g->expires_at = PQgetvalue(r, i, 7);
    g->state = PQgetvalue(r, i, 8);
    g->created_at = PQgetvalue(r, i, 9);
    g->updated_at = PQgetvalue(r, i, 10);
    g->parent_grant_id = PQgetvalue(r, i, 11);
    g->reason = PQgetvalue(r, i, 12);
}

static void grant_done(struct db_txn *t, enum db_outcome db, void *arg)
{
    struct grant_ctx *ctx = arg;
    const PGresult *out = ctx->outcome_stmt >= 0 ? db_txn_result(t, ctx->outcome_stmt) : NULL;
    const PGresult *r = db_txn_result(t, ctx->result_stmt);
    Ritra__Grant *grants = NULL, **ptrs = NULL;
    const char *outcome = "";
    char next[128] = "";
    int n = 0;

    if (db == DB_OK && (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK))
        db = DB_SQL_ERROR;
    if (db == DB_OK && out != NULL && PQntuples(out) == 1)
        outcome = PQgetvalue(out, 0, 0);
    if (db == DB_OK)
        n = PQntuples(r);
    if (n > 0) {
        grants = calloc((size_t)n, sizeof(*grants));
        ptrs = calloc((size_t)n, sizeof(*ptrs));
        if (grants == NULL || ptrs == NULL) {
            n = 0;
            db = DB_SQL_ERROR;
        }
    }
    for (int i = 0; i < n; i++) {
        grant_at(r, i, &grants[i]);
        ptrs[i] = &grants[i];
    }
    if (ctx->outcome_stmt < 0 && n > 0 && n == ctx->limit)
        snprintf(next, sizeof(next), "%s|%s", grants[n - 1].created_at, grants[n - 1].grant_id);
    ctx->fn(outcome, ptrs, n, db, db_txn_error(t), next, ctx->arg);
    free(grants);
    free(ptrs);
    free(ctx);
}

static void run(struct db_pool *db, struct db_txn *t, int outcome_stmt, int result_stmt, int limit,
                grant_fn fn, void *arg)
{
    struct grant_ctx *ctx = calloc(1, sizeof(*ctx));

    if (ctx == NULL)
        abort();
    ctx->fn = fn;
    ctx->arg = arg;
    ctx->outcome_stmt = outcome_stmt;
    ctx->result_stmt = result_stmt;
    ctx->limit = limit;
    db_submit(db, t, grant_done, ctx);
}

/*
 * Each transition and its audit entry are one statement: the entry
 * records the outcome the SQL function decided ($8.. are audit_params).
 */
#define AUDIT_CTE(cases)                                                                           \
    " a AS (INSERT INTO audit_log (agency_id, agency_code, fingerprint, actor, operation,"         \
    "   details, request_id, case_ids, outcome)"                                                   \
    "   SELECT $8::integer, $9, $10, $11, $12, $13, $14::numeric, " cases ","                      \
    "     CASE s.outcome WHEN 'created' THEN 'OK' WHEN 'done' THEN 'OK'"                           \
    "       WHEN 'exists' THEN 'ALREADY_EXISTS' WHEN 'denied' THEN 'PERMISSION_DENIED'"            \
    "       WHEN 'self' THEN 'INVALID_ARGUMENT' WHEN 'bad_expiry' THEN 'INVALID_ARGUMENT'"         \
    "       WHEN 'wrong_state' THEN 'FAILED_PRECONDITION'"                                         \
    "       ELSE 'NOT_FOUND' END FROM s)"                                                          \
    " SELECT outcome FROM s"

/* The case a grant is about, if the caller may see the grant. */
#define GRANT_CASE(param)                                                                          \
    "coalesce((SELECT ARRAY[case_id] FROM grants WHERE grant_id = " param "::uuid), '{}')"

static void add_audit(const char **v, int from, const struct audit_who *who, const char *op,
                      const char *grant_id, struct audit_note *note, struct audit_params *ap)
{
    audit_note_init(note, op);
    if (grant_id != NULL)
        audit_note_detail(note, "grant_id", grant_id);
    audit_params(ap, note, who);
    memcpy(&v[from], ap->values, sizeof(ap->values));
}

void grant_store_share(struct db_pool *db, const struct audit_who *who, const struct grant_share *s,
                       grant_fn fn, void *arg)
{
    static const char sql[] =
        "WITH s AS (SELECT outcome FROM ritra_share_case($1::uuid,"
        " (SELECT agency_id FROM agencies WHERE code = $2), $3::agency_kind, $4::smallint, $5,"
        " $6::timestamptz, $7))," AUDIT_CTE("ARRAY[$1::uuid]");
    const struct agency *a = who->agency;
    const char *actor = who->actor;
    struct db_txn *t = agency_txn(a);
    struct audit_note note;
    struct audit_params ap;
    char level[8];
    const char *v[14];

    snprintf(level, sizeof(level), "%d", s->level);
    v[0] = s->case_id;
    v[1] = s->grantee_agency;
    v[2] = s->grantee_kind;
    v[3] = level;
    v[4] = s->purpose;
    v[5] = s->expires_at;
    v[6] = actor;
    add_audit(v, 7, who, "share_case", NULL, &note, &ap);
    if (db_txn_add(t, sql, 14, v) < 0 || db_txn_add(t, last_grant_sql, 0, NULL) < 0)
        abort();
    run(db, t, 1, 2, 0, fn, arg);
}

void grant_store_respond(struct db_pool *db, const struct audit_who *who, const char *grant_id,
                         bool accept, const char *reason, grant_fn fn, void *arg)
{
    /* $5..$7 unused: keeps the audit parameters at $8 for AUDIT_CTE. */
    static const char sql[] =
        "WITH s AS (SELECT outcome FROM ritra_respond_share($1::uuid, $2::boolean,"
        " nullif($3, ''), $4) WHERE $5::text IS NULL AND $6::text IS NULL AND $7::text IS "
        "NULL)," AUDIT_CTE(GRANT_CASE("$1"));
    struct db_txn *t = agency_txn(who->agency);
    struct audit_note note;
    struct audit_params ap;
    const char *v[14] = {grant_id, accept ? "true" : "false", reason, who->actor, NULL, NULL, NULL};

    add_audit(v, 7, who, accept ? "respond_to_share.accept" : "respond_to_share.reject", grant_id,
              &note, &ap);
    if (db_txn_add(t, sql, 14, v) < 0 || db_txn_add(t, last_grant_sql, 0, NULL) < 0)
        abort();
    run(db, t, 1, 2, 0, fn, arg);
}

void grant_store_revoke(struct db_pool *db, const struct audit_who *who, const char *grant_id,
                        const char *reason, grant_fn fn, void *arg)
{
    static const char sql[] =
        "WITH s AS (SELECT outcome FROM ritra_revoke_share($1::uuid, nullif($2, ''), $3)"
        " WHERE $4::text IS NULL AND $5::text IS NULL AND $6::text IS NULL AND $7::text IS "
        "NULL)," AUDIT_CTE(GRANT_CASE("$1"));
    struct db_txn *t = agency_txn(who->agency);
    struct audit_note note;
    struct audit_params ap;
    const char *v[14] = {grant_id, reason, who->actor, NULL, NULL, NULL, NULL};

    add_audit(v, 7, who, "revoke_share", grant_id, &note, &ap);
    if (db_txn_add(t, sql, 14, v) < 0 || db_txn_add(t, last_grant_sql, 0, NULL) < 0)
        abort();
    run(db, t, 1, 2, 0, fn, arg);
}

void grant_store_list(struct db_pool *db, const struct agency *a, const struct grant_list_query *q,
                      grant_fn fn, void *arg)
{
    /* Row-level security limits grants to the parties; direction narrows. */
    static const char sql[] =
        "SELECT " GRANT_COLUMNS GRANT_FROM " WHERE CASE WHEN $2::boolean"
        "   THEN g.grantee_agency_id = $1"
        "     OR g.grantee_kind = (SELECT kind FROM agencies WHERE agency_id = $1)"
        "   ELSE g.grantor_agency_id = $1 END"
        "   AND ($3::text[] IS NULL OR g.state = ANY ($3::text[]))"
        "   AND ($4::uuid IS NULL OR g.case_id = $4::uuid)"
        "   AND ($5::timestamptz IS NULL OR (g.created_at, g.grant_id) > ($5::timestamptz, "
        "$6::uuid))"
        " ORDER BY g.created_at, g.grant_id LIMIT $7";
    struct db_txn *t = agency_txn(a);
    char agency_id[16], limit[16];
    char *states = q->n_states ? pgtext_array(q->states, q->n_states) : NULL;
    const char *v[7];

    snprintf(agency_id, sizeof(agency_id), "%d", a->id);
    snprintf(limit, sizeof(limit), "%d", q->limit);
    v[0] = agency_id;
    v[1] = q->received ? "true" : "false";
    v[2] = states;
    v[3] = q->case_id;
    v[4] = q->after_created;
    v[5] = q->after_id;
    v[6] = limit;
    if ((q->n_states && states == NULL) || db_txn_add(t, sql, 7, v) < 0)
        abort();
    free(states);
    run(db, t, -1, 1, q->limit, fn, arg);
}

struct expire_ctx {
    void (*done)(int, void *);
    void *arg;
};

static void expired(struct db_txn *t, enum db_outcome db, void *arg)
{
    struct expire_ctx *ctx = arg;
    const PGresult *r = db_txn_result(t, 0);
    int n = -1;

    if (db == DB_OK && r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        n = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
    ctx->done(n, ctx->arg);
    free(ctx);
}

void grant_store_expire(struct db_pool *db, void (*done)(int expired, void *arg), void *arg)
{
    struct db_txn *t = db_txn_new();
    struct expire_ctx *ctx = calloc(1, sizeof(*ctx));

    if (ctx == NULL || db_txn_add(t, "SELECT ritra_expire_grants()", 0, NULL) < 0)
        abort();
    ctx->done = done;
    ctx->arg = arg;
    db_submit(db, t, expired, ctx);
}
