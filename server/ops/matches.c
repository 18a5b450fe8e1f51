/*
 * The review queue and identity decisions (docs/search.md): ListMatches,
 * DecideMatch, MergeIdentities, UnmergePerson, and CaseMatches (what the
 * matcher made of a case's persons, and the related cases).
 *
 * Every decision is one statement: the SQL function decides under the
 * matching lock and the audit entry records its outcome in the same
 * transaction. The other side of a candidate is shown at the level the
 * agency holds on its case, never more; its explanation only where the
 * agency may read the other record's identifying fields.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../agency.h"
#include "../audit.h"
#include "../log.h"
#include "../match_view.h"
#include "../pgtext.h"
#include "../request.h"
#include "../server.h"
#include "ops.h"
#include "opsutil.h"

#define MATCHES_DEFAULT_PAGE 50
#define MATCHES_MAX_PAGE     200
#define MATCHES_TOKEN_PREFIX "M1~"
#define REASON_MAX           1000

static const char *col(const PGresult *res, int row, int c)
{
    return PQgetisnull(res, row, c) ? "" : PQgetvalue(res, row, c);
}

static Ritra__Person *unpack_person(const PGresult *res, int row, int c)
{
    size_t len = 0;
    unsigned char *raw;
    Ritra__Person *p;

    if (PQgetisnull(res, row, c))
        return NULL;
    raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, c), &len);
    if (raw == NULL)
        return NULL;
    p = ritra__person__unpack(NULL, len, raw);
    PQfreemem(raw);
    return p;
}

/* ---- ListMatches ------------------------------------------------------ */

/* Columns of the list query. */
enum {
    L_ID,
    L_STATUS,
    L_SCORE,
    L_CLASS,
    L_EXPLAIN,
    L_CAPS,
    L_CREATED,
    L_DECIDED,
    L_BY,
    L_ACTOR,
    L_REASON,
    L_OWN_PERSON,
    L_OWN_IDENTITY,
    L_OWN_ROLE,
    L_OWN_REF,
    L_OWN_PB,
    L_OWN_FACTS,
    L_OTHER_PERSON = L_OWN_FACTS + MVIEW_FACTS_COLUMNS,
    L_OTHER_IDENTITY,
    L_OTHER_ROLE,
    L_OTHER_REF,
    L_OTHER_PB,
    L_OTHER_FACTS
};

struct candidate_out {
    Ritra__MatchCandidate mc;
    Ritra__PersonRecord own, other;
    Ritra__Person own_view, other_view;
    Ritra__CaseHit own_hit, other_hit;
    Ritra__Person *own_p, *other_p;
    char reason[160];
};

static void listed(struct db_txn *t, enum db_outcome db, void *arg)
{
    struct request *r = arg;
    const struct agency *a = request_agency(r);
    const PGresult *res = db_txn_result(t, 1);
    Ritra__Response resp = RITRA__RESPONSE__INIT;
    Ritra__ListMatchesResult out = RITRA__LIST_MATCHES_RESULT__INIT;
    struct candidate_out *items = NULL;
    Ritra__MatchCandidate **ptrs = NULL;
    enum policy_level top = POLICY_NONE;
    const Ritra__ListMatchesRequest *m = request_msg(r)->list_matches;
    int limit = m->page_size ? (int)m->page_size : MATCHES_DEFAULT_PAGE;
    char token[128] = "";
    int n;

    if (db != DB_OK || res == NULL) {
        ops_fail_db(r, db, db_txn_error(t));
        return;
    }
    n = PQntuples(res);
    items = calloc(n ? (size_t)n : 1, sizeof(*items));
    ptrs = calloc(n ? (size_t)n : 1, sizeof(*ptrs));
    if (items == NULL || ptrs == NULL) {
        request_fail(r, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED, "server out of memory", NULL);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        struct candidate_out *it = &items[i];
        struct mview_facts of, xf;
        enum policy_level ol, xl;
        bool detailed;

        mview_facts_read(res, i, L_OWN_FACTS, &of);
        mview_facts_read(res, i, L_OTHER_FACTS, &xf);
        if (mview_check_level(a, &of, MVIEW_CASE, &ol) < 0 ||
            mview_check_level(a, &xf, MVIEW_RELATED, &xl) < 0 || ol < POLICY_RESTRICTED ||
            xl < POLICY_HIT) {
            request_fail(r, RITRA__STATUS_CODE__INTERNAL, "access decision inconsistent; refused",
                         NULL);
            goto out;
        }
        it->own_p = unpack_person(res, i, L_OWN_PB);
        it->other_p = unpack_person(res, i, L_OTHER_PB);
        if (it->own_p == NULL || (xl >= POLICY_RESTRICTED && it->other_p == NULL)) {
            request_fail(r, RITRA__STATUS_CODE__INTERNAL, "stored person cannot be read", NULL);
            goto out;
        }
        detailed = mview_identified(a, &xf, xl, it->other_p);
        mview_reason(col(res, i, L_EXPLAIN), it->reason, sizeof(it->reason));
        ritra__match_candidate__init(&it->mc);
        it->mc.candidate_id = (char *)col(res, i, L_ID);
        it->mc.status = (char *)col(res, i, L_STATUS);
        it->mc.score = detailed ? strtod(col(res, i, L_SCORE), NULL) : 0;
        it->mc.match_class = (char *)col(res, i, L_CLASS);
        if (mview_agreements(col(res, i, L_EXPLAIN), detailed, &it->mc.explanation,
                             &it->mc.n_explanation) < 0) {
            request_fail(r, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED, "server out of memory", NULL);
            goto out;
        }
        mview_fill_record(&it->own, &it->own_view, &it->own_hit, a, &of, ol,
                          col(res, i, L_OWN_PERSON), col(res, i, L_OWN_IDENTITY),
                          col(res, i, L_OWN_ROLE), col(res, i, L_OWN_REF), it->own_p, "");
        mview_fill_record(
            &it->other, &it->other_view, &it->other_hit, a, &xf, xl, col(res, i, L_OTHER_PERSON),
            xl >= POLICY_RESTRICTED ? col(res, i, L_OTHER_IDENTITY) : "", col(res, i, L_OTHER_ROLE),
            col(res, i, L_OTHER_REF), it->other_p, it->reason);
        it->mc.own = &it->own;
        it->mc.other = &it->other;
        it->mc.created_at = (char *)col(res, i, L_CREATED);
        it->mc.decided_at = (char *)col(res, i, L_DECIDED);
        it->mc.decided_by = (char *)col(res, i, L_BY);
        it->mc.decided_actor = (char *)col(res, i, L_ACTOR);
        it->mc.reason = (char *)col(res, i, L_REASON);
        ptrs[i] = &it->mc;
        audit_note_case(request_audit(r), of.case_id);
        audit_note_case(request_audit(r), xf.case_id);
        if (xl > top)
            top = xl;
    }
    if (n > 0 && n == limit) /* a full page: there may be more */
        snprintf(token, sizeof(token), MATCHES_TOKEN_PREFIX "%s|%s", col(res, n - 1, L_CREATED),
                 col(res, n - 1, L_ID));
    out.candidates = ptrs;
    out.n_candidates = (size_t)n;
    out.next_page_token = token;
    request_audit(r)->records = n;
    request_audit(r)->visibility = top > POLICY_NONE ? policy_level_name(top) : "";
    resp.result_case = RITRA__RESPONSE__RESULT_LIST_MATCHES;
    resp.list_matches = &out;
    request_reply(r, &resp);
out:
    for (int i = 0; items != NULL && i < n; i++) {
        mview_agreements_free(items[i].mc.explanation, items[i].mc.n_explanation);
        if (items[i].own_p)
            ritra__person__free_unpacked(items[i].own_p, NULL);
        if (items[i].other_p)
            ritra__person__free_unpacked(items[i].other_p, NULL);
    }
    free(items);
    free(ptrs);
}

/* "M1~<created_at, RFC 3339 with microseconds>|<candidate uuid>". */
static bool parse_token(const char *token, char *ts, size_t tslen, char *uuid, size_t uuidlen)
{
    const char *body, *bar;

    if (strncmp(token, MATCHES_TOKEN_PREFIX, strlen(MATCHES_TOKEN_PREFIX)) != 0)
        return false;
    body = token + strlen(MATCHES_TOKEN_PREFIX);
    bar = strchr(body, '|');
    if (bar == NULL || (size_t)(bar - body) >= tslen || strlen(bar + 1) >= uuidlen)
        return false;
    memcpy(ts, body, (size_t)(bar - body));
    ts[bar - body] = '\0';
    snprintf(uuid, uuidlen, "%s", bar + 1);
    return ops_uuid_valid(uuid) && ops_timestamp_valid(ts);
}

void op_list_matches(struct request *r)
{
    /* clang-format off */
    static const char sql[] =
        "SELECT candidate_id, status, score, match_class, explanation, caps, "
        PGTEXT_TS("created_at") ", " PGTEXT_TS("decided_at") ", "
        "decided_by, decided_actor, reason, "
        "own_person, own_identity, own_role, own_ref, own_pb, " MVIEW_FACTS("own_facts") ", "
        "other_person, other_identity, other_role, other_ref, other_pb, "
        MVIEW_FACTS("other_facts")
        " FROM ritra_match_list($1, $2::uuid, $3::timestamptz, $4::uuid, $5::integer)";
    /* clang-format on */
    const Ritra__ListMatchesRequest *m = request_msg(r)->list_matches;
    const char *status = *m->status ? m->status : "PENDING";
    struct field_errors fe;
    char ts[64], uuid[40], limit[16];
    const char *v[5];
    struct db_txn *t;

    fe_init(&fe);
    if (strcmp(status, "PENDING") != 0 && strcmp(status, "CONFIRMED") != 0 &&
        strcmp(status, "REJECTED") != 0 && strcmp(status, "ALL") != 0)
        fe_add(&fe, "list_matches.status", "expected PENDING, CONFIRMED, REJECTED or ALL");
    if (*m->case_id && !ops_uuid_valid(m->case_id))
        fe_add(&fe, "list_matches.case_id", "not a UUID");
    if (m->page_size > MATCHES_MAX_PAGE)
        fe_add(&fe, "list_matches.page_size", "at most %d", MATCHES_MAX_PAGE);
    if (*m->page_token && !parse_token(m->page_token, ts, sizeof(ts), uuid, sizeof(uuid)))
        fe_add(&fe, "list_matches.page_token", "not a token from a previous page");
    if (fe.count > 0) {
        request_fail(r, RITRA__STATUS_CODE__INVALID_ARGUMENT, "invalid request", &fe);
        return;
    }
    audit_note_detail(request_audit(r), "status", status);
    if (*m->case_id)
        audit_note_case(request_audit(r), m->case_id);
    snprintf(limit, sizeof(limit), "%u", m->page_size ? m->page_size : MATCHES_DEFAULT_PAGE);
    v[0] = status;
    v[1] = *m->case_id ? m->case_id : NULL;
    v[2] = *m->page_token ? ts : NULL;
    v[3] = *m->page_token ? uuid : NULL;
    v[4] = limit;
    t = agency_txn(request_agency(r));
    if (db_txn_add(t, sql, 5, v) < 0)
        abort();
    db_submit(server_db(request_server(r)), t, listed, r);
}

/* ---- decisions -------------------------------------------------------- */

/*
 * A decision and its audit entry in one statement; $1..$4 are the
 * function's, $5.. the audit parameters (audit_params order). The outcome
 * names the status recorded.
 */
#define DECISION_SQL(call)                                                                         \
    "WITH s AS (SELECT * FROM " call "),"                                                          \
    " a AS (INSERT INTO audit_log (agency_id, agency_code, fingerprint, actor, operation,"         \
    "   details, request_id, case_ids, outcome)"                                                   \
    "   SELECT $5::integer, $6, $7, $8, $9, $10, $11::numeric, coalesce(s.cases, '{}'),"           \
    "     CASE s.outcome WHEN 'done' THEN 'OK' WHEN 'not_found' THEN 'NOT_FOUND'"                  \
    "       WHEN 'same' THEN 'INVALID_ARGUMENT' ELSE 'FAILED_PRECONDITION' END FROM s)"            \
    " SELECT * FROM s"

static bool outcome_ok(struct request *r, const char *outcome, const char *what)
{
    char msg[160];

    if (strcmp(outcome, "done") == 0)
        return true;
    if (strcmp(outcome, "not_found") == 0) {
        snprintf(msg, sizeof(msg), "no such %s among yours", what);
        request_fail(r, RITRA__STATUS_CODE__NOT_FOUND, msg, NULL);
    } else if (strcmp(outcome, "same") == 0) {
        request_fail(r, RITRA__STATUS_CODE__INVALID_ARGUMENT, "the two identities are one", NULL);
    } else if (strcmp(outcome, "conflict") == 0) {
        request_fail(r, RITRA__STATUS_CODE__FAILED_PRECONDITION,
                     "a rejected pair keeps these identities apart; confirm that pair first", NULL);
    } else if (strcmp(outcome, "wrong_state") == 0) {
        request_fail(r, RITRA__STATUS_CODE__FAILED_PRECONDITION,
                     strcmp(what, "person record") == 0
                         ? "the record is alone in its identity"
                         : "already decided, or the records are linked (unmerge instead)",
                     NULL);
    } else {
        request_fail(r, RITRA__STATUS_CODE__INTERNAL, "unexpected outcome", NULL);
    }
    return false;
}

/* The result row, or NULL after answering r. */
static const PGresult *decision_result(struct db_txn *t, enum db_outcome db, struct request *r)
{
    const PGresult *res = db_txn_result(t, 1);

    /* The entry is in this transaction: committed with it, or not at all. */
    if (db == DB_OK)
        request_audit(r)->written = true;
    if (db != DB_OK || res == NULL || PQntuples(res) != 1) {
        if (db == DB_UNAUTHORIZED)
            request_close_after(r);
        ops_fail_db(r, db == DB_OK ? DB_SQL_ERROR : db,
                    db == DB_OK ? "decision returned no row" : db_txn_error(t));
        return NULL;
    }
    return res;
}

static void submit_decision(struct request *r, const char *sql, const char **v, int nfn,
                            db_done_fn fn)
{
    struct audit_who who;
    struct audit_params ap;
    struct db_txn *t;

    request_who(r, &who);
    audit_params(&ap, request_audit(r), &who);
    for (int i = 0; i < AUDIT_INSERT_PARAMS; i++)
        v[nfn + i] = ap.values[i];
    t = agency_txn(request_agency(r));
    if (db_txn_add(t, sql, nfn + AUDIT_INSERT_PARAMS, v) < 0)
        abort();
    db_submit(server_db(request_server(r)), t, fn, r);
}

static bool check_reason(struct field_errors *fe, const char *path, const char *reason)
{
    return validate_text(fe, path, reason, REASON_MAX, true, true);
}

static void decided(struct db_txn *t, enum db_outcome db, void *arg)
{
    struct request *r = arg;
    const PGresult *res = decision_result(t, db, r);
    Ritra__Response resp = RITRA__RESPONSE__INIT;
    Ritra__DecideMatchResult out = RITRA__DECIDE_MATCH_RESULT__INIT;

    if (res == NULL || !outcome_ok(r, col(res, 0, 0), "candidate"))
        return;
    out.candidate_id = request_msg(r)->decide_match->candidate_id;
    out.status = (char *)col(res, 0, 2);
    out.identity_id = (char *)col(res, 0, 1);
    resp.result_case = RITRA__RESPONSE__RESULT_DECIDE_MATCH;
    resp.decide_match = &out;
    request_reply(r, &resp);
}

void op_decide_match(struct request *r)
{
    static const char sql[] = DECISION_SQL("ritra_match_decide($1::uuid, $2::boolean, $3, $4)");
    const Ritra__DecideMatchRequest *m = request_msg(r)->decide_match;
    bool confirm = strcmp(m->decision, "CONFIRM") == 0;
    struct field_errors fe;
    const char *v[12];

    fe_init(&fe);
    if (!ops_uuid_valid(m->candidate_id))
        fe_add(&fe, "decide_match.candidate_id", "not a UUID");
    if (!confirm && strcmp(m->decision, "REJECT") != 0)
        fe_add(&fe, "decide_match.decision", "expected CONFIRM or REJECT");
    check_reason(&fe, "decide_match.reason", m->reason);
    if (fe.count > 0) {
        request_fail(r, RITRA__STATUS_CODE__INVALID_ARGUMENT, "invalid request", &fe);
        return;
    }
    audit_note_detail(request_audit(r), "candidate_id", m->candidate_id);
    audit_note_detail(request_audit(r), "decision", m->decision);
    audit_note_detail(request_audit(r), "reason", m->reason);
    v[0] = m->candidate_id;
    v[1] = confirm ? "true" : "false";
    v[2] = m->reason;
    v[3] = request_actor(r);
    submit_decision(r, sql, v, 4, decided);
}

static void merged(struct db_txn *t, enum db_outcome db, void *arg)
{
    struct request *r = arg;
    const PGresult *res = decision_result(t, db, r);
    Ritra__Response resp = RITRA__RESPONSE__INIT;
    Ritra__MergeIdentitiesResult out = RITRA__MERGE_IDENTITIES_RESULT__INIT;

    if (res == NULL || !outcome_ok(r, col(res, 0, 0), "identity"))
        return;
    out.identity_id = request_msg(r)->merge_identities->identity_id;
    out.records_moved = (uint32_t)strtoul(col(res, 0, 1), NULL, 10);
    resp.result_case = RITRA__RESPONSE__RESULT_MERGE_IDENTITIES;
    resp.merge_identities = &out;
    request_reply(r, &resp);
}

void op_merge_identities(struct request *r)
{
    static const char sql[] = DECISION_SQL("ritra_identity_merge($1::uuid, $2::uuid, $3, $4)");
    const Ritra__MergeIdentitiesRequest *m = request_msg(r)->merge_identities;
    struct field_errors fe;
    const char *v[12];

    fe_init(&fe);
    if (!ops_uuid_valid(m->identity_id))
        fe_add(&fe, "merge_identities.identity_id", "not a UUID");
    if (!ops_uuid_valid(m->other_identity_id))
        fe_add(&fe, "merge_identities.other_identity_id", "not a UUID");
    check_reason(&fe, "merge_identities.reason", m->reason);
    if (fe.count > 0) {
        request_fail(r, RITRA__STATUS_CODE__INVALID_ARGUMENT, "invalid request", &fe);
        return;
    }
    audit_note_detail(request_audit(r), "identity_id", m->identity_id);
    audit_note_detail(request_audit(r), "other_identity_id", m->other_identity_id);
    audit_note_detail(request_audit(r), "reason", m->reason);
    v[0] = m->identity_id;
    v[1] = m->other_identity_id;
    v[2] = m->reason;
    v[3] = request_actor(r);
    submit_decision(r, sql, v, 4, merged);
}

static void unmerged(struct db_txn *t, enum db_outcome db, void *arg)
{
    struct request *r = arg;
    const PGresult *res = decision_result(t, db, r);
    Ritra__Response resp = RITRA__RESPONSE__INIT;
    Ritra__UnmergePersonResult out = RITRA__UNMERGE_PERSON_RESULT__INIT;

    if (res == NULL || !outcome_ok(r, col(res, 0, 0), "person record"))
        return;
    out.person_id = request_msg(r)->unmerge_person->person_id;
    out.identity_id = (char *)col(res, 0, 1);
    out.previous_identity_id = (char *)col(res, 0, 2);
    resp.result_case = RITRA__RESPONSE__RESULT_UNMERGE_PERSON;
    resp.unmerge_person = &out;
    request_reply(r, &resp);
}

void op_unmerge_person(struct request *r)
{
    /* $4 is unused: keeps the audit parameters at $5. */
    static const char sql[] =
        DECISION_SQL("ritra_identity_unmerge($1::uuid, $2, $3) WHERE $4::text IS NULL");
    const Ritra__UnmergePersonRequest *m = request_msg(r)->unmerge_person;
    struct field_errors fe;
    const char *v[12];

    fe_init(&fe);
    if (!ops_uuid_valid(m->person_id))
        fe_add(&fe, "unmerge_person.person_id", "not a UUID");
    check_reason(&fe, "unmerge_person.reason", m->reason);
    if (fe.count > 0) {
        request_fail(r, RITRA__STATUS_CODE__INVALID_ARGUMENT, "invalid request", &fe);
        return;
    }
    audit_note_detail(request_audit(r), "person_id", m->person_id);
    audit_note_detail(request_audit(r), "reason", m->reason);
    v[0] = m->person_id;
    v[1] = m->reason;
    v[2] = request_actor(r);
    v[3] = NULL;
    submit_decision(r, sql, v, 4, unmerged);
}

/* ---- CaseMatches -------------------------------------------------------- */

struct related_out {
    Ritra__RelatedCase rc;
    Ritra__CaseSummary sum;
    Ritra__CaseHit hit;
};

static void got_case_matches(struct db_txn *t, enum db_outcome db, void *arg)
{
    struct request *r = arg;
    const struct agency *a = request_agency(r);
    const PGresult *pr = db_txn_result(t, 1), *rr = db_txn_result(t, 2);
    Ritra__Response resp = RITRA__RESPONSE__INIT;
    Ritra__CaseMatchesResult out = RITRA__CASE_MATCHES_RESULT__INIT;
    Ritra__PersonLink *links = NULL, **link_ptrs = NULL;
    struct related_out *rel = NULL;
    Ritra__RelatedCase **rel_ptrs = NULL;
    enum policy_level top = POLICY_NONE;
    int np, nr;

    if (db != DB_OK || pr == NULL || rr == NULL) {
        ops_fail_db(r, db, db_txn_error(t));
        return;
    }
    np = PQntuples(pr);
    nr = PQntuples(rr);
    if (np == 0) {
        request_fail(r, RITRA__STATUS_CODE__NOT_FOUND, "no such case", NULL);
        return;
    }
    links = calloc((size_t)np, sizeof(*links));
    link_ptrs = calloc((size_t)np, sizeof(*link_ptrs));
    rel = calloc(nr ? (size_t)nr : 1, sizeof(*rel));
    rel_ptrs = calloc(nr ? (size_t)nr : 1, sizeof(*rel_ptrs));
    if (links == NULL || link_ptrs == NULL || rel == NULL || rel_ptrs == NULL) {
        request_fail(r, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED, "server out of memory", NULL);
        goto out;
    }
    for (int i = 0; i < np; i++) {
        Ritra__PersonLink *l = &links[i];
        const char *identity = col(pr, i, 2);
        long others = strtol(col(pr, i, 7), NULL, 10);

        ritra__person_link__init(l);
        l->person_id = (char *)col(pr, i, 0);
        l->person_ref = (char *)col(pr, i, 1);
        l->identity_id = (char *)identity;
        l->linked_by = (char *)col(pr, i, 3);
        l->score = strtod(col(pr, i, 4), NULL);
        /* A changed record keeps its identity while it waits to be matched
         * again; NEW and LINKED say whether anyone else shares it. */
        l->state = *identity == '\0' ? "PENDING" : others == 0 ? "NEW" : "LINKED";
        l->review_pending = (uint32_t)strtoul(col(pr, i, 6), NULL, 10);
        link_ptrs[i] = l;
    }
    for (int i = 0; i < nr; i++) {
        struct related_out *o = &rel[i];
        struct mview_facts f;
        enum policy_level level;

        mview_facts_read(rr, i, 8, &f);
        if (mview_check_level(a, &f, MVIEW_RELATED, &level) < 0 || level < POLICY_HIT) {
            request_fail(r, RITRA__STATUS_CODE__INTERNAL, "access decision inconsistent; refused",
                         NULL);
            goto out;
        }
        ritra__related_case__init(&o->rc);
        ritra__case_summary__init(&o->sum);
        o->rc.person_ref = (char *)col(rr, i, 0);
        o->rc.identity_id = (char *)col(rr, i, 1);
        o->sum.case_id = (char *)f.case_id;
        o->sum.owner_agency = (char *)f.owner_code;
        o->sum.handling_code = (char *)f.handling_code;
        o->sum.visibility = (char *)policy_level_name(level);
        if (level >= POLICY_RESTRICTED) {
            o->sum.external_ref = (char *)col(rr, i, 3);
            o->sum.version = strtoll(col(rr, i, 4), NULL, 10);
            o->sum.cas_status = (char *)col(rr, i, 5);
            o->sum.updated_at = (char *)col(rr, i, 6);
            o->sum.person_count = (uint32_t)strtoul(col(rr, i, 7), NULL, 10);
        } else {
            ritra__case_hit__init(&o->hit);
            o->hit.case_id = (char *)f.case_id;
            o->hit.owner_agency = (char *)f.owner_code;
            o->hit.owner_name = (char *)f.owner_name;
            o->hit.contact = (char *)f.contact;
            o->hit.handling_code = (char *)f.handling_code;
            o->hit.reason = "a person in your case is linked to a person in this case";
            o->rc.hit = &o->hit;
        }
        o->rc.case_ = &o->sum;
        rel_ptrs[i] = &o->rc;
        audit_note_case(request_audit(r), f.case_id);
        if (level > top)
            top = level;
    }
    out.case_id = request_msg(r)->case_matches->case_id;
    out.persons = link_ptrs;
    out.n_persons = (size_t)np;
    out.related = rel_ptrs;
    out.n_related = (size_t)nr;
    request_audit(r)->records = np + nr;
    request_audit(r)->visibility = top > POLICY_NONE ? policy_level_name(top) : "";
    resp.result_case = RITRA__RESPONSE__RESULT_CASE_MATCHES;
    resp.case_matches = &out;
    request_reply(r, &resp);
out:
    free(links);
    free(link_ptrs);
    free(rel);
    free(rel_ptrs);
}

void op_case_matches(struct request *r)
{
    static const char persons_sql[] =
        "SELECT person_id, person_ref, identity_id, linked_by, linked_score, queued,"
        " review_pending, others FROM ritra_case_matches($1::uuid)";
    /* clang-format off */
    static const char related_sql[] =
        "SELECT person_ref, identity_id, case_id, external_ref, version, status, "
        PGTEXT_TS("updated_at") ", person_count, " MVIEW_FACTS("facts")
        " FROM ritra_related_cases($1::uuid)";
    /* clang-format on */
    const Ritra__CaseMatchesRequest *m = request_msg(r)->case_matches;
    struct field_errors fe;
    struct db_txn *t;
    const char *v[1] = {m->case_id};

    fe_init(&fe);
    if (!ops_uuid_valid(m->case_id))
        fe_add(&fe, "case_matches.case_id", "not a UUID");
    if (fe.count > 0) {
        request_fail(r, RITRA__STATUS_CODE__INVALID_ARGUMENT, "invalid request", &fe);
        return;
    }
    audit_note_case(request_audit(r), m->case_id);
    t = agency_txn(request_agency(r));
    if (db_txn_add(t, persons_sql, 1, v) < 0 || db_txn_add(t, related_sql, 1, v) < 0)
        abort();
    db_submit(server_db(request_server(r)), t, got_case_matches, r);
}
