/*
 * Sharing end to end: the grant lifecycle (offered, accepted, rejected,
 * revoked, expired) and its failed preconditions; ListShares filters and
 * pages; races between revoke and accept, between two identical shares and
 * between a re-share and an update, each repeated on separate connections;
 * the loss of visibility arriving through sync after a revocation and
 * after an expiry; onward shares and their cascade; H2 and H3; and the
 * actor field, which never widens anything.
 */
#define _GNU_SOURCE /* memmem */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "case_fixture.h"
#include "harness.h"

#define ROUNDS 20

enum { FGN, PONAL, MIGRACION, ICBF, PGN, MININTERIOR, N_AG };
static const char *const AG[N_AG] = {"FGN", "PONAL", "MIGRACION", "ICBF", "PGN", "MININTERIOR"};

static struct harness H;
static struct ritra_conn *C[N_AG];
static char CURSOR[N_AG][128];

/* What nobody below FULL-with-consent may see, and nobody at NONE. */
static const char *const PROTECTED[] = {
    "María José",
    "Muñoz",
    "de la Cruz",
    "Majo",
    "1994-03-07",
    "1.023.456.789",
    "AB123456",
    "+573001234567",
    "majo.munoz@example.org",
    "Carrera 7 # 12-45",
    "Declaración ampliada; pide reserva.",
    "Oferta de trabajo en un restaurante",
    "Captación en Cúcuta",
    "José Francisco",
    "Pérez",
};

/* ---- requests ---------------------------------------------------------------- */

static Ritra__Response *call_as(struct ritra_conn *c, Ritra__Request *req)
{
    Ritra__Response *resp = NULL;
    struct ritra_error err;

    if (ritra_call(c, req, &resp, &err) < 0)
        fail_msg("call failed: %s %s", ritra_status_name(err.code), err.message);
    return resp;
}

static void expect(const Ritra__Response *resp, int code, const char *what)
{
    if ((int)resp->status->code != code)
        fail_msg("%s: expected %s, got %s (%s)", what, ritra_status_name(code),
                 ritra_status_name((int)resp->status->code), resp->status->message);
}

static void release(Ritra__Response *resp)
{
    ritra__response__free_unpacked(resp, NULL);
}

/* Submits (or updates) FGN's case ref; variant changes the summary. */
static void submit_on(struct ritra_conn *c, const char *ref, const char *handling, bool allow_hits,
                      int variant, char *id_out)
{
    struct case_fixture f;
    Ritra__Request req;
    Ritra__SubmitCaseRequest sub;
    Ritra__Response *resp;

    case_fixture_init(&f, ref, variant);
    f.c.handling_code = (char *)handling;
    f.c.h3_allow_hits = allow_hits;
    if (strcmp(handling, "H3") == 0)
        f.c.handling_conditions = "Uso exclusivo de la investigación penal";
    case_fixture_request(&f, &req, &sub, 0);
    resp = call_as(c, &req);
    expect(resp, RITRA__STATUS_CODE__OK, ref);
    if (id_out != NULL)
        snprintf(id_out, 40, "%s", resp->submit_case->case_id);
    release(resp);
}

static void submit(const char *ref, const char *handling, char *id_out)
{
    submit_on(C[FGN], ref, handling, false, 0, id_out);
}

static Ritra__Response *share_on(struct ritra_conn *c, const char *case_id, const char *agency,
                                 const char *kind, const char *level, const char *expires_at)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__ShareCaseRequest s = RITRA__SHARE_CASE_REQUEST__INIT;

    s.case_id = (char *)case_id;
    s.grantee_agency = (char *)(agency ? agency : "");
    s.grantee_kind = (char *)(kind ? kind : "");
    s.level = (char *)level;
    s.purpose = "Coordinación de la investigación";
    s.expires_at = (char *)(expires_at ? expires_at : "");
    req.op_case = RITRA__REQUEST__OP_SHARE_CASE;
    req.share_case = &s;
    return call_as(c, &req);
}

static Ritra__Response *share(int a, const char *case_id, const char *to, const char *level)
{
    return share_on(C[a], case_id, to, NULL, level, NULL);
}

/* Shares and returns the grant id; the share must succeed. */
static void share_ok(int a, const char *case_id, const char *to, const char *kind,
                     const char *level, const char *expires_at, char *grant_out)
{
    Ritra__Response *resp = share_on(C[a], case_id, to, kind, level, expires_at);

    expect(resp, RITRA__STATUS_CODE__OK, "ShareCase");
    snprintf(grant_out, 40, "%s", resp->share_case->grant->grant_id);
    release(resp);
}

static Ritra__Response *respond_on(struct ritra_conn *c, const char *grant, bool accept,
                                   const char *actor)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__RespondToShareRequest r = RITRA__RESPOND_TO_SHARE_REQUEST__INIT;

    r.grant_id = (char *)grant;
    r.accept = accept;
    r.reason = accept ? "" : "Fuera de nuestra competencia";
    req.actor = (char *)(actor ? actor : "");
    req.op_case = RITRA__REQUEST__OP_RESPOND_TO_SHARE;
    req.respond_to_share = &r;
    return call_as(c, &req);
}

static Ritra__Response *respond(int a, const char *grant, bool accept)
{
    return respond_on(C[a], grant, accept, NULL);
}

static void accept_ok(int a, const char *grant)
{
    Ritra__Response *resp = respond(a, grant, true);

    expect(resp, RITRA__STATUS_CODE__OK, "RespondToShare");
    assert_string_equal(resp->respond_to_share->grant->state, "accepted");
    release(resp);
}

static Ritra__Response *revoke_on(struct ritra_conn *c, const char *grant, const char *actor)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__RevokeShareRequest r = RITRA__REVOKE_SHARE_REQUEST__INIT;

    r.grant_id = (char *)grant;
    r.reason = "Terminó la colaboración";
    req.actor = (char *)(actor ? actor : "");
    req.op_case = RITRA__REQUEST__OP_REVOKE_SHARE;
    req.revoke_share = &r;
    return call_as(c, &req);
}

static Ritra__Response *revoke_grant(int a, const char *grant)
{
    return revoke_on(C[a], grant, NULL);
}

static Ritra__Response *get_as(int a, const char *case_id, const char *actor)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__GetCaseRequest g = RITRA__GET_CASE_REQUEST__INIT;

    g.case_id = (char *)case_id;
    req.actor = (char *)(actor ? actor : "");
    req.op_case = RITRA__REQUEST__OP_GET_CASE;
    req.get_case = &g;
    return call_as(C[a], &req);
}

static Ritra__Response *get(int a, const char *case_id)
{
    return get_as(a, case_id, NULL);
}

/* The visibility a has on case_id: "NONE" when not found. */
static void expect_visibility(int a, const char *case_id, const char *want)
{
    Ritra__Response *resp = get(a, case_id);
    int code = (int)resp->status->code;
    char got[32];

    snprintf(got, sizeof(got), "%s",
             code == RITRA__STATUS_CODE__OK          ? resp->get_case->visibility
             : code == RITRA__STATUS_CODE__NOT_FOUND ? "NONE"
                                                     : ritra_status_name(code));
    release(resp);
    if (strcmp(got, want) != 0)
        fail_msg("%s GetCase %s: visibility %s, expected %s", AG[a], case_id, got, want);
}

static Ritra__Response *list_shares_as(int a, const char *direction, char **states, size_t n,
                                       const char *case_id, uint32_t page_size, const char *token,
                                       const char *actor)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__ListSharesRequest q = RITRA__LIST_SHARES_REQUEST__INIT;

    q.direction = (char *)direction;
    q.n_state = n;
    q.state = states;
    q.case_id = (char *)(case_id ? case_id : "");
    q.page_size = page_size;
    q.page_token = (char *)(token ? token : "");
    req.actor = (char *)(actor ? actor : "");
    req.op_case = RITRA__REQUEST__OP_LIST_SHARES;
    req.list_shares = &q;
    return call_as(C[a], &req);
}

/* The state of grant_id as a lists it among the grants it gave or received
 * ("" when it is not there). */
static void grant_state(int a, const char *direction, const char *grant_id, char *out, size_t len)
{
    Ritra__Response *resp = list_shares_as(a, direction, NULL, 0, NULL, 500, NULL, NULL);
    char token[256];

    out[0] = '\0';
    for (;;) {
        expect(resp, RITRA__STATUS_CODE__OK, "ListShares");
        for (size_t i = 0; i < resp->list_shares->n_grants; i++)
            if (strcmp(resp->list_shares->grants[i]->grant_id, grant_id) == 0)
                snprintf(out, len, "%s", resp->list_shares->grants[i]->state);
        if (*resp->list_shares->next_page_token == '\0')
            break;
        snprintf(token, sizeof(token), "%s", resp->list_shares->next_page_token);
        release(resp);
        resp = list_shares_as(a, direction, NULL, 0, NULL, 500, token, NULL);
    }
    release(resp);
}

/* ---- sync ---------------------------------------------------------------------- */

/* Pulls a's feed to the end; returns the last change for case_id seen on
 * the way (a copy the caller frees), or NULL. */
static Ritra__SyncChange *pull_for(int a, const char *case_id)
{
    Ritra__SyncChange *found = NULL;
    bool more;

    do {
        Ritra__Request req = RITRA__REQUEST__INIT;
        Ritra__SyncPullRequest p = RITRA__SYNC_PULL_REQUEST__INIT;
        Ritra__Response *resp;

        p.cursor = CURSOR[a];
        req.op_case = RITRA__REQUEST__OP_SYNC_PULL;
        req.sync_pull = &p;
        resp = call_as(C[a], &req);
        expect(resp, RITRA__STATUS_CODE__OK, "SyncPull");
        for (size_t i = 0; i < resp->sync_pull->n_changes; i++) {
            const Ritra__SyncChange *ch = resp->sync_pull->changes[i];
            size_t n;
            uint8_t *buf;
            if (case_id == NULL || strcmp(ch->case_id, case_id) != 0)
                continue;
            n = ritra__sync_change__get_packed_size(ch);
            buf = malloc(n + 1);
            assert_non_null(buf);
            ritra__sync_change__pack(ch, buf);
            if (found != NULL)
                ritra__sync_change__free_unpacked(found, NULL);
            found = ritra__sync_change__unpack(NULL, n, buf);
            free(buf);
        }
        snprintf(CURSOR[a], sizeof(CURSOR[a]), "%s", resp->sync_pull->next_cursor);
        more = resp->sync_pull->more;
        release(resp);
    } while (more);
    return found;
}

/* Moves a's cursor to the end of its feed. */
static void drain(int a)
{
    assert_null(pull_for(a, NULL));
}

/* Waits up to timeout_ms for a change for case_id in a's feed. */
static Ritra__SyncChange *wait_change(int a, const char *case_id, int timeout_ms)
{
    long long deadline = harness_now_ms() + timeout_ms;
    Ritra__SyncChange *ch;

    while ((ch = pull_for(a, case_id)) == NULL && harness_now_ms() < deadline)
        usleep(50000);
    if (ch == NULL)
        fail_msg("%s's feed brought no change for %s", AG[a], case_id);
    return ch;
}

/* A loss: nothing of the case but its id. */
static void assert_loss(Ritra__SyncChange *ch)
{
    size_t n = ritra__sync_change__get_packed_size(ch);
    uint8_t *buf = malloc(n + 1);

    assert_true(ch->visibility_lost);
    assert_string_equal(ch->visibility, "NONE");
    assert_null(ch->case_);
    assert_null(ch->hit);
    assert_int_equal(ch->version, 0);
    assert_non_null(buf);
    ritra__sync_change__pack(ch, buf);
    for (size_t i = 0; i < sizeof(PROTECTED) / sizeof(PROTECTED[0]); i++)
        if (memmem(buf, n, PROTECTED[i], strlen(PROTECTED[i])) != NULL)
            fail_msg("a loss carries \"%s\"", PROTECTED[i]);
    free(buf);
    ritra__sync_change__free_unpacked(ch, NULL);
}

/* ---- the lifecycle ---------------------------------------------------------------- */

static void test_offered_accepted_revoked_lifecycle(void **state)
{
    char id[40], grant[40];
    Ritra__Response *resp;
    const Ritra__Grant *g;

    (void)state;
    submit("SHR-LIFE-1", "H0", id);
    resp = share(FGN, id, "PONAL", "FULL");
    expect(resp, RITRA__STATUS_CODE__OK, "ShareCase");
    g = resp->share_case->grant;
    assert_int_equal(strlen(g->grant_id), 36);
    assert_string_equal(g->case_id, id);
    assert_string_equal(g->grantor_agency, "FGN");
    assert_string_equal(g->grantee_agency, "PONAL");
    assert_string_equal(g->grantee_kind, "");
    assert_string_equal(g->level, "FULL");
    assert_string_equal(g->purpose, "Coordinación de la investigación");
    assert_string_equal(g->state, "offered");
    assert_string_equal(g->parent_grant_id, "");
    assert_string_equal(g->expires_at, "");
    assert_true(strlen(g->created_at) >= 20);
    snprintf(grant, sizeof(grant), "%s", g->grant_id);
    release(resp);

    /* An offer gives nothing until it is accepted. */
    expect_visibility(PONAL, id, "NONE");
    resp = respond(PONAL, grant, true);
    expect(resp, RITRA__STATUS_CODE__OK, "accept");
    assert_string_equal(resp->respond_to_share->grant->grant_id, grant);
    assert_string_equal(resp->respond_to_share->grant->state, "accepted");
    release(resp);
    expect_visibility(PONAL, id, "FULL");

    resp = revoke_grant(FGN, grant);
    expect(resp, RITRA__STATUS_CODE__OK, "revoke");
    assert_string_equal(resp->revoke_share->grant->state, "revoked");
    assert_string_equal(resp->revoke_share->grant->reason, "Terminó la colaboración");
    release(resp);
    expect_visibility(PONAL, id, "NONE");

    /* Revoking twice: the grant is no longer open. */
    resp = revoke_grant(FGN, grant);
    expect(resp, RITRA__STATUS_CODE__FAILED_PRECONDITION, "second revoke");
    release(resp);
}

static void test_offered_rejected_then_offered_again(void **state)
{
    char id[40], grant[40], again[40];
    Ritra__Response *resp;

    (void)state;
    submit("SHR-REJECT-1", "H0", id);
    share_ok(FGN, id, "MIGRACION", NULL, "RESTRICTED", NULL, grant);
    resp = respond(MIGRACION, grant, false);
    expect(resp, RITRA__STATUS_CODE__OK, "reject");
    assert_string_equal(resp->respond_to_share->grant->state, "rejected");
    assert_string_equal(resp->respond_to_share->grant->reason, "Fuera de nuestra competencia");
    release(resp);
    expect_visibility(MIGRACION, id, "NONE");
    /* A rejection is final... */
    resp = respond(MIGRACION, grant, true);
    expect(resp, RITRA__STATUS_CODE__FAILED_PRECONDITION, "accept after reject");
    release(resp);
    /* ...but not live: the owner may offer again, as a new grant. */
    share_ok(FGN, id, "MIGRACION", NULL, "RESTRICTED", NULL, again);
    assert_string_not_equal(grant, again);
    accept_ok(MIGRACION, again);
    expect_visibility(MIGRACION, id, "RESTRICTED");
}

static void test_accepting_twice_is_failed_precondition(void **state)
{
    char id[40], grant[40];
    Ritra__Response *resp;

    (void)state;
    submit("SHR-TWICE-1", "H0", id);
    share_ok(FGN, id, "ICBF", NULL, "RESTRICTED", NULL, grant);
    accept_ok(ICBF, grant);
    resp = respond(ICBF, grant, true);
    expect(resp, RITRA__STATUS_CODE__FAILED_PRECONDITION, "second accept");
    /* The message names the grant standing in the way and its state. */
    assert_non_null(strstr(resp->status->message, grant));
    assert_non_null(strstr(resp->status->message, "accepted"));
    release(resp);
    resp = respond(ICBF, grant, false);
    expect(resp, RITRA__STATUS_CODE__FAILED_PRECONDITION, "reject after accept");
    release(resp);
    expect_visibility(ICBF, id, "RESTRICTED");
}

static void test_respond_after_revoke_is_failed_precondition(void **state)
{
    char id[40], grant[40];
    Ritra__Response *resp;

    (void)state;
    submit("SHR-REVOKED-1", "H0", id);
    share_ok(FGN, id, "PONAL", NULL, "FULL", NULL, grant);
    release(revoke_grant(FGN, grant));
    resp = respond(PONAL, grant, true);
    expect(resp, RITRA__STATUS_CODE__FAILED_PRECONDITION, "accept after revoke");
    assert_non_null(strstr(resp->status->message, "revoked"));
    release(resp);
    expect_visibility(PONAL, id, "NONE");
}

static void test_respond_after_expiry_is_failed_precondition_naming_expired(void **state)
{
    char id[40], grant[40], sql[256], msg[256];
    Ritra__Response *resp;

    (void)state;
    submit("SHR-EXPIRED-OFFER-1", "H0", id);
    share_ok(FGN, id, "PONAL", NULL, "FULL", "2099-12-31T00:00:00Z", grant);
    snprintf(sql, sizeof(sql),
             "UPDATE grants SET expires_at = now() - interval '1 second' WHERE grant_id = '%s'",
             grant);
    assert_int_equal(harness_sql(&H, sql), 0);
    resp = respond(PONAL, grant, true);
    expect(resp, RITRA__STATUS_CODE__FAILED_PRECONDITION, "accept after expiry");
    /* docs/access.md: "respond after expiry: FAILED_PRECONDITION, state expired". */
    snprintf(msg, sizeof(msg), "%s", resp->status->message);
    release(resp);
    if (strstr(msg, "expired") == NULL)
        fail_msg("the refusal does not say the grant expired: \"%s\"", msg);
    expect_visibility(PONAL, id, "NONE");
}

static void test_share_refusals(void **state)
{
    char id[40];
    Ritra__Response *resp;

    (void)state;
    submit("SHR-REFUSE-1", "H0", id);
    /* Auditors never receive case content, by agency or by kind. */
    resp = share(FGN, id, "PGN", "HIT");
    expect(resp, RITRA__STATUS_CODE__PERMISSION_DENIED, "share to an auditor");
    release(resp);
    resp = share_on(C[FGN], id, NULL, "auditor", "HIT", NULL);
    expect(resp, RITRA__STATUS_CODE__PERMISSION_DENIED, "share to the auditor kind");
    release(resp);
    resp = share(FGN, id, "FGN", "FULL");
    expect(resp, RITRA__STATUS_CODE__INVALID_ARGUMENT, "share to oneself");
    release(resp);
    resp = share(FGN, id, "NOSUCHAGENCY", "FULL");
    expect(resp, RITRA__STATUS_CODE__NOT_FOUND, "share to an unknown agency");
    release(resp);
    resp = share_on(C[FGN], id, "PONAL", NULL, "FULL", "2020-01-01T00:00:00Z");
    expect(resp, RITRA__STATUS_CODE__INVALID_ARGUMENT, "share expiring in the past");
    release(resp);
    resp = share(FGN, id, "PONAL", "NONE");
    expect(resp, RITRA__STATUS_CODE__INVALID_ARGUMENT, "share at NONE");
    release(resp);
}

/* ---- ListShares ---------------------------------------------------------------------- */

static void test_list_shares_filters_by_direction_state_and_case_and_pages(void **state)
{
    static char *live[] = {"offered", "accepted"}, *rejected[] = {"rejected"},
                *bogus[] = {"pending"};
    char ids[5][40], grants[5][40], ref[32], token[256] = "";
    int seen[5] = {0}, pages = 0;
    Ritra__Response *resp;

    (void)state;
    for (int i = 0; i < 5; i++) {
        snprintf(ref, sizeof(ref), "SHR-LIST-%d", i);
        submit(ref, "H1", ids[i]);
        share_ok(FGN, ids[i], "ICBF", NULL, "FULL", NULL, grants[i]);
    }
    accept_ok(ICBF, grants[0]);
    accept_ok(ICBF, grants[1]);
    release(respond(ICBF, grants[2], false));
    release(revoke_grant(FGN, grants[4]));
    /* Received and live, two per page: grants 0, 1 (accepted) and 3 (offered). */
    do {
        resp = list_shares_as(ICBF, "received", live, 2, NULL, 2, token, NULL);
        expect(resp, RITRA__STATUS_CODE__OK, "ListShares page");
        assert_true(resp->list_shares->n_grants <= 2);
        for (size_t i = 0; i < resp->list_shares->n_grants; i++) {
            const Ritra__Grant *g = resp->list_shares->grants[i];
            assert_true(strcmp(g->state, "offered") == 0 || strcmp(g->state, "accepted") == 0);
            assert_true(strcmp(g->grantee_agency, "ICBF") == 0 ||
                        strcmp(g->grantee_kind, "victim_services") == 0);
            for (int k = 0; k < 5; k++)
                seen[k] += strcmp(g->grant_id, grants[k]) == 0;
        }
        snprintf(token, sizeof(token), "%s", resp->list_shares->next_page_token);
        release(resp);
        pages++;
    } while (*token && pages < 100);
    assert_true(pages >= 2);
    assert_int_equal(seen[0], 1);
    assert_int_equal(seen[1], 1);
    assert_int_equal(seen[2], 0);
    assert_int_equal(seen[3], 1);
    assert_int_equal(seen[4], 0);

    /* Given, one state, one case. */
    resp = list_shares_as(FGN, "given", rejected, 1, ids[2], 0, NULL, NULL);
    expect(resp, RITRA__STATUS_CODE__OK, "ListShares given");
    assert_int_equal(resp->list_shares->n_grants, 1);
    assert_string_equal(resp->list_shares->grants[0]->grant_id, grants[2]);
    assert_string_equal(resp->list_shares->next_page_token, "");
    release(resp);
    resp = list_shares_as(FGN, "given", live, 2, ids[2], 0, NULL, NULL);
    assert_int_equal(resp->list_shares->n_grants, 0);
    release(resp);
    /* The owner receives nothing; a third agency sees none of these. */
    resp = list_shares_as(FGN, "received", NULL, 0, NULL, 0, NULL, NULL);
    assert_int_equal(resp->list_shares->n_grants, 0);
    release(resp);
    for (int d = 0; d < 2; d++) {
        resp = list_shares_as(MIGRACION, d ? "given" : "received", NULL, 0, ids[0], 0, NULL, NULL);
        expect(resp, RITRA__STATUS_CODE__OK, "ListShares third party");
        assert_int_equal(resp->list_shares->n_grants, 0);
        release(resp);
    }
    /* Malformed queries. */
    resp = list_shares_as(ICBF, "received", bogus, 1, NULL, 0, NULL, NULL);
    expect(resp, RITRA__STATUS_CODE__INVALID_ARGUMENT, "unknown state");
    release(resp);
    resp = list_shares_as(ICBF, "sideways", NULL, 0, NULL, 0, NULL, NULL);
    expect(resp, RITRA__STATUS_CODE__INVALID_ARGUMENT, "unknown direction");
    release(resp);
    resp = list_shares_as(ICBF, "received", NULL, 0, NULL, 0, "L1~not-ours", NULL);
    expect(resp, RITRA__STATUS_CODE__INVALID_ARGUMENT, "foreign page token");
    release(resp);
}

/* ---- races ------------------------------------------------------------------------- */

struct racer {
    struct ritra_conn *conn;
    pthread_barrier_t *go;
    int op; /* 0 revoke, 1 accept, 2 share to MIGRACION, 3 update the case */
    const char *arg;
    int variant;
    int code;
    char state[16], grant[40];
};

static void *race(void *arg)
{
    struct racer *r = arg;
    Ritra__Response *resp = NULL;
    struct ritra_error err;
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__RevokeShareRequest rv = RITRA__REVOKE_SHARE_REQUEST__INIT;
    Ritra__RespondToShareRequest rs = RITRA__RESPOND_TO_SHARE_REQUEST__INIT;
    Ritra__ShareCaseRequest sh = RITRA__SHARE_CASE_REQUEST__INIT;
    Ritra__SubmitCaseRequest sub;
    struct case_fixture f;
    const Ritra__Grant *g = NULL;

    switch (r->op) {
    case 0:
        rv.grant_id = (char *)r->arg;
        req.op_case = RITRA__REQUEST__OP_REVOKE_SHARE;
        req.revoke_share = &rv;
        break;
    case 1:
        rs.grant_id = (char *)r->arg;
        rs.accept = 1;
        req.op_case = RITRA__REQUEST__OP_RESPOND_TO_SHARE;
        req.respond_to_share = &rs;
        break;
    case 2:
        sh.case_id = (char *)r->arg;
        sh.grantee_agency = r->variant ? "PONAL" : "MIGRACION";
        sh.level = "FULL";
        sh.purpose = "Carrera de comparticiones";
        req.op_case = RITRA__REQUEST__OP_SHARE_CASE;
        req.share_case = &sh;
        break;
    default:
        case_fixture_init(&f, r->arg, r->variant);
        f.c.handling_code = "H0";
        case_fixture_request(&f, &req, &sub, 0);
        break;
    }
    r->code = -1;
    pthread_barrier_wait(r->go);
    if (ritra_call(r->conn, &req, &resp, &err) < 0)
        return NULL;
    r->code = (int)resp->status->code;
    /* The result is a oneof: only the member result_case names is set. */
    if (resp->result_case == RITRA__RESPONSE__RESULT_REVOKE_SHARE)
        g = resp->revoke_share->grant;
    else if (resp->result_case == RITRA__RESPONSE__RESULT_RESPOND_TO_SHARE)
        g = resp->respond_to_share->grant;
    else if (resp->result_case == RITRA__RESPONSE__RESULT_SHARE_CASE)
        g = resp->share_case->grant;
    if (g != NULL) {
        snprintf(r->state, sizeof(r->state), "%s", g->state);
        snprintf(r->grant, sizeof(r->grant), "%s", g->grant_id);
    } else if (resp->status->code == RITRA__STATUS_CODE__ALREADY_EXISTS) {
        snprintf(r->state, sizeof(r->state), "exists");
        snprintf(r->grant, sizeof(r->grant), "%.36s",
                 strstr(resp->status->message, "(grant ")
                     ? strstr(resp->status->message, "(grant ") + 7
                     : "");
    }
    ritra__response__free_unpacked(resp, NULL);
    return NULL;
}

/* Runs two racers, each on its own connection, released together. */
static void run_race(struct racer r[2])
{
    pthread_barrier_t go;
    pthread_t t[2];

    pthread_barrier_init(&go, NULL, 2);
    for (int i = 0; i < 2; i++) {
        r[i].go = &go;
        r[i].state[0] = r[i].grant[0] = '\0';
        assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
}

static void test_revoke_racing_accept_always_ends_revoked(void **state)
{
    struct ritra_error err;
    struct ritra_conn *owner = harness_connect(&H, "FGN", &err);
    struct ritra_conn *recipient = harness_connect(&H, "PONAL", &err);
    int accepted_first = 0, revoked_first = 0;

    (void)state;
    assert_non_null(owner);
    assert_non_null(recipient);
    for (int round = 0; round < ROUNDS; round++) {
        char ref[32], id[40], grant[40], final[16];
        struct racer r[2];

        snprintf(ref, sizeof(ref), "SHR-RACE-RA-%d", round);
        submit(ref, "H0", id);
        share_ok(FGN, id, "PONAL", NULL, "FULL", NULL, grant);
        memset(r, 0, sizeof(r));
        r[0].conn = owner;
        r[0].op = 0;
        r[0].arg = grant;
        r[1].conn = recipient;
        r[1].op = 1;
        r[1].arg = grant;
        run_race(r);
        /* The revocation wins either way; the accept saw one order or the other. */
        assert_int_equal(r[0].code, RITRA__STATUS_CODE__OK);
        assert_string_equal(r[0].state, "revoked");
        if (r[1].code == RITRA__STATUS_CODE__OK) {
            assert_string_equal(r[1].state, "accepted");
            accepted_first++;
        } else {
            assert_int_equal(r[1].code, RITRA__STATUS_CODE__FAILED_PRECONDITION);
            revoked_first++;
        }
        grant_state(FGN, "given", grant, final, sizeof(final));
        assert_string_equal(final, "revoked");
        expect_visibility(PONAL, id, "NONE");
    }
    print_message("revoke vs accept: %d rounds, accept first %d, revoke first %d\n", ROUNDS,
                  accepted_first, revoked_first);
    ritra_close(owner);
    ritra_close(recipient);
}

static void test_two_identical_shares_make_one_grant(void **state)
{
    static char *live[] = {"offered", "accepted"};
    struct ritra_error err;
    struct ritra_conn *a = harness_connect(&H, "FGN", &err);
    struct ritra_conn *b = harness_connect(&H, "FGN", &err);

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    for (int round = 0; round < ROUNDS; round++) {
        char ref[32], id[40];
        struct racer r[2];
        Ritra__Response *resp;
        int winner;

        snprintf(ref, sizeof(ref), "SHR-RACE-SS-%d", round);
        submit(ref, "H0", id);
        memset(r, 0, sizeof(r));
        for (int i = 0; i < 2; i++) {
            r[i].conn = i ? b : a;
            r[i].op = 2;
            r[i].arg = id;
        }
        run_race(r);
        winner = r[0].code == RITRA__STATUS_CODE__OK ? 0 : 1;
        assert_int_equal(r[winner].code, RITRA__STATUS_CODE__OK);
        assert_int_equal(r[1 - winner].code, RITRA__STATUS_CODE__ALREADY_EXISTS);
        /* The loser is told which grant stands in its way. */
        assert_string_equal(r[1 - winner].grant, r[winner].grant);
        resp = list_shares_as(FGN, "given", live, 2, id, 0, NULL, NULL);
        expect(resp, RITRA__STATUS_CODE__OK, "ListShares");
        assert_int_equal(resp->list_shares->n_grants, 1);
        assert_string_equal(resp->list_shares->grants[0]->grant_id, r[winner].grant);
        release(resp);
    }
    ritra_close(a);
    ritra_close(b);
}

static void test_reshare_racing_an_update_exists_and_recipient_gets_the_update(void **state)
{
    struct ritra_error err;
    struct ritra_conn *writer = harness_connect(&H, "FGN", &err);
    struct ritra_conn *sharer = harness_connect(&H, "FGN", &err);
    char id[40], grant[40];

    (void)state;
    assert_non_null(writer);
    assert_non_null(sharer);
    submit("SHR-RACE-UPD", "H0", id);
    share_ok(FGN, id, "PONAL", NULL, "FULL", NULL, grant);
    accept_ok(PONAL, grant);
    drain(PONAL);
    for (int round = 0; round < ROUNDS; round++) {
        struct racer r[2];
        char want[64];
        Ritra__Response *resp;
        Ritra__SyncChange *ch;

        memset(r, 0, sizeof(r));
        r[0].conn = writer;
        r[0].op = 3;
        r[0].arg = "SHR-RACE-UPD";
        r[0].variant = round + 1;
        r[1].conn = sharer;
        r[1].op = 2;
        r[1].arg = id;
        r[1].variant = 1; /* to PONAL again */
        run_race(r);
        assert_int_equal(r[0].code, RITRA__STATUS_CODE__OK);
        /* A grant covers the case, not a version. */
        assert_int_equal(r[1].code, RITRA__STATUS_CODE__ALREADY_EXISTS);
        assert_string_equal(r[1].grant, grant);
        snprintf(want, sizeof(want), "variante %d", round + 1);
        resp = get(PONAL, id);
        expect(resp, RITRA__STATUS_CODE__OK, "recipient reads the update");
        assert_int_equal(resp->get_case->case_->version, round + 2);
        assert_non_null(strstr(resp->get_case->case_->summary, want));
        release(resp);
        ch = wait_change(PONAL, id, 5000);
        assert_int_equal(ch->version, round + 2);
        assert_string_equal(ch->visibility, "FULL");
        assert_non_null(strstr(ch->case_->summary, want));
        ritra__sync_change__free_unpacked(ch, NULL);
    }
    ritra_close(writer);
    ritra_close(sharer);
}

/* ---- sync after losing a grant ----------------------------------------------------------- */

static void test_sync_reports_loss_after_revocation(void **state)
{
    char id[40], grant[40];
    Ritra__SyncChange *ch;

    (void)state;
    submit("SHR-SYNC-REVOKE", "H0", id);
    drain(MIGRACION);
    share_ok(FGN, id, "MIGRACION", NULL, "FULL", NULL, grant);
    accept_ok(MIGRACION, grant);
    ch = wait_change(MIGRACION, id, 5000);
    assert_string_equal(ch->visibility, "FULL");
    assert_false(ch->visibility_lost);
    assert_non_null(ch->case_);
    /* FULL with the victim's consent: her identity is there. */
    assert_string_equal(ch->case_->persons[0]->first_surname, "Muñoz");
    ritra__sync_change__free_unpacked(ch, NULL);

    release(revoke_grant(FGN, grant));
    assert_loss(wait_change(MIGRACION, id, 5000));
}

static void test_sync_reports_loss_after_expiry(void **state)
{
    char id[40], grant[40], sql[256], st[16];
    Ritra__SyncChange *ch;

    (void)state;
    submit("SHR-SYNC-EXPIRE", "H0", id);
    drain(ICBF);
    share_ok(FGN, id, "ICBF", NULL, "FULL", "2099-12-31T00:00:00Z", grant);
    accept_ok(ICBF, grant);
    ch = wait_change(ICBF, id, 5000);
    assert_string_equal(ch->visibility, "FULL");
    ritra__sync_change__free_unpacked(ch, NULL);

    snprintf(sql, sizeof(sql),
             "UPDATE grants SET expires_at = now() - interval '1 second' WHERE grant_id = '%s'",
             grant);
    assert_int_equal(harness_sql(&H, sql), 0);
    /* Levels ignore an overdue grant at once; the feed hears at the next tick. */
    expect_visibility(ICBF, id, "NONE");
    assert_loss(wait_change(ICBF, id, 10000));
    grant_state(ICBF, "received", grant, st, sizeof(st));
    assert_string_equal(st, "expired");
}

/* ---- onward shares ---------------------------------------------------------------------- */

static void test_onward_share_records_parent_and_falls_with_it(void **state)
{
    char id[40], parent[40], child[40], st[16];
    Ritra__Response *resp;

    (void)state;
    submit("SHR-ONWARD-1", "H0", id);
    share_ok(FGN, id, "PONAL", NULL, "FULL", NULL, parent);
    accept_ok(PONAL, parent);
    resp = share(PONAL, id, "MIGRACION", "FULL");
    expect(resp, RITRA__STATUS_CODE__OK, "onward share");
    assert_string_equal(resp->share_case->grant->grantor_agency, "PONAL");
    assert_string_equal(resp->share_case->grant->grantee_agency, "MIGRACION");
    assert_string_equal(resp->share_case->grant->parent_grant_id, parent);
    snprintf(child, sizeof(child), "%s", resp->share_case->grant->grant_id);
    release(resp);
    accept_ok(MIGRACION, child);
    expect_visibility(MIGRACION, id, "FULL");
    drain(MIGRACION);
    /* The recipient of the onward grant cannot withdraw it; its grantor can't
     * make another to the same agency while it is live. */
    resp = revoke_grant(MIGRACION, child);
    expect(resp, RITRA__STATUS_CODE__NOT_FOUND, "grantee revokes");
    release(resp);
    resp = share(PONAL, id, "MIGRACION", "RESTRICTED");
    expect(resp, RITRA__STATUS_CODE__ALREADY_EXISTS, "second onward share");
    release(resp);

    release(revoke_grant(FGN, parent));
    grant_state(MIGRACION, "received", child, st, sizeof(st));
    assert_string_equal(st, "revoked");
    expect_visibility(MIGRACION, id, "NONE");
    expect_visibility(PONAL, id, "NONE");
    assert_loss(wait_change(MIGRACION, id, 5000));
}

static void test_onward_share_limits(void **state)
{
    char id[40], grant[40];
    Ritra__Response *resp;

    (void)state;
    submit("SHR-ONWARD-LIMITS", "H1", id);
    share_ok(FGN, id, "PONAL", NULL, "RESTRICTED", NULL, grant);
    accept_ok(PONAL, grant);
    resp = share(PONAL, id, "MIGRACION", "FULL");
    expect(resp, RITRA__STATUS_CODE__PERMISSION_DENIED, "onward above one's level");
    release(resp);
    resp = share_on(C[PONAL], id, NULL, "migration", "RESTRICTED", NULL);
    expect(resp, RITRA__STATUS_CODE__PERMISSION_DENIED, "onward to a kind");
    release(resp);
    resp = share(PONAL, id, "PGN", "RESTRICTED");
    expect(resp, RITRA__STATUS_CODE__PERMISSION_DENIED, "onward to an auditor");
    release(resp);
    resp = share(PONAL, id, "FGN", "RESTRICTED");
    expect(resp, RITRA__STATUS_CODE__INVALID_ARGUMENT, "onward back to the owner");
    release(resp);
    resp = share(PONAL, id, "MIGRACION", "RESTRICTED");
    expect(resp, RITRA__STATUS_CODE__OK, "onward at one's own level");
    release(resp);
}

static void test_onward_grant_falls_when_its_parent_expires(void **state)
{
    char id[40], parent[40], child[40], sql[256], st[16] = "";
    long long deadline;

    (void)state;
    submit("SHR-ONWARD-EXPIRE", "H0", id);
    share_ok(FGN, id, "PONAL", NULL, "FULL", "2099-12-31T00:00:00Z", parent);
    accept_ok(PONAL, parent);
    share_ok(PONAL, id, "MIGRACION", NULL, "FULL", NULL, child);
    accept_ok(MIGRACION, child);
    expect_visibility(MIGRACION, id, "FULL");
    snprintf(sql, sizeof(sql),
             "UPDATE grants SET expires_at = now() - interval '1 second' WHERE grant_id = '%s'",
             parent);
    assert_int_equal(harness_sql(&H, sql), 0);
    deadline = harness_now_ms() + 10000;
    while (strcmp(st, "expired") != 0 && harness_now_ms() < deadline) {
        usleep(100000);
        grant_state(PONAL, "received", parent, st, sizeof(st));
    }
    assert_string_equal(st, "expired");
    expect_visibility(PONAL, id, "NONE");
    /* What PONAL passed on ends with what PONAL held. */
    expect_visibility(MIGRACION, id, "NONE");
}

static void test_onward_share_under_a_kind_grant_falls_with_it(void **state)
{
    char id[40], kind_grant[40], child[40];
    Ritra__Response *resp;

    (void)state;
    submit("SHR-ONWARD-KIND", "H0", id);
    share_ok(FGN, id, NULL, "police", "RESTRICTED", NULL, kind_grant);
    expect_visibility(PONAL, id, "RESTRICTED");
    resp = share(PONAL, id, "ICBF", "RESTRICTED");
    expect(resp, RITRA__STATUS_CODE__OK, "onward share under a kind grant");
    snprintf(child, sizeof(child), "%s", resp->share_case->grant->grant_id);
    if (strcmp(resp->share_case->grant->parent_grant_id, kind_grant) != 0)
        print_message("onward grant's parent_grant_id is \"%s\", not the kind grant %s\n",
                      resp->share_case->grant->parent_grant_id, kind_grant);
    release(resp);
    accept_ok(ICBF, child);
    expect_visibility(ICBF, id, "RESTRICTED");
    release(revoke_grant(FGN, kind_grant));
    expect_visibility(PONAL, id, "NONE");
    /* The onward grant was made from the kind grant and falls with it. */
    expect_visibility(ICBF, id, "NONE");
}

/* ---- handling codes ------------------------------------------------------------------------ */

static void test_h2_recipient_cannot_share_onward(void **state)
{
    char id[40], grant[40];
    Ritra__Response *resp;

    (void)state;
    submit("SHR-H2", "H2", id);
    share_ok(FGN, id, "PONAL", NULL, "FULL", NULL, grant);
    accept_ok(PONAL, grant);
    resp = get(PONAL, id);
    expect(resp, RITRA__STATUS_CODE__OK, "H2 read");
    assert_string_equal(resp->get_case->visibility, "FULL");
    assert_non_null(strstr(resp->get_case->handling_notice, "H2"));
    release(resp);
    resp = share(PONAL, id, "MIGRACION", "FULL");
    expect(resp, RITRA__STATUS_CODE__PERMISSION_DENIED, "onward share of H2");
    release(resp);
    resp = share(PONAL, id, "MIGRACION", "HIT");
    expect(resp, RITRA__STATUS_CODE__PERMISSION_DENIED, "onward HIT of H2");
    release(resp);
    /* The owner still may. */
    resp = share(FGN, id, "MIGRACION", "FULL");
    expect(resp, RITRA__STATUS_CODE__OK, "owner shares H2");
    release(resp);
}

static bool listed_for(int a, const char *id)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__ListCasesRequest q = RITRA__LIST_CASES_REQUEST__INIT;
    char token[256] = "";
    bool found = false;

    q.page_size = 500;
    req.op_case = RITRA__REQUEST__OP_LIST_CASES;
    req.list_cases = &q;
    do {
        Ritra__Response *resp;
        q.page_token = token;
        resp = call_as(C[a], &req);
        expect(resp, RITRA__STATUS_CODE__OK, "ListCases");
        for (size_t i = 0; i < resp->list_cases->n_cases; i++)
            found |= strcmp(resp->list_cases->cases[i]->case_id, id) == 0;
        snprintf(token, sizeof(token), "%s", resp->list_cases->next_page_token);
        release(resp);
    } while (*token);
    return found;
}

static void test_h3_hides_case_from_coordinator_despite_default_hit(void **state)
{
    char h0[40], h3[40], h3_hits[40], grant[40];

    (void)state;
    submit("SHR-H3-TWIN-H0", "H0", h0);
    submit_on(C[FGN], "SHR-H3", "H3", false, 0, h3);
    submit_on(C[FGN], "SHR-H3-HITS", "H3", true, 0, h3_hits);
    /* Coordinators get HIT on every case by default... */
    expect_visibility(MININTERIOR, h0, "HIT");
    /* A HIT is not listed (only RESTRICTED and up are), but it is a HIT. */
    assert_false(listed_for(MININTERIOR, h0));
    /* ...but not on H3, whose owner allowed no hits. */
    expect_visibility(MININTERIOR, h3, "NONE");
    assert_false(listed_for(MININTERIOR, h3));
    /* h3_allow_hits is about search hits for police and prosecutors; the
     * level rule for H3 stays "direct grants only". */
    expect_visibility(MININTERIOR, h3_hits, "NONE");
    /* A grant to the agency itself does count. */
    share_ok(FGN, h3, "MININTERIOR", NULL, "RESTRICTED", NULL, grant);
    accept_ok(MININTERIOR, grant);
    expect_visibility(MININTERIOR, h3, "RESTRICTED");
}

/* ---- the actor ------------------------------------------------------------------------------ */

static void test_actor_never_widens_rights(void **state)
{
    static const char *const actors[] = {"FGN", "FGN admin", "MIGRACION", "root"};
    char id[40], grant[40], st[16];
    Ritra__Response *resp;

    (void)state;
    submit("SHR-ACTOR-1", "H0", id);
    share_ok(FGN, id, "MIGRACION", NULL, "FULL", NULL, grant);
    for (size_t i = 0; i < sizeof(actors) / sizeof(actors[0]); i++) {
        Ritra__Request req = RITRA__REQUEST__INIT;
        Ritra__CloseCaseRequest cl = RITRA__CLOSE_CASE_REQUEST__INIT;
        Ritra__ShareCaseRequest sh = RITRA__SHARE_CASE_REQUEST__INIT;

        resp = get_as(PONAL, id, actors[i]);
        expect(resp, RITRA__STATUS_CODE__NOT_FOUND, "GetCase with another's actor");
        release(resp);
        resp = respond_on(C[PONAL], grant, true, actors[i]);
        expect(resp, RITRA__STATUS_CODE__NOT_FOUND, "accept another's grant");
        release(resp);
        resp = revoke_on(C[PONAL], grant, actors[i]);
        expect(resp, RITRA__STATUS_CODE__NOT_FOUND, "revoke the owner's grant");
        release(resp);
        cl.case_id = id;
        cl.cas_status = "Withdrawn";
        req.actor = (char *)actors[i];
        req.op_case = RITRA__REQUEST__OP_CLOSE_CASE;
        req.close_case = &cl;
        resp = call_as(C[PONAL], &req);
        expect(resp, RITRA__STATUS_CODE__NOT_FOUND, "close another's case");
        release(resp);
        sh.case_id = id;
        sh.grantee_agency = "ICBF";
        sh.level = "FULL";
        sh.purpose = "Intento con otro actor";
        req.op_case = RITRA__REQUEST__OP_SHARE_CASE;
        req.share_case = &sh;
        resp = call_as(C[PONAL], &req);
        expect(resp, RITRA__STATUS_CODE__NOT_FOUND, "share another's case");
        release(resp);
        resp = list_shares_as(PONAL, "given", NULL, 0, id, 0, NULL, actors[i]);
        expect(resp, RITRA__STATUS_CODE__OK, "ListShares with another's actor");
        assert_int_equal(resp->list_shares->n_grants, 0);
        release(resp);
    }
    /* Nothing changed: the grant is still offered, the case at version 1. */
    grant_state(FGN, "given", grant, st, sizeof(st));
    assert_string_equal(st, "offered");
    resp = get(FGN, id);
    expect(resp, RITRA__STATUS_CODE__OK, "owner reads");
    assert_int_equal(resp->get_case->case_->version, 1);
    assert_string_equal(resp->get_case->case_->cas_status, "Active");
    release(resp);
    expect_visibility(ICBF, id, "NONE");
}

static int setup(void **state)
{
    struct ritra_error err;

    (void)state;
    /* A fast expiry tick, so the tests can watch a grant expire. */
    if (harness_start(&H, "grant_expiry_interval = 1s\n") < 0)
        return -1;
    for (int a = 0; a < N_AG; a++) {
        C[a] = harness_connect(&H, AG[a], &err);
        if (C[a] == NULL) {
            fprintf(stderr, "setup: cannot connect as %s: %s\n", AG[a], err.message);
            harness_stop(&H); /* cmocka runs no teardown after a failed setup */
            return -1;
        }
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int a = 0; a < N_AG; a++)
        ritra_close(C[a]);
    harness_stop(&H);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offered_accepted_revoked_lifecycle),
        cmocka_unit_test(test_offered_rejected_then_offered_again),
        cmocka_unit_test(test_accepting_twice_is_failed_precondition),
        cmocka_unit_test(test_respond_after_revoke_is_failed_precondition),
        cmocka_unit_test(test_respond_after_expiry_is_failed_precondition_naming_expired),
        cmocka_unit_test(test_share_refusals),
        cmocka_unit_test(test_list_shares_filters_by_direction_state_and_case_and_pages),
        cmocka_unit_test(test_revoke_racing_accept_always_ends_revoked),
        cmocka_unit_test(test_two_identical_shares_make_one_grant),
        cmocka_unit_test(test_reshare_racing_an_update_exists_and_recipient_gets_the_update),
        cmocka_unit_test(test_sync_reports_loss_after_revocation),
        cmocka_unit_test(test_sync_reports_loss_after_expiry),
        cmocka_unit_test(test_onward_share_records_parent_and_falls_with_it),
        cmocka_unit_test(test_onward_share_limits),
        cmocka_unit_test(test_onward_grant_falls_when_its_parent_expires),
        cmocka_unit_test(test_onward_share_under_a_kind_grant_falls_with_it),
        cmocka_unit_test(test_h2_recipient_cannot_share_onward),
        cmocka_unit_test(test_h3_hides_case_from_coordinator_despite_default_hit),
        cmocka_unit_test(test_actor_never_widens_rights),
    };

    return cmocka_run_group_tests_name("integration-shares", tests, setup, teardown);
}
