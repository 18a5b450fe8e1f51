/*
 * ShareCase, RespondToShare, RevokeShare, ListShares. The server's policy
 * module decides whether a share is allowed; the SQL functions check the
 * same conditions again under the row lock and make each transition
 * race-safe (docs/access.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../audit.h"
#include "../case_store.h"
#include "../grant_store.h"
#include "../log.h"
#include "../policy.h"
#include "../request.h"
#include "../server.h"
#include "ops.h"
#include "opsutil.h"

#define SHARE_MAX_PURPOSE 500
#define SHARE_MAX_REASON  500
#define SHARES_MAX_PAGE   500
#define SHARES_TOKEN      "G1~"

static Ritra__StatusCode outcome_code(const char *outcome, const char **msg)
{
    static const struct {
        const char *outcome;
        Ritra__StatusCode code;
        const char *msg;
    } map[] = {
        {"exists", RITRA__STATUS_CODE__ALREADY_EXISTS,
         "a live grant to this recipient exists already"},
        {"not_found", RITRA__STATUS_CODE__NOT_FOUND, "no such case or grant"},
        {"denied", RITRA__STATUS_CODE__PERMISSION_DENIED, "sharing this case is not allowed"},
        {"self", RITRA__STATUS_CODE__INVALID_ARGUMENT,
         "a case cannot be shared with its owner or with yourself"},
        {"no_grantee", RITRA__STATUS_CODE__NOT_FOUND, "no such agency"},
        {"wrong_state", RITRA__STATUS_CODE__FAILED_PRECONDITION, "the grant is no longer open"},
        {"bad_expiry", RITRA__STATUS_CODE__INVALID_ARGUMENT, "expires_at is not in the future"},
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(outcome, map[i].outcome) == 0) {
            *msg = map[i].msg;
            return map[i].code;
        }
    }
    *msg = "unexpected outcome";
    return RITRA__STATUS_CODE__INTERNAL;
}

/* An offered grant past its expiry is expired, whether or not the expiry
 * tick has marked it yet. RFC 3339 UTC strings of one format compare as
 * times. */
static const char *effective_state(const Ritra__Grant *g)
{
    char now[40];
    time_t t = time(NULL);
    struct tm tm;

    if (strcmp(g->state, "offered") != 0 || *g->expires_at == '\0')
        return g->state;
    gmtime_r(&t, &tm);
    strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
    return strcmp(g->expires_at, now) <= 0 ? "expired" : g->state;
}

/* The reply for share, respond and revoke: the grant as it now stands. */
static void grant_reply(const char *outcome, Ritra__Grant *const *grants, int n, enum db_outcome db,
                        const char *error, const char *next, void *arg)
{
    struct request *r = arg;
    Ritra__Response resp = RITRA__RESPONSE__INIT;
    Ritra__ShareCaseResult share = RITRA__SHARE_CASE_RESULT__INIT;
    Ritra__RespondToShareResult respond = RITRA__RESPOND_TO_SHARE_RESULT__INIT;
    Ritra__RevokeShareResult revoke = RITRA__REVOKE_SHARE_RESULT__INIT;
    const char *msg;
    char why[200];

    (void)next;
    if (db != DB_OK) {
        ops_fail_db(r, db, error);
        return;
    }
    /* Committed together with its audit entry, whatever the outcome. */
    request_audit(r)->written = true;
    if (n == 1)
        audit_note_case(request_audit(r), grants[0]->case_id);
    if (strcmp(outcome, "created") != 0 && strcmp(outcome, "done") != 0) {
        Ritra__StatusCode code = outcome_code(outcome, &msg);
        /* Tell the caller which grant stands in the way, and its state. */
        if (n == 1)
            snprintf(why, sizeof(why), "%s (grant %s is %s)", msg, grants[0]->grant_id,
                     effective_state(grants[0]));
        else
            snprintf(why, sizeof(why), "%s", msg);
        request_fail(r, code, why, NULL);
        return;
    }
    if (n != 1) {
        request_fail(r, RITRA__STATUS_CODE__INTERNAL, "grant not found after writing it", NULL);
        return;
    }
    switch (request_msg(r)->op_case) {
    case RITRA__REQUEST__OP_SHARE_CASE:
        share.grant = grants[0];
        resp.result_case = RITRA__RESPONSE__RESULT_SHARE_CASE;
        resp.share_case = &share;
        break;
    case RITRA__REQUEST__OP_RESPOND_TO_SHARE:
        respond.grant = grants[0];
        resp.result_case = RITRA__RESPONSE__RESULT_RESPOND_TO_SHARE;
        resp.respond_to_share = &respond;
        break;
    default:
        revoke.grant = grants[0];
        resp.result_case = RITRA__RESPONSE__RESULT_REVOKE_SHARE;
        resp.revoke_share = &revoke;
        break;
    }
    request_reply(r, &resp);
}

/* First the policy module's decision on the sharer's own standing. */
static void share_checked(const struct case_row *rows, int n, enum db_outcome db, const char *error,
                          const char *next, void *arg)
{
    struct request *r = arg;
    const Ritra__ShareCaseRequest *m = request_msg(r)->share_case;
    const struct agency *me = request_agency(r);
    struct grant_share s;
    struct audit_who who;
    enum policy_level level, want;
    enum agency_kind kind = AGENCY_KIND_NONE;
    const char *why;

    (void)next;
    if (db != DB_OK) {
        ops_fail_db(r, db, error);
        return;
    }
    if (n == 0 || ops_row_level(me, &rows[0], &level) < 0 || level == POLICY_NONE) {
        request_fail(r, RITRA__STATUS_CODE__NOT_FOUND, "no such case", NULL);
        return;
    }
    policy_level_parse(m->level, &want);
    if (*m->grantee_kind)
        kind = agency_kind_parse(m->grantee_kind);
    if (*m->grantee_kind && rows[0].owner_agency_id != me->id)
        why = "only the owner may share with a whole kind of agency";
    else
        why = policy_may_share(rows[0].owner_agency_id == me->id, level, rows[0].handling_code,
                               want, kind);
    if (why != NULL) {
        request_fail(r, RITRA__STATUS_CODE__PERMISSION_DENIED, why, NULL);
        return;
    }
    memset(&s, 0, sizeof(s));
    s.case_id = m->case_id;
    s.grantee_agency = *m->grantee_agency ? m->grantee_agency : NULL;
    s.grantee_kind = *m->grantee_kind ? m->grantee_kind : NULL;
    s.level = (int)want;
    s.purpose = m->purpose;
    s.expires_at = *m->expires_at ? m->expires_at : NULL;
    request_who(r, &who);
    grant_store_share(server_db(request_server(r)), &who, &s, grant_reply, r);
}

/* RFC 3339 and later than now (a grant that is born expired is a mistake). */
static bool future_timestamp(const char *s)
{
    struct tm tm;

    if (!ops_timestamp_valid(s))
        return false;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    /* Day precision is enough to refuse the past; PostgreSQL parses it exactly. */
    return timegm(&tm) + 86400 > time(NULL);
}

void op_share_case(struct request *r)
{
    const Ritra__ShareCaseRequest *m = request_msg(r)->share_case;
    bool to_agency = *m->grantee_agency, to_kind = *m->grantee_kind;
    enum policy_level want;
    struct field_errors fe;

    fe_init(&fe);
    if (!ops_uuid_valid(m->case_id))
        fe_add(&fe, "share_case.case_id", "not a UUID");
    if (to_agency == to_kind)
        fe_add(&fe, "share_case", "set exactly one of grantee_agency and grantee_kind");
    else if (to_agency)
        validate_text(&fe, "share_case.grantee_agency", m->grantee_agency, AGENCY_CODE_MAX, true,
                      false);
    else if (agency_kind_parse(m->grantee_kind) == AGENCY_KIND_NONE)
        fe_add(&fe, "share_case.grantee_kind", "not an agency kind");
    if (!policy_level_parse(m->level, &want))
        fe_add(&fe, "share_case.level", "expected HIT, RESTRICTED or FULL");
    validate_text(&fe, "share_case.purpose", m->purpose, SHARE_MAX_PURPOSE, true, false);
    if (*m->expires_at && !future_timestamp(m->expires_at))
        fe_add(&fe, "share_case.expires_at", "expected a future RFC 3339 timestamp");
    if (fe.count > 0) {
        request_fail(r, RITRA__STATUS_CODE__INVALID_ARGUMENT, "invalid request", &fe);
        return;
    }
    case_store_get(server_db(request_server(r)), request_agency(r), m->case_id, NULL, share_checked,
                   r);
}

void op_respond_to_share(struct request *r)
{
    const Ritra__RespondToShareRequest *m = request_msg(r)->respond_to_share;
    struct audit_who who;
    struct field_errors fe;

    fe_init(&fe);
    if (!ops_uuid_valid(m->grant_id))
        fe_add(&fe, "respond_to_share.grant_id", "not a UUID");
    validate_text(&fe, "respond_to_share.reason", m->reason, SHARE_MAX_REASON, false, false);
    if (fe.count > 0) {
        request_fail(r, RITRA__STATUS_CODE__INVALID_ARGUMENT, "invalid request", &fe);
        return;
    }
    request_who(r, &who);
    grant_store_respond(server_db(request_server(r)), &who, m->grant_id, m->accept, m->reason,
                        grant_reply, r);
}

void op_revoke_share(struct request *r)
{
    const Ritra__RevokeShareRequest *m = request_msg(r)->revoke_share;
    struct audit_who who;
    struct field_errors fe;

    fe_init(&fe);
    if (!ops_uuid_valid(m->grant_id))
        fe_add(&fe, "revoke_share.grant_id", "not a UUID");
    validate_text(&fe, "revoke_share.reason", m->reason, SHARE_MAX_REASON, false, false);
    if (fe.count > 0) {
        request_fail(r, RITRA__STATUS_CODE__INVALID_ARGUMENT, "invalid request", &fe);
        return;
    }
    request_who(r, &who);
    grant_store_revoke(server_db(request_server(r)), &who, m->grant_id, m->reason, grant_reply, r);
}

static void listed(const char *outcome, Ritra__Grant *const *grants, int n, enum db_outcome db,
                   const char *error, const char *next, void *arg)
{
    struct request *r = arg;
    Ritra__Response resp = RITRA__RESPONSE__INIT;
    Ritra__ListSharesResult res = RITRA__LIST_SHARES_RESULT__INIT;
    char token[160] = "";

    (void)outcome;
    if (db != DB_OK) {
        ops_fail_db(r, db, error);
        return;
    }
    if (*next)
        snprintf(token, sizeof(token), SHARES_TOKEN "%s", next);
    for (int i = 0; i < n; i++)
        audit_note_case(request_audit(r), grants[i]->case_id);
    request_audit(r)->records = n;
    res.n_grants = (size_t)n;
    res.grants = (Ritra__Grant **)grants;
    res.next_page_token = token;
    resp.result_case = RITRA__RESPONSE__RESULT_LIST_SHARES;
    resp.list_shares = &res;
    request_reply(r, &resp);
}

void op_list_shares(struct request *r)
{
    static const char *const states[] = {"offered", "accepted", "rejected", "revoked", "expired"};
    const Ritra__ListSharesRequest *m = request_msg(r)->list_shares;
    struct grant_list_query q;
    struct field_errors fe;
    char ts[64] = "", id[40] = "", path[64];
    const char *bar;

    fe_init(&fe);
    memset(&q, 0, sizeof(q));
    if (strcmp(m->direction, "given") != 0 && strcmp(m->direction, "received") != 0)
        fe_add(&fe, "list_shares.direction", "expected given or received");
    for (size_t i = 0; i < m->n_state; i++) {
        bool ok = false;
        for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++)
            ok = ok || strcmp(m->state[i], states[k]) == 0;
        snprintf(path, sizeof(path), "list_shares.state[%zu]", i);
        if (!ok)
            fe_add(&fe, path, "not a grant state");
    }
    if (m->n_state > 5)
        fe_add(&fe, "list_shares.state", "at most 5 values");
    if (*m->case_id && !ops_uuid_valid(m->case_id))
        fe_add(&fe, "list_shares.case_id", "not a UUID");
    if (m->page_size > SHARES_MAX_PAGE)
        fe_add(&fe, "list_shares.page_size", "at most %d", SHARES_MAX_PAGE);
    if (*m->page_token) {
        bar = strchr(m->page_token, '|');
        if (strncmp(m->page_token, SHARES_TOKEN, strlen(SHARES_TOKEN)) != 0 || bar == NULL ||
            (size_t)(bar - m->page_token) - strlen(SHARES_TOKEN) >= sizeof(ts) ||
            strlen(bar + 1) >= sizeof(id)) {
            fe_add(&fe, "list_shares.page_token", "not a token from a previous page");
        } else {
            size_t n = (size_t)(bar - m->page_token) - strlen(SHARES_TOKEN);
            memcpy(ts, m->page_token + strlen(SHARES_TOKEN), n);
            ts[n] = '\0';
            snprintf(id, sizeof(id), "%s", bar + 1);
            if (!ops_timestamp_valid(ts) || !ops_uuid_valid(id))
                fe_add(&fe, "list_shares.page_token", "not a token from a previous page");
        }
    }
    if (fe.count > 0) {
        request_fail(r, RITRA__STATUS_CODE__INVALID_ARGUMENT, "invalid request", &fe);
        return;
    }
    q.received = strcmp(m->direction, "received") == 0;
    q.states = m->state;
    q.n_states = m->n_state;
    q.case_id = *m->case_id ? m->case_id : NULL;
    q.after_created = *m->page_token ? ts : NULL;
    q.after_id = *m->page_token ? id : NULL;
    q.limit = m->page_size ? (int)m->page_size : 100;
    grant_store_list(server_db(request_server(r)), request_agency(r), &q, listed, r);
}
