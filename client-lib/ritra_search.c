/*
 * libritra: typed calls for search and matching (SearchPersons,
 * SearchCases, ListMatches, DecideMatch, MergeIdentities, UnmergePerson,
 * CaseMatches). Same shape as ritra_share.c: one Request around the
 * caller's borrowed data, the Response handed over only when
 * ritra_check_response accepts it.
 */
#include "ritra.h"

#include "rerror.h"

static struct ritra_error *begin(Ritra__Response **out, struct ritra_error *err,
                                 struct ritra_error *scratch)
{
    if (err == NULL)
        err = scratch;
    rerror_clear(err);
    if (out != NULL)
        *out = NULL;
    return err;
}

static int usage(struct ritra_error *err, const char *fn)
{
    rerror_set(err, RITRA_E_USAGE, "%s: NULL argument", fn);
    return -1;
}

static int call_checked(struct ritra_conn *c, const Ritra__Request *req, Ritra__Response **out,
                        struct ritra_error *err)
{
    Ritra__Response *resp = NULL;

    if (ritra_call(c, req, &resp, err) < 0)
        return -1;
    if (ritra_check_response(req, resp, err) < 0) {
        ritra__response__free_unpacked(resp, NULL);
        return -1;
    }
    *out = resp;
    return 0;
}

int ritra_search_persons(struct ritra_conn *c, const Ritra__SearchPersonsRequest *query,
                         Ritra__Response **out, struct ritra_error *err)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    struct ritra_error scratch;

    err = begin(out, err, &scratch);
    if (query == NULL || out == NULL)
        return usage(err, "ritra_search_persons");
    req.op_case = RITRA__REQUEST__OP_SEARCH_PERSONS;
    req.search_persons = (Ritra__SearchPersonsRequest *)query;
    return call_checked(c, &req, out, err);
}

int ritra_search_cases(struct ritra_conn *c, const Ritra__SearchCasesRequest *query,
                       Ritra__Response **out, struct ritra_error *err)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__SearchCasesRequest all = RITRA__SEARCH_CASES_REQUEST__INIT;
    struct ritra_error scratch;

    err = begin(out, err, &scratch);
    if (out == NULL)
        return usage(err, "ritra_search_cases");
    req.op_case = RITRA__REQUEST__OP_SEARCH_CASES;
    req.search_cases = (Ritra__SearchCasesRequest *)(query ? query : &all);
    return call_checked(c, &req, out, err);
}

int ritra_list_matches(struct ritra_conn *c, const Ritra__ListMatchesRequest *query,
                       Ritra__Response **out, struct ritra_error *err)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__ListMatchesRequest pending = RITRA__LIST_MATCHES_REQUEST__INIT;
    struct ritra_error scratch;

    err = begin(out, err, &scratch);
    if (out == NULL)
        return usage(err, "ritra_list_matches");
    req.op_case = RITRA__REQUEST__OP_LIST_MATCHES;
    req.list_matches = (Ritra__ListMatchesRequest *)(query ? query : &pending);
    return call_checked(c, &req, out, err);
}

int ritra_decide_match(struct ritra_conn *c, const char *candidate_id, int confirm,
                       const char *reason, Ritra__Response **out, struct ritra_error *err)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__DecideMatchRequest m = RITRA__DECIDE_MATCH_REQUEST__INIT;
    struct ritra_error scratch;

    err = begin(out, err, &scratch);
    if (candidate_id == NULL || reason == NULL || out == NULL)
        return usage(err, "ritra_decide_match");
    m.candidate_id = (char *)candidate_id;
    m.decision = confirm ? "CONFIRM" : "REJECT";
    m.reason = (char *)reason;
    req.op_case = RITRA__REQUEST__OP_DECIDE_MATCH;
    req.decide_match = &m;
    return call_checked(c, &req, out, err);
}

int ritra_merge_identities(struct ritra_conn *c, const char *identity_id,
                           const char *other_identity_id, const char *reason, Ritra__Response **out,
                           struct ritra_error *err)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__MergeIdentitiesRequest m = RITRA__MERGE_IDENTITIES_REQUEST__INIT;
    struct ritra_error scratch;

    err = begin(out, err, &scratch);
    if (identity_id == NULL || other_identity_id == NULL || reason == NULL || out == NULL)
        return usage(err, "ritra_merge_identities");
    m.identity_id = (char *)identity_id;
    m.other_identity_id = (char *)other_identity_id;
    m.reason = (char *)reason;
    req.op_case = RITRA__REQUEST__OP_MERGE_IDENTITIES;
    req.merge_identities = &m;
    return call_checked(c, &req, out, err);
}

int ritra_unmerge_person(struct ritra_conn *c, const char *person_id, const char *reason,
                         Ritra__Response **out, struct ritra_error *err)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__UnmergePersonRequest m = RITRA__UNMERGE_PERSON_REQUEST__INIT;
    struct ritra_error scratch;

    err = begin(out, err, &scratch);
    if (person_id == NULL || reason == NULL || out == NULL)
        return usage(err, "ritra_unmerge_person");
    m.person_id = (char *)person_id;
    m.reason = (char *)reason;
    req.op_case = RITRA__REQUEST__OP_UNMERGE_PERSON;
    req.unmerge_person = &m;
    return call_checked(c, &req, out, err);
}

int ritra_case_matches(struct ritra_conn *c, const char *case_id, Ritra__Response **out,
                       struct ritra_error *err)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__CaseMatchesRequest m = RITRA__CASE_MATCHES_REQUEST__INIT;
    struct ritra_error scratch;

    err = begin(out, err, &scratch);
    if (case_id == NULL || out == NULL)
        return usage(err, "ritra_case_matches");
    m.case_id = (char *)case_id;
    req.op_case = RITRA__REQUEST__OP_CASE_MATCHES;
    req.case_matches = &m;
    return call_checked(c, &req, out, err);
}
