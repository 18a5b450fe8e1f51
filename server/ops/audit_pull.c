/*
 * AuditPull: the chained entries an agency may see (auditors: all; other
 * agencies: the entries that concern their own cases), with the signed
 * checkpoints a verifier needs. Filters narrow; limits page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../audit.h"
#include "../request.h"
#include "../server.h"
#include "ops.h"
#include "opsutil.h"

#define PULL_DEFAULT 1000
#define PULL_MAX     5000

static const char pull_sql[] =
    "SELECT seq::text, at, agency_code, fingerprint, actor, operation, case_ids, details, outcome,"
    " records::text, visibility, request_id::text, prev_hash, hash"
    " FROM ritra_audit_pull($1::integer, $2::bigint, $3::bigint, $4::timestamptz,"
    " $5::timestamptz, $6, $7, $8::uuid, $9, $10::integer)";

/* Checkpoints at or after the first requested position (the ones a
 * verifier needs for these entries), plus the latest. */
static const char checkpoints_sql[] =
    "SELECT s::text, encode(hash, 'hex'), to_char(signed_at AT TIME ZONE 'UTC',"
    "  'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), encode(signature, 'hex'), key_id"
    " FROM ((SELECT seq AS s, * FROM audit_checkpoints WHERE seq >= $1::bigint"
    "        ORDER BY seq LIMIT 1000)"
    "       UNION"
    "       (SELECT seq AS s, * FROM audit_checkpoints ORDER BY seq DESC LIMIT 1)) x"
    " ORDER BY s";

struct pull_ctx {
    struct request *r;
    int limit;
    long long from;
};

static void pulled(struct db_txn *t, enum db_outcome db, void *arg)
{
    struct pull_ctx *ctx = arg;
    struct request *r = ctx->r;
    const PGresult *e = db_txn_result(t, 1), *k = db_txn_result(t, 2);
    Ritra__Response resp = RITRA__RESPONSE__INIT;
    Ritra__AuditPullResult res = RITRA__AUDIT_PULL_RESULT__INIT;
    Ritra__AuditEntry *entries = NULL, **eptrs = NULL;
    Ritra__AuditCheckpoint *cps = NULL, **cptrs = NULL;
    char ***case_lists = NULL;
    int n = 0, m = 0;

    if (db == DB_OK && (e == NULL || k == NULL || PQresultStatus(e) != PGRES_TUPLES_OK ||
                        PQresultStatus(k) != PGRES_TUPLES_OK))
        db = DB_SQL_ERROR;
    if (db != DB_OK) {
        ops_fail_db(r, db, db_txn_error(t));
        free(ctx);
        return;
    }
    n = PQntuples(e);
    m = PQntuples(k);
    entries = calloc((size_t)n + 1, sizeof(*entries));
    eptrs = calloc((size_t)n + 1, sizeof(*eptrs));
    case_lists = calloc((size_t)n + 1, sizeof(*case_lists));
    cps = calloc((size_t)m + 1, sizeof(*cps));
    cptrs = calloc((size_t)m + 1, sizeof(*cptrs));
    if (entries == NULL || eptrs == NULL || case_lists == NULL || cps == NULL || cptrs == NULL) {
        request_fail(r, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED, "server out of memory", NULL);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        Ritra__AuditEntry *a = &entries[i];
        char *ids = PQgetvalue(e, i, 6);

        ritra__audit_entry__init(a);
        a->seq = strtoll(PQgetvalue(e, i, 0), NULL, 10);
        a->time = PQgetvalue(e, i, 1);
        a->agency = PQgetvalue(e, i, 2);
        a->cert_fingerprint = PQgetvalue(e, i, 3);
        a->actor = PQgetvalue(e, i, 4);
        a->operation = PQgetvalue(e, i, 5);
        /* "id,id,…" splits in place into the repeated field. */
        if (*ids) {
            size_t count = 1;
            for (char *p = ids; *p; p++)
                count += *p == ',';
            case_lists[i] = calloc(count, sizeof(char *));
            if (case_lists[i] != NULL) {
                char **list = case_lists[i];
                size_t k2 = 0;
                list[k2++] = ids;
                for (char *p = ids; *p; p++)
                    if (*p == ',') {
                        *p = '\0';
                        list[k2++] = p + 1;
                    }
                a->n_case_ids = k2;
                a->case_ids = list;
            }
        }
        a->details = PQgetvalue(e, i, 7);
        a->outcome = PQgetvalue(e, i, 8);
        a->records = (int32_t)strtol(PQgetvalue(e, i, 9), NULL, 10);
        a->visibility = PQgetvalue(e, i, 10);
        a->request_id = strtoull(PQgetvalue(e, i, 11), NULL, 10);
        a->prev_hash = PQgetvalue(e, i, 12);
        a->hash = PQgetvalue(e, i, 13);
        eptrs[i] = a;
    }
    for (int i = 0; i < m; i++) {
        ritra__audit_checkpoint__init(&cps[i]);
        cps[i].seq = strtoll(PQgetvalue(k, i, 0), NULL, 10);
        cps[i].hash = PQgetvalue(k, i, 1);
        cps[i].signed_at = PQgetvalue(k, i, 2);
        cps[i].signature = PQgetvalue(k, i, 3);
        cps[i].key_id = PQgetvalue(k, i, 4);
        cptrs[i] = &cps[i];
    }
    res.n_entries = (size_t)n;
    res.entries = eptrs;
    res.n_checkpoints = (size_t)m;
    res.checkpoints = cptrs;
    res.next_seq = n > 0 ? entries[n - 1].seq + 1 : ctx->from;
    res.more = n == ctx->limit;
    request_audit(r)->records = n;
    resp.result_case = RITRA__RESPONSE__RESULT_AUDIT_PULL;
    resp.audit_pull = &res;
    request_reply(r, &resp);
out:
    for (int i = 0; case_lists != NULL && i < n; i++)
        free(case_lists[i]);
    free(case_lists);
    free(entries);
    free(eptrs);
    free(cps);
    free(cptrs);
    free(ctx);
}

void op_audit_pull(struct request *r)
{
    const Ritra__AuditPullRequest *m = request_msg(r)->audit_pull;
    struct field_errors fe;
    struct pull_ctx *ctx;
    struct db_txn *t;
    char agency[16], from[24], to[24], limit[16];
    const char *v[10];
    int lim = m->limit ? (int)m->limit : PULL_DEFAULT;

    fe_init(&fe);
    if (m->from_seq < 0)
        fe_add(&fe, "audit_pull.from_seq", "must be 0 or positive");
    if (m->to_seq < 0)
        fe_add(&fe, "audit_pull.to_seq", "must be 0 or positive");
    if (*m->from_time && !ops_timestamp_valid(m->from_time))
        fe_add(&fe, "audit_pull.from_time", "expected RFC 3339");
    if (*m->to_time && !ops_timestamp_valid(m->to_time))
        fe_add(&fe, "audit_pull.to_time", "expected RFC 3339");
    if (*m->case_id && !ops_uuid_valid(m->case_id))
        fe_add(&fe, "audit_pull.case_id", "not a UUID");
    validate_text(&fe, "audit_pull.agency", m->agency, 32, false, false);
    validate_text(&fe, "audit_pull.operation", m->operation, 64, false, false);
    validate_text(&fe, "audit_pull.actor", m->actor, 256, false, false);
    if (m->limit > PULL_MAX)
        fe_add(&fe, "audit_pull.limit", "at most %d", PULL_MAX);
    if (fe.count > 0) {
        request_fail(r, RITRA__STATUS_CODE__INVALID_ARGUMENT, "invalid request", &fe);
        return;
    }
    ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        request_fail(r, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED, "server out of memory", NULL);
        return;
    }
    ctx->r = r;
    ctx->limit = lim;
    ctx->from = m->from_seq > 0 ? m->from_seq : 1;
    snprintf(agency, sizeof(agency), "%d", request_agency(r)->id);
    snprintf(from, sizeof(from), "%lld", ctx->from);
    snprintf(to, sizeof(to), "%lld", (long long)m->to_seq);
    snprintf(limit, sizeof(limit), "%d", lim);
    v[0] = agency;
    v[1] = from;
    v[2] = m->to_seq > 0 ? to : NULL;
    v[3] = *m->from_time ? m->from_time : NULL;
    v[4] = *m->to_time ? m->to_time : NULL;
    v[5] = *m->agency ? m->agency : NULL;
    v[6] = *m->operation ? m->operation : NULL;
    v[7] = *m->case_id ? m->case_id : NULL;
    v[8] = *m->actor ? m->actor : NULL;
    v[9] = limit;
    audit_note_detail(request_audit(r), "from_seq", from);
    if (*m->case_id)
        audit_note_case(request_audit(r), m->case_id);
    t = agency_txn(request_agency(r));
    {
        const char *cv[1] = {from};
        if (db_txn_add(t, pull_sql, 10, v) < 0 || db_txn_add(t, checkpoints_sql, 1, cv) < 0)
            abort();
    }
    db_submit(server_db(request_server(r)), t, pulled, ctx);
}
