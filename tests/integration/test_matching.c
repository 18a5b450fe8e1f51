/*
 * Deduplication and person search end to end, through the real server and
 * libritra: automatic links across agencies, the review queue (confirm,
 * reject and its memory), merge and unmerge, related cases at each
 * agency's level, SearchPersons and SearchCases under the access rules,
 * with zero-leak byte scans of every reply an agency may not read the
 * protected values in, and the refusals of malformed requests.
 */
#define _GNU_SOURCE /* memmem */
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

enum { FGN, PONAL, MIGRACION, ICBF, PGN, MININTERIOR, N_AG };
static const char *const AG[N_AG] = {"FGN", "PONAL", "MIGRACION", "ICBF", "PGN", "MININTERIOR"};

static struct harness H;
static struct ritra_conn *C[N_AG];

/* ---- helpers ------------------------------------------------------------------ */

static void release(Ritra__Response *resp)
{
    ritra__response__free_unpacked(resp, NULL);
}

static Ritra__Response *call(int ag, Ritra__Request *req)
{
    Ritra__Response *resp = NULL;
    struct ritra_error err;

    if (ritra_call(C[ag], req, &resp, &err) < 0)
        fail_msg("%s: call failed: %s %s", AG[ag], ritra_status_name(err.code), err.message);
    return resp;
}

static void expect(const Ritra__Response *resp, int code, const char *what)
{
    if ((int)resp->status->code != code)
        fail_msg("%s: expected %s, got %s (%s)", what, ritra_status_name(code),
                 ritra_status_name((int)resp->status->code), resp->status->message);
}

/* The reply's bytes hold none of the values. */
static void assert_no_leak(const Ritra__Response *resp, const char *const *values, size_t n,
                           const char *what)
{
    size_t len = ritra__response__get_packed_size(resp);
    uint8_t *buf = malloc(len ? len : 1);

    assert_non_null(buf);
    ritra__response__pack(resp, buf);
    for (size_t i = 0; i < n; i++)
        if (memmem(buf, len, values[i], strlen(values[i])) != NULL)
            fail_msg("%s: reply carries \"%s\"", what, values[i]);
    free(buf);
}

static bool reply_has(const Ritra__Response *resp, const char *value)
{
    size_t len = ritra__response__get_packed_size(resp);
    uint8_t *buf = malloc(len ? len : 1);
    bool found;

    assert_non_null(buf);
    ritra__response__pack(resp, buf);
    found = memmem(buf, len, value, strlen(value)) != NULL;
    free(buf);
    return found;
}

/* A case with one person (the fixture's victim, reshaped by the caller). */
struct one {
    struct case_fixture f;
};

static void one_init(struct one *o, const char *ref, const char *given, const char *first,
                     const char *second, const char *birth, const char *doc)
{
    case_fixture_init(&o->f, ref, 0);
    o->f.c.n_persons = 1;
    o->f.victim.prs_firstname = (char *)given;
    o->f.victim.first_surname = (char *)first;
    o->f.victim.second_surname = (char *)second;
    o->f.victim.prs_birthdate = (char *)birth;
    o->f.victim.n_aliases = 0;
    o->f.victim.n_phones = 0;
    o->f.victim.n_addresses = 0;
    o->f.victim.prs_email = "";
    if (doc != NULL) {
        o->f.doc.number = (char *)doc;
        o->f.victim.n_documents = 1;
    } else {
        o->f.victim.n_documents = 0;
    }
}

static void submit(int ag, struct case_fixture *f, char *id_out)
{
    Ritra__Request req;
    Ritra__SubmitCaseRequest sub;
    Ritra__Response *resp;

    case_fixture_request(f, &req, &sub, 0);
    resp = call(ag, &req);
    expect(resp, RITRA__STATUS_CODE__OK, f->c.external_ref);
    if (id_out != NULL)
        snprintf(id_out, 40, "%s", resp->submit_case->case_id);
    release(resp);
}

static Ritra__Response *case_matches(int ag, const char *case_id)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__CaseMatchesRequest m = RITRA__CASE_MATCHES_REQUEST__INIT;

    m.case_id = (char *)case_id;
    req.op_case = RITRA__REQUEST__OP_CASE_MATCHES;
    req.case_matches = &m;
    return call(ag, &req);
}

/* Waits until the matcher has linked every person of the case; returns
 * the CaseMatches reply (caller releases). */
static Ritra__Response *await_matched(int ag, const char *case_id)
{
    for (int i = 0; i < 200; i++) {
        Ritra__Response *resp = case_matches(ag, case_id);
        bool done = true;

        expect(resp, RITRA__STATUS_CODE__OK, "case_matches");
        for (size_t p = 0; p < resp->case_matches->n_persons; p++)
            done &= strcmp(resp->case_matches->persons[p]->state, "PENDING") != 0;
        if (done)
            return resp;
        release(resp);
        usleep(50 * 1000);
    }
    fail_msg("case %s was not matched within 10 s", case_id);
    return NULL;
}

/* The identity of the first person of the case, once matched. */
static void identity_of(int ag, const char *case_id, char *out)
{
    Ritra__Response *resp = await_matched(ag, case_id);

    assert_true(resp->case_matches->n_persons >= 1);
    snprintf(out, 40, "%s", resp->case_matches->persons[0]->identity_id);
    release(resp);
}

static void person_of(int ag, const char *case_id, char *out)
{
    Ritra__Response *resp = await_matched(ag, case_id);

    snprintf(out, 40, "%s", resp->case_matches->persons[0]->person_id);
    release(resp);
}

static Ritra__Response *list_matches(int ag, const char *status, const char *case_id)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__ListMatchesRequest m = RITRA__LIST_MATCHES_REQUEST__INIT;

    m.status = (char *)(status ? status : "");
    m.case_id = (char *)(case_id ? case_id : "");
    req.op_case = RITRA__REQUEST__OP_LIST_MATCHES;
    req.list_matches = &m;
    return call(ag, &req);
}

/* The candidate between the two cases in ag's list, or NULL. */
static const Ritra__MatchCandidate *candidate_between(const Ritra__Response *resp,
                                                      const char *case_a, const char *case_b)
{
    const Ritra__ListMatchesResult *l = resp->list_matches;

    for (size_t i = 0; i < l->n_candidates; i++) {
        const Ritra__MatchCandidate *m = l->candidates[i];

        if ((strcmp(m->own->case_id, case_a) == 0 && strcmp(m->other->case_id, case_b) == 0) ||
            (strcmp(m->own->case_id, case_b) == 0 && strcmp(m->other->case_id, case_a) == 0))
            return m;
    }
    return NULL;
}

static Ritra__Response *decide(int ag, const char *candidate, const char *decision,
                               const char *reason)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__DecideMatchRequest m = RITRA__DECIDE_MATCH_REQUEST__INIT;

    m.candidate_id = (char *)candidate;
    m.decision = (char *)decision;
    m.reason = (char *)reason;
    req.op_case = RITRA__REQUEST__OP_DECIDE_MATCH;
    req.decide_match = &m;
    return call(ag, &req);
}

static Ritra__Response *merge(int ag, const char *keep, const char *other)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__MergeIdentitiesRequest m = RITRA__MERGE_IDENTITIES_REQUEST__INIT;

    m.identity_id = (char *)keep;
    m.other_identity_id = (char *)other;
    m.reason = "Mismo registro civil según la Registraduría";
    req.op_case = RITRA__REQUEST__OP_MERGE_IDENTITIES;
    req.merge_identities = &m;
    return call(ag, &req);
}

static Ritra__Response *unmerge(int ag, const char *person)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__UnmergePersonRequest m = RITRA__UNMERGE_PERSON_REQUEST__INIT;

    m.person_id = (char *)person;
    m.reason = "Homónimo: otra persona según la cédula";
    req.op_case = RITRA__REQUEST__OP_UNMERGE_PERSON;
    req.unmerge_person = &m;
    return call(ag, &req);
}

static Ritra__Response *search_name(int ag, const char *name, const char *birth)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__SearchPersonsRequest s = RITRA__SEARCH_PERSONS_REQUEST__INIT;

    s.name = (char *)name;
    s.birth_date = (char *)(birth ? birth : "");
    req.op_case = RITRA__REQUEST__OP_SEARCH_PERSONS;
    req.search_persons = &s;
    return call(ag, &req);
}

static const Ritra__IdentityMatch *find_identity(const Ritra__Response *resp, const char *id)
{
    for (size_t i = 0; i < resp->search_persons->n_identities; i++)
        if (strcmp(resp->search_persons->identities[i]->identity_id, id) == 0)
            return resp->search_persons->identities[i];
    return NULL;
}

static const Ritra__PersonRecord *record_in_case(const Ritra__IdentityMatch *im,
                                                 const char *case_id)
{
    for (size_t i = 0; im != NULL && i < im->n_records; i++)
        if (strcmp(im->records[i]->case_id, case_id) == 0)
            return im->records[i];
    return NULL;
}

static void share(int owner, const char *case_id, const char *to, const char *level)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__ShareCaseRequest s = RITRA__SHARE_CASE_REQUEST__INIT;
    Ritra__RespondToShareRequest a = RITRA__RESPOND_TO_SHARE_REQUEST__INIT;
    Ritra__Response *resp;
    int to_ag = -1;
    char grant[40];

    for (int i = 0; i < N_AG; i++)
        if (strcmp(AG[i], to) == 0)
            to_ag = i;
    s.case_id = (char *)case_id;
    s.grantee_agency = (char *)to;
    s.grantee_kind = "";
    s.level = (char *)level;
    s.purpose = "Investigación conjunta";
    s.expires_at = "";
    req.op_case = RITRA__REQUEST__OP_SHARE_CASE;
    req.share_case = &s;
    resp = call(owner, &req);
    expect(resp, RITRA__STATUS_CODE__OK, "share");
    snprintf(grant, sizeof(grant), "%s", resp->share_case->grant->grant_id);
    release(resp);
    a.grant_id = grant;
    a.accept = 1;
    a.reason = "";
    memset(&req, 0, sizeof(req));
    ritra__request__init(&req);
    req.op_case = RITRA__REQUEST__OP_RESPOND_TO_SHARE;
    req.respond_to_share = &a;
    resp = call(to_ag, &req);
    expect(resp, RITRA__STATUS_CODE__OK, "accept");
    release(resp);
}

/* What only FGN's record of the shared victim carries. */
static const char *const FGN_ONLY[] = {"de la Cruz",        "Majo",
                                       "+573001234567",     "majo.munoz@example.org",
                                       "Carrera 7 # 12-45", "AB123456"};
#define N_FGN_ONLY (sizeof(FGN_ONLY) / sizeof(FGN_ONLY[0]))

static char FGN_VICTIM_CASE[40], PONAL_VICTIM_CASE[40];

/* FGN records the fixture's victim in full; PONAL records her as "Maria
 * Jose Munoz Cruz" with the same cédula written without dots. */
static void ensure_shared_victim(void)
{
    struct case_fixture f;
    struct one o;

    if (FGN_VICTIM_CASE[0])
        return;
    case_fixture_init(&f, "FGN-MATCH-0001", 0);
    f.c.n_persons = 1;
    submit(FGN, &f, FGN_VICTIM_CASE);
    one_init(&o, "PONAL-MATCH-0001", "Maria Jose", "Munoz", "Cruz", "1994-03-07", "1023456789");
    submit(PONAL, &o.f, PONAL_VICTIM_CASE);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_same_victim_from_two_agencies_is_linked_automatically(void **state)
{
    Ritra__Response *a, *b;

    (void)state;
    ensure_shared_victim();
    release(await_matched(FGN, FGN_VICTIM_CASE));
    b = await_matched(PONAL, PONAL_VICTIM_CASE);
    a = await_matched(FGN, FGN_VICTIM_CASE); /* after PONAL's joined it */
    assert_int_equal(a->case_matches->n_persons, 1);
    assert_int_equal(b->case_matches->n_persons, 1);
    assert_string_equal(a->case_matches->persons[0]->identity_id,
                        b->case_matches->persons[0]->identity_id);
    /* The later record joined the earlier one's identity. */
    assert_string_equal(a->case_matches->persons[0]->state, "LINKED");
    assert_string_equal(a->case_matches->persons[0]->linked_by, "new");
    assert_string_equal(b->case_matches->persons[0]->state, "LINKED");
    assert_string_equal(b->case_matches->persons[0]->linked_by, "auto");
    assert_true(b->case_matches->persons[0]->score >= 18.0);
    release(a);
    release(b);
}

static void test_related_cases_reach_each_agency_at_its_own_level(void **state)
{
    Ritra__Response *resp;
    const Ritra__RelatedCase *rc;

    (void)state;
    ensure_shared_victim();
    resp = await_matched(PONAL, PONAL_VICTIM_CASE);
    release(resp);
    /* PONAL cannot see FGN's case: a hit naming owner and contact. */
    resp = case_matches(PONAL, PONAL_VICTIM_CASE);
    expect(resp, RITRA__STATUS_CODE__OK, "case_matches");
    assert_int_equal(resp->case_matches->n_related, 1);
    rc = resp->case_matches->related[0];
    assert_string_equal(rc->person_ref, "V1");
    assert_string_equal(rc->case_->case_id, FGN_VICTIM_CASE);
    assert_string_equal(rc->case_->visibility, "HIT");
    assert_string_equal(rc->case_->owner_agency, "FGN");
    assert_string_equal(rc->case_->external_ref, "");
    assert_non_null(rc->hit);
    assert_string_equal(rc->hit->owner_agency, "FGN");
    assert_no_leak(resp, FGN_ONLY, N_FGN_ONLY, "PONAL related");
    assert_false(reply_has(resp, "FGN-MATCH-0001"));
    release(resp);
    /* FGN sees PONAL's case as a hit too. */
    resp = case_matches(FGN, FGN_VICTIM_CASE);
    expect(resp, RITRA__STATUS_CODE__OK, "case_matches");
    assert_int_equal(resp->case_matches->n_related, 1);
    assert_string_equal(resp->case_matches->related[0]->case_->case_id, PONAL_VICTIM_CASE);
    assert_string_equal(resp->case_matches->related[0]->case_->visibility, "HIT");
    release(resp);
    /* An agency that cannot see the case gets nothing about its persons. */
    resp = case_matches(ICBF, FGN_VICTIM_CASE);
    expect(resp, RITRA__STATUS_CODE__NOT_FOUND, "ICBF case_matches");
    release(resp);
}

static void test_police_search_finds_a_hit_without_content(void **state)
{
    Ritra__Response *resp;
    const Ritra__IdentityMatch *im;
    const Ritra__PersonRecord *own, *other;
    char identity[40];

    (void)state;
    ensure_shared_victim();
    identity_of(FGN, FGN_VICTIM_CASE, identity);
    resp = search_name(PONAL, "María José Muñoz de la Cruz", "1994-03-07");
    expect(resp, RITRA__STATUS_CODE__OK, "search");
    im = find_identity(resp, identity);
    assert_non_null(im);
    own = record_in_case(im, PONAL_VICTIM_CASE);
    other = record_in_case(im, FGN_VICTIM_CASE);
    assert_non_null(own);
    assert_non_null(other);
    assert_string_equal(own->visibility, "FULL");
    assert_string_equal(own->person->first_surname, "Munoz");
    assert_string_equal(other->visibility, "HIT");
    assert_null(other->person);
    assert_string_equal(other->person_id, "");
    assert_non_null(other->hit);
    assert_string_equal(other->hit->owner_agency, "FGN");
    assert_non_null(strstr(other->hit->reason, "birth_date"));
    /* PONAL's own record is identified: the explanation is detailed. */
    assert_true(im->score >= 18.0);
    assert_string_equal(im->match_class, "MATCH");
    assert_true(im->n_explanation >= 3);
    assert_no_leak(resp, FGN_ONLY, N_FGN_ONLY, "PONAL search");
    release(resp);
}

static void test_search_gives_nothing_to_agencies_without_hits(void **state)
{
    static const char *const names[] = {"Muñoz", "Munoz", "1994-03-07", "1023456789", "de la Cruz"};
    const int agencies[] = {ICBF, PGN, MININTERIOR, MIGRACION};
    char identity[40];

    (void)state;
    ensure_shared_victim();
    identity_of(FGN, FGN_VICTIM_CASE, identity);
    for (size_t i = 0; i < sizeof(agencies) / sizeof(agencies[0]); i++) {
        Ritra__Response *resp =
            search_name(agencies[i], "María José Muñoz de la Cruz", "1994-03-07");

        expect(resp, RITRA__STATUS_CODE__OK, AG[agencies[i]]);
        assert_null(find_identity(resp, identity));
        assert_string_equal(resp->search_persons->next_page_token, "");
        assert_no_leak(resp, names, sizeof(names) / sizeof(names[0]), AG[agencies[i]]);
        release(resp);
    }
}

static void test_full_share_with_consent_shows_the_record_and_explains(void **state)
{
    struct case_fixture f;
    char case_id[40], identity[40];
    Ritra__Response *resp;
    const Ritra__IdentityMatch *im;
    const Ritra__PersonRecord *rec;
    struct one o;
    char icbf_case[40];

    (void)state;
    /* A suspect recorded by FGN and by ICBF; FGN shares its case FULL. */
    case_fixture_init(&f, "FGN-MATCH-SHARE", 0);
    f.c.n_persons = 1;
    f.persons[0] = &f.suspect;
    f.suspect.prs_firstname = "Wilmer Alonso";
    f.suspect.first_surname = "Zuleta";
    f.suspect.second_surname = "Arboleda";
    f.suspect.prs_birthdate = "1979-11-02";
    submit(FGN, &f, case_id);
    one_init(&o, "ICBF-MATCH-SHARE", "Wilmer", "Zuleta", "Arboleda", "1979-11-02", NULL);
    o.f.victim.role = "Suspect";
    o.f.victim.sex = "Male";
    o.f.victim.n_prs_citizenship = 0;
    o.f.victim.victim = NULL;
    o.f.victim.perpetrator = &o.f.pctx;
    submit(ICBF, &o.f, icbf_case);
    identity_of(FGN, case_id, identity);
    {
        char theirs[40];

        identity_of(ICBF, icbf_case, theirs);
        assert_string_equal(identity, theirs);
    }
    /* Before the share: ICBF finds only its own record. */
    resp = search_name(ICBF, "Wilmer Zuleta Arboleda", "1979-11-02");
    expect(resp, RITRA__STATUS_CODE__OK, "search");
    im = find_identity(resp, identity);
    assert_non_null(im);
    assert_null(record_in_case(im, case_id));
    assert_non_null(record_in_case(im, icbf_case));
    release(resp);
    share(FGN, case_id, "ICBF", "FULL");
    resp = search_name(ICBF, "Wilmer Zuleta Arboleda", "1979-11-02");
    expect(resp, RITRA__STATUS_CODE__OK, "search");
    im = find_identity(resp, identity);
    assert_non_null(im);
    rec = record_in_case(im, case_id);
    assert_non_null(rec);
    assert_string_equal(rec->visibility, "FULL");
    assert_string_equal(rec->role, "Suspect");
    assert_string_equal(rec->person->prs_firstname, "Wilmer Alonso");
    assert_true(im->score > 18.0);
    release(resp);
}

static void test_victim_without_consent_is_not_searchable_by_full_recipient(void **state)
{
    struct one o;
    char case_id[40];
    Ritra__Response *resp;
    static const char *const hidden[] = {"Yurani", "Quejada", "Mosquera"};

    (void)state;
    one_init(&o, "FGN-MATCH-NOCONSENT", "Yurani", "Quejada", "Mosquera", "2001-08-19", NULL);
    o.f.consent.con_consent = 0;
    o.f.consent.n_scope = 0;
    o.f.consent.date = "";
    submit(FGN, &o.f, case_id);
    release(await_matched(FGN, case_id));
    share(FGN, case_id, "ICBF", "FULL");
    /* ICBF holds FULL but the victim did not consent: her names are not
     * shown, so a search on them must not find her either. */
    resp = search_name(ICBF, "Yurani Quejada Mosquera", "2001-08-19");
    expect(resp, RITRA__STATUS_CODE__OK, "search");
    assert_int_equal(resp->search_persons->n_identities, 0);
    assert_no_leak(resp, hidden, 3, "ICBF search");
    release(resp);
    /* The police get the hit (the hit/no-hit rule). */
    resp = search_name(PONAL, "Yurani Quejada Mosquera", "2001-08-19");
    expect(resp, RITRA__STATUS_CODE__OK, "search");
    assert_int_equal(resp->search_persons->n_identities, 1);
    assert_string_equal(resp->search_persons->identities[0]->records[0]->visibility, "HIT");
    assert_no_leak(resp, hidden, 3, "PONAL search");
    release(resp);
}

static void test_h3_case_gives_no_hit_unless_its_owner_allows(void **state)
{
    struct one o;
    char case_id[40], allowed_id[40];
    Ritra__Response *resp;

    (void)state;
    one_init(&o, "FGN-MATCH-H3", "Luz Dary", "Cardona", "Restrepo", "1990-02-14", NULL);
    o.f.c.handling_code = "H3";
    o.f.c.handling_conditions = "Reserva sumarial";
    submit(FGN, &o.f, case_id);
    release(await_matched(FGN, case_id));
    resp = search_name(PONAL, "Luz Dary Cardona Restrepo", "1990-02-14");
    expect(resp, RITRA__STATUS_CODE__OK, "search");
    assert_int_equal(resp->search_persons->n_identities, 0);
    release(resp);
    one_init(&o, "FGN-MATCH-H3-HITS", "Ximena", "Bedoya", "Salcedo", "1988-06-30", NULL);
    o.f.c.handling_code = "H3";
    o.f.c.handling_conditions = "Reserva sumarial";
    o.f.c.h3_allow_hits = 1;
    submit(FGN, &o.f, allowed_id);
    release(await_matched(FGN, allowed_id));
    resp = search_name(PONAL, "Jimena Vedoya Salcedo", "1988-06-30");
    expect(resp, RITRA__STATUS_CODE__OK, "search");
    assert_int_equal(resp->search_persons->n_identities, 1);
    assert_string_equal(resp->search_persons->identities[0]->records[0]->case_id, allowed_id);
    assert_string_equal(resp->search_persons->identities[0]->records[0]->visibility, "HIT");
    assert_false(reply_has(resp, "Ximena"));
    release(resp);
}

/* FGN: Juan Carlos Pérez Gómez, 1980-05-10. MIGRACION: Juan Pérez Gómez,
 * born 1980 (year only): a possible match for review, not a link. Each
 * test has a pair of its own. */
struct pair_names {
    const char *given, *given_short, *first, *second, *birth, *year;
};

static const struct pair_names PAIRS[] = {
    {"Juan Carlos", "Juan", "Pérez", "Gómez", "1980-05-10", "1980"},
    {"Luis Fernando", "Luis", "Rojas", "Medina", "1975-09-21", "1975"},
    {"Carlos Andrés", "Carlos", "Vélez", "Torres", "1983-12-04", "1983"},
};

static void possible_pair(const char *suffix, char *fgn_case, char *mig_case)
{
    const struct pair_names *pn = &PAIRS[*suffix == 'A' ? 0 : *suffix == 'R' ? 1 : 2];
    struct one a, b;
    char ref[64];

    snprintf(ref, sizeof(ref), "FGN-MATCH-POSS-%s", suffix);
    one_init(&a, ref, pn->given, pn->first, pn->second, pn->birth, NULL);
    submit(FGN, &a.f, fgn_case);
    snprintf(ref, sizeof(ref), "MIG-MATCH-POSS-%s", suffix);
    one_init(&b, ref, pn->given_short, pn->first, pn->second, pn->year, NULL);
    submit(MIGRACION, &b.f, mig_case);
    release(await_matched(FGN, fgn_case));
    release(await_matched(MIGRACION, mig_case));
}

static void test_possible_match_waits_for_review_on_both_sides(void **state)
{
    char fgn_case[40], mig_case[40], a[40], b[40];
    Ritra__Response *fl, *ml;
    const Ritra__MatchCandidate *fm, *mm;

    (void)state;
    possible_pair("A", fgn_case, mig_case);
    identity_of(FGN, fgn_case, a);
    identity_of(MIGRACION, mig_case, b);
    assert_string_not_equal(a, b);
    fl = list_matches(FGN, "PENDING", fgn_case);
    expect(fl, RITRA__STATUS_CODE__OK, "FGN list");
    fm = candidate_between(fl, fgn_case, mig_case);
    assert_non_null(fm);
    assert_string_equal(fm->status, "PENDING");
    assert_string_equal(fm->own->case_id, fgn_case);
    assert_string_equal(fm->own->visibility, "FULL");
    assert_string_equal(fm->own->person->prs_firstname, "Juan Carlos");
    /* MIGRACION's case is a hit for FGN: no person, reason only. */
    assert_string_equal(fm->other->visibility, "HIT");
    assert_null(fm->other->person);
    assert_true(fm->score == 0);
    for (size_t i = 0; i < fm->n_explanation; i++) {
        assert_string_equal(fm->explanation[i]->level, "");
        assert_true(fm->explanation[i]->weight == 0);
    }
    ml = list_matches(MIGRACION, "PENDING", mig_case);
    expect(ml, RITRA__STATUS_CODE__OK, "MIG list");
    mm = candidate_between(ml, fgn_case, mig_case);
    assert_non_null(mm);
    assert_string_equal(mm->candidate_id, fm->candidate_id);
    assert_string_equal(mm->other->visibility, "HIT");
    assert_false(reply_has(ml, "Juan Carlos"));
    assert_false(reply_has(ml, "1980-05-10"));
    /* Nobody else sees the candidate. */
    release(fl);
    fl = list_matches(PONAL, "ALL", NULL);
    expect(fl, RITRA__STATUS_CODE__OK, "PONAL list");
    assert_null(candidate_between(fl, fgn_case, mig_case));
    release(fl);
    release(ml);
}

static void test_reject_is_remembered_across_resubmission(void **state)
{
    char fgn_case[40], mig_case[40], cand[40], a[40], b[40];
    Ritra__Response *l, *d;
    struct one again;

    (void)state;
    possible_pair("R", fgn_case, mig_case);
    l = list_matches(FGN, "PENDING", fgn_case);
    assert_non_null(candidate_between(l, fgn_case, mig_case));
    snprintf(cand, sizeof(cand), "%s", candidate_between(l, fgn_case, mig_case)->candidate_id);
    release(l);
    d = decide(FGN, cand, "REJECT", "Distinta madre según el registro civil");
    expect(d, RITRA__STATUS_CODE__OK, "reject");
    assert_string_equal(d->decide_match->status, "REJECTED");
    release(d);
    /* Rejecting twice is refused. */
    d = decide(MIGRACION, cand, "REJECT", "Otra persona");
    expect(d, RITRA__STATUS_CODE__FAILED_PRECONDITION, "reject again");
    release(d);
    /* MIGRACION now records the full birth date: the pair would link... */
    one_init(&again, "MIG-MATCH-POSS-R", PAIRS[1].given, PAIRS[1].first, PAIRS[1].second,
             PAIRS[1].birth, NULL);
    submit(MIGRACION, &again.f, NULL);
    usleep(300 * 1000);
    release(await_matched(MIGRACION, mig_case));
    /* ...but the rejection holds: still apart, still REJECTED, no new pending. */
    identity_of(FGN, fgn_case, a);
    identity_of(MIGRACION, mig_case, b);
    assert_string_not_equal(a, b);
    l = list_matches(MIGRACION, "ALL", mig_case);
    assert_non_null(candidate_between(l, fgn_case, mig_case));
    assert_string_equal(candidate_between(l, fgn_case, mig_case)->status, "REJECTED");
    assert_string_equal(candidate_between(l, fgn_case, mig_case)->decided_by, "FGN");
    assert_string_equal(candidate_between(l, fgn_case, mig_case)->reason,
                        "Distinta madre según el registro civil");
    release(l);
    /* A reviewer may re-decide: confirming the rejected pair joins them. */
    d = decide(MIGRACION, cand, "CONFIRM", "Nueva prueba: misma huella dactilar");
    expect(d, RITRA__STATUS_CODE__OK, "re-decide");
    assert_string_equal(d->decide_match->status, "CONFIRMED");
    release(d);
    identity_of(FGN, fgn_case, a);
    identity_of(MIGRACION, mig_case, b);
    assert_string_equal(a, b);
}

static void test_confirm_links_then_unmerge_splits_and_blocks_merge(void **state)
{
    char fgn_case[40], mig_case[40], cand[40], a[40], b[40], person[40];
    Ritra__Response *l, *d;

    (void)state;
    possible_pair("C", fgn_case, mig_case);
    l = list_matches(MIGRACION, "PENDING", mig_case);
    assert_non_null(candidate_between(l, fgn_case, mig_case));
    snprintf(cand, sizeof(cand), "%s", candidate_between(l, fgn_case, mig_case)->candidate_id);
    release(l);
    d = decide(MIGRACION, cand, "CONFIRM", "Misma huella dactilar");
    expect(d, RITRA__STATUS_CODE__OK, "confirm");
    assert_string_equal(d->decide_match->status, "CONFIRMED");
    release(d);
    identity_of(FGN, fgn_case, a);
    identity_of(MIGRACION, mig_case, b);
    assert_string_equal(a, b);
    /* Unmerge: only the record's owner may. */
    person_of(MIGRACION, mig_case, person);
    d = unmerge(FGN, person);
    expect(d, RITRA__STATUS_CODE__NOT_FOUND, "unmerge by another agency");
    release(d);
    d = unmerge(MIGRACION, person);
    expect(d, RITRA__STATUS_CODE__OK, "unmerge");
    assert_string_equal(d->unmerge_person->previous_identity_id, a);
    snprintf(b, sizeof(b), "%s", d->unmerge_person->identity_id);
    release(d);
    assert_string_not_equal(a, b);
    identity_of(MIGRACION, mig_case, person);
    assert_string_equal(person, b);
    l = await_matched(MIGRACION, mig_case);
    assert_string_equal(l->case_matches->persons[0]->state, "NEW");
    assert_string_equal(l->case_matches->persons[0]->linked_by, "unmerge");
    release(l);
    /* Alone now: a second unmerge has nothing to split. */
    person_of(MIGRACION, mig_case, person);
    d = unmerge(MIGRACION, person);
    expect(d, RITRA__STATUS_CODE__FAILED_PRECONDITION, "unmerge alone");
    release(d);
    /* An unmerge can be undone by merging back. */
    d = merge(MIGRACION, b, a);
    expect(d, RITRA__STATUS_CODE__OK, "merge back");
    assert_int_equal(d->merge_identities->records_moved, 1);
    release(d);
    identity_of(FGN, fgn_case, a);
    assert_string_equal(a, b);
    /* A rejection between the two identities blocks a merge: reject the
     * pair after an unmerge, then try to merge. */
    d = unmerge(MIGRACION, person);
    expect(d, RITRA__STATUS_CODE__OK, "unmerge again");
    snprintf(b, sizeof(b), "%s", d->unmerge_person->identity_id);
    release(d);
    d = decide(FGN, cand, "REJECT", "Otra persona después de todo");
    expect(d, RITRA__STATUS_CODE__OK, "reject a confirmed pair that was separated");
    release(d);
    d = merge(MIGRACION, b, a);
    expect(d, RITRA__STATUS_CODE__FAILED_PRECONDITION, "merge across a rejection");
    release(d);
}

static void test_merge_identities_moves_records(void **state)
{
    struct one x, y;
    char cx[40], cy[40], ix[40], iy[40];
    Ritra__Response *d;

    (void)state;
    /* Two records the matcher cannot join: different names entirely. */
    one_init(&x, "FGN-MATCH-MERGE", "Sandra Milena", "Ospina", "Londoño", "1985-01-20", NULL);
    submit(FGN, &x.f, cx);
    one_init(&y, "PONAL-MATCH-MERGE", "Sandra", "Ramírez", "", "1985-01-20", NULL);
    submit(PONAL, &y.f, cy);
    identity_of(FGN, cx, ix);
    identity_of(PONAL, cy, iy);
    assert_string_not_equal(ix, iy);
    d = merge(PGN, ix, iy);
    expect(d, RITRA__STATUS_CODE__NOT_FOUND, "auditor merges");
    release(d);
    d = merge(PONAL, iy, iy);
    expect(d, RITRA__STATUS_CODE__INVALID_ARGUMENT, "merge with itself");
    release(d);
    d = merge(PONAL, iy, ix);
    expect(d, RITRA__STATUS_CODE__OK, "merge");
    assert_int_equal(d->merge_identities->records_moved, 1);
    release(d);
    identity_of(FGN, cx, ix);
    assert_string_equal(ix, iy);
}

static void test_list_matches_pages_follow_their_tokens(void **state)
{
    Ritra__Response *all = list_matches(FGN, "ALL", NULL), *page;
    char token[160] = "", seen[64][40];
    size_t n_seen = 0, total;

    (void)state;
    expect(all, RITRA__STATUS_CODE__OK, "list all");
    total = all->list_matches->n_candidates;
    assert_true(total >= 2); /* the review tests above left some */
    for (int pages = 0; pages < 64; pages++) {
        Ritra__Request req = RITRA__REQUEST__INIT;
        Ritra__ListMatchesRequest m = RITRA__LIST_MATCHES_REQUEST__INIT;

        m.status = "ALL";
        m.case_id = "";
        m.page_size = 1;
        m.page_token = token;
        req.op_case = RITRA__REQUEST__OP_LIST_MATCHES;
        req.list_matches = &m;
        page = call(FGN, &req);
        expect(page, RITRA__STATUS_CODE__OK, "page");
        assert_true(page->list_matches->n_candidates <= 1);
        if (page->list_matches->n_candidates == 1) {
            const char *id = page->list_matches->candidates[0]->candidate_id;

            for (size_t i = 0; i < n_seen; i++)
                assert_string_not_equal(seen[i], id);
            assert_string_equal(id, all->list_matches->candidates[n_seen]->candidate_id);
            snprintf(seen[n_seen++], 40, "%s", id);
        }
        snprintf(token, sizeof(token), "%s", page->list_matches->next_page_token);
        release(page);
        if (token[0] == '\0')
            break;
    }
    assert_int_equal(n_seen, total);
    release(all);
}

static void test_search_cases_filters_by_event_and_exploitation(void **state)
{
    struct case_fixture f;
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__SearchCasesRequest s = RITRA__SEARCH_CASES_REQUEST__INIT;
    Ritra__Response *resp;
    char id[40];
    bool found = false;

    (void)state;
    case_fixture_init(&f, "FGN-SEARCH-CASES", 0);
    submit(FGN, &f, id);
    s.country = f.ev[0].hte_country;
    s.city = f.ev[0].hte_city;
    req.op_case = RITRA__REQUEST__OP_SEARCH_CASES;
    req.search_cases = &s;
    resp = call(FGN, &req);
    expect(resp, RITRA__STATUS_CODE__OK, "search cases");
    for (size_t i = 0; i < resp->search_cases->n_cases; i++)
        found |= strcmp(resp->search_cases->cases[i]->case_id, id) == 0;
    assert_true(found);
    release(resp);
    /* Another agency does not find FGN's case through its events. */
    resp = call(ICBF, &req);
    expect(resp, RITRA__STATUS_CODE__OK, "ICBF search cases");
    for (size_t i = 0; i < resp->search_cases->n_cases; i++)
        assert_string_not_equal(resp->search_cases->cases[i]->case_id, id);
    release(resp);
    /* No event in that country: not found. */
    s.country = "JP";
    resp = call(FGN, &req);
    expect(resp, RITRA__STATUS_CODE__OK, "search cases JP");
    for (size_t i = 0; i < resp->search_cases->n_cases; i++)
        assert_string_not_equal(resp->search_cases->cases[i]->case_id, id);
    release(resp);
    /* Dates: events before 1950 do not exist. */
    s.country = "";
    s.date_to = "1950-01-01";
    resp = call(FGN, &req);
    expect(resp, RITRA__STATUS_CODE__OK, "search cases dates");
    assert_int_equal(resp->search_cases->n_cases, 0);
    release(resp);
}

static void test_malformed_requests_name_the_field(void **state)
{
    static const struct {
        const char *path;
        const char *name, *birth, *doc, *role;
    } bad[] = {
        {"search_persons", "", "", "", ""},
        {"search_persons.birth_date", "Ana Ruiz", "1994-13-01", "", ""},
        {"search_persons.birth_date", "Ana Ruiz", "2999", "", ""},
        {"search_persons.role[0]", "Ana Ruiz", "", "", "Victima"},
        {"search_persons.name", "Ana\x01Ruiz", "", "", ""},
    };
    Ritra__Response *resp;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        Ritra__Request req = RITRA__REQUEST__INIT;
        Ritra__SearchPersonsRequest s = RITRA__SEARCH_PERSONS_REQUEST__INIT;
        char *roles[1] = {(char *)bad[i].role};

        s.name = (char *)bad[i].name;
        s.birth_date = (char *)bad[i].birth;
        s.document_number = (char *)bad[i].doc;
        if (*bad[i].role) {
            s.role = roles;
            s.n_role = 1;
        }
        req.op_case = RITRA__REQUEST__OP_SEARCH_PERSONS;
        req.search_persons = &s;
        resp = call(PONAL, &req);
        expect(resp, RITRA__STATUS_CODE__INVALID_ARGUMENT, bad[i].path);
        assert_true(resp->status->n_details >= 1);
        assert_string_equal(resp->status->details[0]->path, bad[i].path);
        release(resp);
    }
    resp = decide(FGN, "not-a-uuid", "MAYBE", "");
    expect(resp, RITRA__STATUS_CODE__INVALID_ARGUMENT, "decide");
    assert_int_equal(resp->status->n_details, 3);
    release(resp);
    resp = decide(FGN, "00000000-0000-4000-8000-000000000000", "CONFIRM", "porque sí");
    expect(resp, RITRA__STATUS_CODE__NOT_FOUND, "unknown candidate");
    release(resp);
    resp = unmerge(FGN, "00000000-0000-4000-8000-000000000000");
    expect(resp, RITRA__STATUS_CODE__NOT_FOUND, "unknown person");
    release(resp);
    resp = list_matches(FGN, "SOMETIMES", NULL);
    expect(resp, RITRA__STATUS_CODE__INVALID_ARGUMENT, "list status");
    assert_string_equal(resp->status->details[0]->path, "list_matches.status");
    release(resp);
    resp = case_matches(FGN, "x");
    expect(resp, RITRA__STATUS_CODE__INVALID_ARGUMENT, "case_matches id");
    release(resp);
}

static int setup(void **state)
{
    struct ritra_error err;

    (void)state;
    if (harness_start(&H, "match_interval = 100ms\n") < 0)
        return -1;
    for (int a = 0; a < N_AG; a++) {
        C[a] = harness_connect(&H, AG[a], &err);
        if (C[a] == NULL) {
            fprintf(stderr, "setup: cannot connect as %s: %s\n", AG[a], err.message);
            harness_stop(&H);
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
        cmocka_unit_test(test_same_victim_from_two_agencies_is_linked_automatically),
        cmocka_unit_test(test_related_cases_reach_each_agency_at_its_own_level),
        cmocka_unit_test(test_police_search_finds_a_hit_without_content),
        cmocka_unit_test(test_search_gives_nothing_to_agencies_without_hits),
        cmocka_unit_test(test_full_share_with_consent_shows_the_record_and_explains),
        cmocka_unit_test(test_victim_without_consent_is_not_searchable_by_full_recipient),
        cmocka_unit_test(test_h3_case_gives_no_hit_unless_its_owner_allows),
        cmocka_unit_test(test_possible_match_waits_for_review_on_both_sides),
        cmocka_unit_test(test_reject_is_remembered_across_resubmission),
        cmocka_unit_test(test_confirm_links_then_unmerge_splits_and_blocks_merge),
        cmocka_unit_test(test_merge_identities_moves_records),
        cmocka_unit_test(test_list_matches_pages_follow_their_tokens),
        cmocka_unit_test(test_search_cases_filters_by_event_and_exploitation),
        cmocka_unit_test(test_malformed_requests_name_the_field),
    };

    return cmocka_run_group_tests_name("integration-matching", tests, setup, teardown);
}
