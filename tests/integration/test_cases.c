/*
 * Cases end to end through libritra, the real server and PostgreSQL:
 * every field round-trips, resubmission is idempotent, versions guard
 * concurrent updates, batches keep bad items to themselves, reads, lists,
 * closing, and a table of invalid inputs with their exact field paths.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "case_fixture.h"
#include "harness.h"

static struct harness H;
static struct ritra_conn *FGN;

static int setup(void **state)
{
    struct ritra_error err;

    (void)state;
    if (harness_start(&H, NULL) < 0)
        return -1;
    FGN = harness_connect(&H, "FGN", &err);
    return FGN ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ritra_close(FGN);
    harness_stop(&H);
    return 0;
}

static Ritra__Response *call(struct ritra_conn *c, const Ritra__Request *req)
{
    Ritra__Response *resp = NULL;
    struct ritra_error err;

    if (ritra_call(c, req, &resp, &err) < 0)
        fail_msg("call failed: %s %s", ritra_status_name(err.code), err.message);
    return resp;
}

static Ritra__Response *submit(struct ritra_conn *c, struct case_fixture *f, int64_t expected)
{
    Ritra__Request req;
    Ritra__SubmitCaseRequest sub;

    case_fixture_request(f, &req, &sub, expected);
    return call(c, &req);
}

static Ritra__Response *get_by_id(struct ritra_conn *c, const char *id)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__GetCaseRequest get = RITRA__GET_CASE_REQUEST__INIT;

    get.case_id = (char *)id;
    req.op_case = RITRA__REQUEST__OP_GET_CASE;
    req.get_case = &get;
    return call(c, &req);
}

static void assert_ok(const Ritra__Response *resp)
{
    assert_non_null(resp);
    if (resp->status->code != RITRA__STATUS_CODE__OK)
        fail_msg("status %d: %s (%s)", resp->status->code, resp->status->message,
                 resp->status->n_details ? resp->status->details[0]->path : "");
}

/* c packed into *out (free()); its length. */
static size_t pack_case(const Ritra__Case *c, uint8_t **out)
{
    size_t n = ritra__case__get_packed_size(c);

    *out = malloc(n + 1);
    assert_non_null(*out);
    assert_int_equal(ritra__case__pack(c, *out), n);
    return n;
}

/* The same without the server-managed fields: what the owner submitted. */
static size_t pack_content(const Ritra__Case *c, uint8_t **out)
{
    Ritra__Case copy = *c;

    copy.case_id = copy.owner_agency = copy.created_at = copy.updated_at = "";
    copy.version = 0;
    return pack_case(&copy, out);
}

static void test_every_field_round_trips_through_postgres(void **state)
{
    struct case_fixture f;
    Ritra__Response *resp, *got;
    uint8_t *a, *b;
    size_t na, nb;

    (void)state;
    case_fixture_init(&f, "FGN-2024-0001", 0);
    resp = submit(FGN, &f, 0);
    assert_ok(resp);
    assert_true(resp->submit_case->created);
    assert_true(resp->submit_case->changed);
    assert_int_equal(resp->submit_case->version, 1);
    assert_int_equal(strlen(resp->submit_case->case_id), 36);

    got = get_by_id(FGN, resp->submit_case->case_id);
    assert_ok(got);
    assert_string_equal(got->get_case->case_->case_id, resp->submit_case->case_id);
    assert_string_equal(got->get_case->case_->owner_agency, "FGN");
    assert_int_equal(got->get_case->case_->version, 1);
    assert_true(strlen(got->get_case->case_->created_at) >= 20);
    assert_string_equal(got->get_case->case_->persons[0]->second_surname, "de la Cruz");
    na = pack_content(&f.c, &a);
    nb = pack_content(got->get_case->case_, &b);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    free(a);
    free(b);
    ritra__response__free_unpacked(got, NULL);
    ritra__response__free_unpacked(resp, NULL);
}

static void test_get_by_external_ref_and_not_found(void **state)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__GetCaseRequest get = RITRA__GET_CASE_REQUEST__INIT;
    Ritra__Response *resp;
    struct ritra_error err;
    struct ritra_conn *ponal = harness_connect(&H, "PONAL", &err);

    (void)state;
    assert_non_null(ponal);
    get.external_ref = "FGN-2024-0001";
    req.op_case = RITRA__REQUEST__OP_GET_CASE;
    req.get_case = &get;
    resp = call(FGN, &req);
    assert_ok(resp);
    assert_string_equal(resp->get_case->case_->external_ref, "FGN-2024-0001");
    /* Another agency's external_ref namespace is its own. */
    ritra__response__free_unpacked(call(ponal, &req), NULL);
    {
        Ritra__Response *other = call(ponal, &req);
        assert_int_equal(other->status->code, RITRA__STATUS_CODE__NOT_FOUND);
        ritra__response__free_unpacked(other, NULL);
        /* And its case ids are not readable without a grant. */
        other = get_by_id(ponal, resp->get_case->case_->case_id);
        assert_int_equal(other->status->code, RITRA__STATUS_CODE__NOT_FOUND);
        ritra__response__free_unpacked(other, NULL);
    }
    ritra__response__free_unpacked(resp, NULL);
    ritra_close(ponal);
}

static void test_identical_resubmission_is_a_noop_and_changes_bump_version(void **state)
{
    struct case_fixture f;
    Ritra__Response *r1, *r2, *r3;

    (void)state;
    case_fixture_init(&f, "FGN-2024-0002", 0);
    r1 = submit(FGN, &f, 0);
    assert_ok(r1);
    r2 = submit(FGN, &f, 0);
    assert_ok(r2);
    assert_false(r2->submit_case->changed);
    assert_false(r2->submit_case->created);
    assert_int_equal(r2->submit_case->version, 1);
    assert_string_equal(r2->submit_case->case_id, r1->submit_case->case_id);
    case_fixture_init(&f, "FGN-2024-0002", 1);
    r3 = submit(FGN, &f, 1);
    assert_ok(r3);
    assert_true(r3->submit_case->changed);
    assert_int_equal(r3->submit_case->version, 2);
    assert_string_equal(r3->submit_case->case_id, r1->submit_case->case_id);
    ritra__response__free_unpacked(r1, NULL);
    ritra__response__free_unpacked(r2, NULL);
    ritra__response__free_unpacked(r3, NULL);
}

static void test_stale_expected_version_fails_with_current_version(void **state)
{
    struct case_fixture f;
    Ritra__Response *resp;

    (void)state;
    case_fixture_init(&f, "FGN-2024-0002", 7);
    resp = submit(FGN, &f, 1);
    assert_int_equal(resp->status->code, RITRA__STATUS_CODE__FAILED_PRECONDITION);
    assert_non_null(strstr(resp->status->message, "current version is 2"));
    assert_string_equal(resp->status->details[0]->path, "submit_case.expected_version");
    ritra__response__free_unpacked(resp, NULL);
    /* expected_version on a case that does not exist yet */
    case_fixture_init(&f, "FGN-2024-NEW", 0);
    resp = submit(FGN, &f, 3);
    assert_int_equal(resp->status->code, RITRA__STATUS_CODE__FAILED_PRECONDITION);
    assert_non_null(strstr(resp->status->message, "current version is 0"));
    ritra__response__free_unpacked(resp, NULL);
}

struct racer {
    struct ritra_conn *conn;
    pthread_barrier_t *go;
    const char *ref;
    int variant;
    int code;
    int64_t version;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    struct case_fixture f;
    Ritra__Request req;
    Ritra__SubmitCaseRequest sub;
    Ritra__Response *resp = NULL;
    struct ritra_error err;

    case_fixture_init(&f, r->ref, r->variant);
    case_fixture_request(&f, &req, &sub, 1);
    pthread_barrier_wait(r->go);
    if (ritra_call(r->conn, &req, &resp, &err) == 0) {
        r->code = resp->status->code;
        r->version = resp->status->code == RITRA__STATUS_CODE__OK ? resp->submit_case->version : 0;
        ritra__response__free_unpacked(resp, NULL);
    }
    return NULL;
}

static void test_concurrent_updates_one_wins_other_gets_precondition(void **state)
{
    struct ritra_error err;
    struct ritra_conn *conns[2];

    (void)state;
    for (int i = 0; i < 2; i++) {
        conns[i] = harness_connect(&H, "FGN", &err);
        assert_non_null(conns[i]);
    }
    for (int round = 0; round < 10; round++) {
        struct case_fixture f;
        pthread_barrier_t go;
        pthread_t t[2];
        struct racer r[2];
        char ref[32];
        Ritra__Response *resp;
        int ok = 0, lost = 0;

        snprintf(ref, sizeof(ref), "FGN-RACE-%d", round);
        case_fixture_init(&f, ref, 0);
        resp = submit(FGN, &f, 0);
        assert_ok(resp);
        ritra__response__free_unpacked(resp, NULL);
        /* Both racers hold version 1 and change different things. */
        pthread_barrier_init(&go, NULL, 2);
        for (int i = 0; i < 2; i++) {
            r[i].conn = conns[i];
            r[i].go = &go;
            r[i].ref = ref;
            r[i].variant = 100 + i;
            r[i].code = -1;
            r[i].version = 0;
            pthread_create(&t[i], NULL, race, &r[i]);
        }
        for (int i = 0; i < 2; i++) {
            pthread_join(t[i], NULL);
            ok += r[i].code == RITRA__STATUS_CODE__OK;
            lost += r[i].code == RITRA__STATUS_CODE__FAILED_PRECONDITION;
        }
        pthread_barrier_destroy(&go);
        assert_int_equal(ok, 1);
        assert_int_equal(lost, 1);
        assert_int_equal(r[0].version + r[1].version, 2);
    }
    for (int i = 0; i < 2; i++)
        ritra_close(conns[i]);
}

static void test_batch_keeps_bad_items_to_themselves(void **state)
{
    struct case_fixture f[5];
    Ritra__SubmitCaseRequest items[5], *ptrs[5];
    Ritra__SubmitCasesRequest batch = RITRA__SUBMIT_CASES_REQUEST__INIT;
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__Response *resp;
    char bad_utf8[] = {'M', 'a', (char)0xff, 'a', 0};

    (void)state;
    for (int i = 0; i < 5; i++) {
        char ref[32];
        snprintf(ref, sizeof(ref), "FGN-BATCH-%d", i);
        case_fixture_init(&f[i], ref, i);
        ritra__submit_case_request__init(&items[i]);
        items[i].case_ = &f[i].c;
        ptrs[i] = &items[i];
    }
    f[1].victim.prs_birthdate = "2094-01-01";
    f[3].suspect.prs_firstname = bad_utf8;
    items[4].expected_version = 5;
    batch.n_items = 5;
    batch.items = ptrs;
    req.op_case = RITRA__REQUEST__OP_SUBMIT_CASES;
    req.submit_cases = &batch;
    resp = call(FGN, &req);
    assert_ok(resp);
    assert_int_equal(resp->submit_cases->n_items, 5);
    assert_int_equal(resp->submit_cases->items[0]->status->code, RITRA__STATUS_CODE__OK);
    assert_int_equal(resp->submit_cases->items[1]->status->code,
                     RITRA__STATUS_CODE__INVALID_ARGUMENT);
    assert_string_equal(resp->submit_cases->items[1]->status->details[0]->path,
                        "submit_cases.items[1].case.persons[0].prs_Birthdate");
    assert_int_equal(resp->submit_cases->items[2]->status->code, RITRA__STATUS_CODE__OK);
    assert_int_equal(resp->submit_cases->items[3]->status->code,
                     RITRA__STATUS_CODE__INVALID_ARGUMENT);
    assert_string_equal(resp->submit_cases->items[3]->status->details[0]->path,
                        "submit_cases.items[3].case.persons[1].prs_FirstName");
    assert_string_equal(resp->submit_cases->items[3]->status->details[0]->reason,
                        "not valid UTF-8");
    assert_int_equal(resp->submit_cases->items[4]->status->code,
                     RITRA__STATUS_CODE__FAILED_PRECONDITION);
    assert_int_equal(resp->submit_cases->items[4]->current_version, 0);
    /* The good ones are really stored. */
    for (int i = 0; i < 3; i += 2) {
        Ritra__Response *got = get_by_id(FGN, resp->submit_cases->items[i]->result->case_id);
        assert_ok(got);
        ritra__response__free_unpacked(got, NULL);
    }
    ritra__response__free_unpacked(resp, NULL);
}

/* --- invalid inputs: each a mutation of a valid case ------------------- */

static char long_text[30000];

static void m_no_ref(struct case_fixture *f)
{
    f->c.external_ref = "";
}
static void m_bad_status(struct case_fixture *f)
{
    f->c.cas_status = "Open";
}
static void m_no_status(struct case_fixture *f)
{
    f->c.cas_status = "";
}
static void m_bad_handling(struct case_fixture *f)
{
    f->c.handling_code = "H4";
}
static void m_h3_without_conditions(struct case_fixture *f)
{
    f->c.handling_code = "H3";
}
static void m_bad_reliability(struct case_fixture *f)
{
    f->c.source_reliability = "D";
}
static void m_bad_accuracy(struct case_fixture *f)
{
    f->c.information_accuracy = "5";
}
static void m_bad_type(struct case_fixture *f)
{
    f->types[1] = "Smuggling";
}
static void m_dup_type(struct case_fixture *f)
{
    f->types[1] = "SexualExploitation";
}
static void m_bad_industry(struct case_fixture *f)
{
    f->c.vic_forcedlabourindustry = "Z_Space";
}
static void m_sex_type_without_sexual(struct case_fixture *f)
{
    f->types[0] = "ForcedLabour";
    f->c.n_vic_typeofexploitation = 1;
}
static void m_bad_recruit(struct case_fixture *f)
{
    f->recruit[0] = "ByPigeon";
}
static void m_bad_control(struct case_fixture *f)
{
    f->control[1] = "Magic";
}
static void m_long_summary(struct case_fixture *f)
{
    f->c.summary = long_text;
}
static void m_event_type(struct case_fixture *f)
{
    f->ev[1].hte_type = "Arrival";
}
static void m_event_date(struct case_fixture *f)
{
    f->ev[0].hte_date = "2023-13";
}
static void m_event_future(struct case_fixture *f)
{
    f->ev[1].hte_date = "2999-01-01";
}
static void m_event_country(struct case_fixture *f)
{
    f->ev[0].hte_country = "COL";
}
static void m_event_lat(struct case_fixture *f)
{
    f->geo.latitude = 91;
}
static void m_event_lon(struct case_fixture *f)
{
    f->geo.longitude = -181;
}
static void m_comment_empty(struct case_fixture *f)
{
    f->com[1].cco_casecomment = "";
}
static void m_comment_date(struct case_fixture *f)
{
    f->com[0].date = "2024-02-30";
}
static void m_referral_reason(struct case_fixture *f)
{
    f->referral.cas_reasonforincomingreferral = "Boredom";
}
static void m_no_persons(struct case_fixture *f)
{
    f->c.n_persons = 0;
}
static void m_person_ref(struct case_fixture *f)
{
    f->suspect.person_ref = "";
}
static void m_dup_person_ref(struct case_fixture *f)
{
    f->suspect.person_ref = "V1";
}
static void m_role(struct case_fixture *f)
{
    f->suspect.role = "Boss";
}
static void m_nameless(struct case_fixture *f)
{
    f->suspect.prs_firstname = "";
    f->suspect.first_surname = "";
    f->suspect.second_surname = "";
}
static void m_name_digits(struct case_fixture *f)
{
    f->victim.first_surname = "12345";
}
static void m_name_control(struct case_fixture *f)
{
    f->victim.prs_firstname = "Ana\tMaría";
}
static void m_sex(struct case_fixture *f)
{
    f->victim.sex = "F";
}
static void m_gender(struct case_fixture *f)
{
    f->victim.prs_gender = "Woman";
}
static void m_birth_feb29(struct case_fixture *f)
{
    f->victim.prs_birthdate = "1994-02-29";
}
static void m_birth_1899(struct case_fixture *f)
{
    f->victim.prs_birthdate = "1899";
}
static void m_birth_format(struct case_fixture *f)
{
    f->victim.prs_birthdate = "07/03/1994";
}
static void m_citizenship(struct case_fixture *f)
{
    f->cit[1] = "XX";
}
static void m_doc_type(struct case_fixture *f)
{
    f->pass.type = "Visa";
}
static void m_doc_number(struct case_fixture *f)
{
    f->doc.number = "12#45";
}
static void m_doc_country(struct case_fixture *f)
{
    f->doc.issuing_country = "";
}
static void m_phone(struct case_fixture *f)
{
    f->phones[0] = "3001234567";
}
static void m_address_country(struct case_fixture *f)
{
    f->addr.country = "ZZ";
}
static void m_email(struct case_fixture *f)
{
    f->victim.prs_email = "majo at example";
}
static void m_victim_ctx_on_suspect(struct case_fixture *f)
{
    f->suspect.victim = &f->vctx;
}
static void m_perp_ctx_on_victim(struct case_fixture *f)
{
    f->victim.perpetrator = &f->pctx;
}
static void m_trafficking_status(struct case_fixture *f)
{
    f->vctx.vic_traffickingstatus = "Maybe";
}
static void m_age(struct case_fixture *f)
{
    f->age.value = 130;
}
static void m_vuln(struct case_fixture *f)
{
    f->vuln[0] = "Bad luck";
}
static void m_consent_no_date(struct case_fixture *f)
{
    f->consent.date = "";
}
static void m_consent_scope(struct case_fixture *f)
{
    f->scope[0] = "Everything";
}
static void m_perp_role(struct case_fixture *f)
{
    f->roles[1] = "Mastermind";
}

struct invalid_case {
    const char *name;
    void (*mutate)(struct case_fixture *);
    const char *path;
};

static const struct invalid_case invalid_cases[] = {
    {"external_ref missing", m_no_ref, "submit_case.case.external_ref"},
    {"status not in picklist", m_bad_status, "submit_case.case.cas_Status"},
    {"status missing", m_no_status, "submit_case.case.cas_Status"},
    {"handling code H4", m_bad_handling, "submit_case.case.handling_code"},
    {"H3 without conditions", m_h3_without_conditions, "submit_case.case.handling_conditions"},
    {"source reliability D", m_bad_reliability, "submit_case.case.source_reliability"},
    {"information accuracy 5", m_bad_accuracy, "submit_case.case.information_accuracy"},
    {"exploitation type unknown", m_bad_type, "submit_case.case.vic_TypeOfExploitation[1]"},
    {"exploitation type twice", m_dup_type, "submit_case.case.vic_TypeOfExploitation[1]"},
    {"industry unknown", m_bad_industry, "submit_case.case.vic_ForcedLabourIndustry"},
    {"sex exploitation type without sexual exploitation", m_sex_type_without_sexual,
     "submit_case.case.vic_TypeOfSexExploitation"},
    {"recruitment method unknown", m_bad_recruit, "submit_case.case.vic_MethodOfRecruitment[0]"},
    {"control method unknown", m_bad_control, "submit_case.case.vic_MethodsOfControl[1]"},
    {"summary too long", m_long_summary, "submit_case.case.summary"},
    {"event type unknown", m_event_type, "submit_case.case.events[1].hte_Type"},
    {"event month 13", m_event_date, "submit_case.case.events[0].hte_Date"},
    {"event in the future", m_event_future, "submit_case.case.events[1].hte_Date"},
    {"event country alpha-3", m_event_country, "submit_case.case.events[0].hte_Country"},
    {"latitude 91", m_event_lat, "submit_case.case.events[0].location.latitude"},
    {"longitude -181", m_event_lon, "submit_case.case.events[0].location.longitude"},
    {"empty comment", m_comment_empty, "submit_case.case.comments[1].cco_CaseComment"},
    {"comment on 30 February", m_comment_date, "submit_case.case.comments[0].date"},
    {"referral reason unknown", m_referral_reason,
     "submit_case.case.referral.cas_ReasonForIncomingReferral"},
    {"no persons", m_no_persons, "submit_case.case.persons"},
    {"person_ref missing", m_person_ref, "submit_case.case.persons[1].person_ref"},
    {"person_ref duplicated", m_dup_person_ref, "submit_case.case.persons[1].person_ref"},
    {"role unknown", m_role, "submit_case.case.persons[1].role"},
    {"person without any name", m_nameless, "submit_case.case.persons[1]"},
    {"surname of digits", m_name_digits, "submit_case.case.persons[0].first_surname"},
    {"name with a tab", m_name_control, "submit_case.case.persons[0].prs_FirstName"},
    {"sex not in picklist", m_sex, "submit_case.case.persons[0].sex"},
    {"gender not in picklist", m_gender, "submit_case.case.persons[0].prs_Gender"},
    {"birth date 29 February 1994", m_birth_feb29, "submit_case.case.persons[0].prs_Birthdate"},
    {"birth year 1899", m_birth_1899, "submit_case.case.persons[0].prs_Birthdate"},
    {"birth date dd/mm/yyyy", m_birth_format, "submit_case.case.persons[0].prs_Birthdate"},
    {"citizenship XX", m_citizenship, "submit_case.case.persons[0].prs_Citizenship[1]"},
    {"document type unknown", m_doc_type, "submit_case.case.persons[0].documents[1].type"},
    {"document number with #", m_doc_number, "submit_case.case.persons[0].documents[0].number"},
    {"document country missing", m_doc_country,
     "submit_case.case.persons[0].documents[0].issuing_country"},
    {"phone not E.164", m_phone, "submit_case.case.persons[0].phones[0]"},
    {"address country ZZ", m_address_country, "submit_case.case.persons[0].addresses[0].country"},
    {"email without @", m_email, "submit_case.case.persons[0].prs_Email"},
    {"victim context on a suspect", m_victim_ctx_on_suspect, "submit_case.case.persons[1].victim"},
    {"perpetrator context on a victim", m_perp_ctx_on_victim,
     "submit_case.case.persons[0].perpetrator"},
    {"trafficking status unknown", m_trafficking_status,
     "submit_case.case.persons[0].victim.vic_TraffickingStatus"},
    {"age 130", m_age, "submit_case.case.persons[0].victim.vic_AgeWhenTrafficked.value"},
    {"vulnerability unknown", m_vuln, "submit_case.case.persons[0].victim.vic_Vulnerabilities[0]"},
    {"consent without date", m_consent_no_date, "submit_case.case.persons[0].victim.consent.date"},
    {"consent scope unknown", m_consent_scope,
     "submit_case.case.persons[0].victim.consent.scope[0]"},
    {"role in process unknown", m_perp_role,
     "submit_case.case.persons[1].perpetrator.per_RoleInProcess[1]"},
};

static void test_invalid_inputs_get_exact_code_and_path(void **state)
{
    size_t n = sizeof(invalid_cases) / sizeof(invalid_cases[0]);

    (void)state;
    memset(long_text, 'a', sizeof(long_text) - 1);
    assert_true(n >= 40);
    for (size_t i = 0; i < n; i++) {
        struct case_fixture f;
        Ritra__Response *resp;

        case_fixture_init(&f, "FGN-INVALID", 0);
        invalid_cases[i].mutate(&f);
        resp = submit(FGN, &f, 0);
        if (resp->status->code != RITRA__STATUS_CODE__INVALID_ARGUMENT ||
            resp->status->n_details < 1 ||
            strcmp(resp->status->details[0]->path, invalid_cases[i].path) != 0)
            fail_msg("%s: got %d %s, expected INVALID_ARGUMENT at %s", invalid_cases[i].name,
                     resp->status->code,
                     resp->status->n_details ? resp->status->details[0]->path : "(no details)",
                     invalid_cases[i].path);
        ritra__response__free_unpacked(resp, NULL);
    }
    /* None of them was stored. */
    {
        Ritra__Request req = RITRA__REQUEST__INIT;
        Ritra__GetCaseRequest get = RITRA__GET_CASE_REQUEST__INIT;
        Ritra__Response *resp;
        get.external_ref = "FGN-INVALID";
        req.op_case = RITRA__REQUEST__OP_GET_CASE;
        req.get_case = &get;
        resp = call(FGN, &req);
        assert_int_equal(resp->status->code, RITRA__STATUS_CODE__NOT_FOUND);
        ritra__response__free_unpacked(resp, NULL);
    }
}

static void expect_invalid(const Ritra__Request *req, int code, const char *path)
{
    Ritra__Response *resp = call(FGN, req);

    assert_int_equal(resp->status->code, code);
    if (path != NULL) {
        assert_true(resp->status->n_details >= 1);
        assert_string_equal(resp->status->details[0]->path, path);
    }
    ritra__response__free_unpacked(resp, NULL);
}

static void test_invalid_read_requests(void **state)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__GetCaseRequest get = RITRA__GET_CASE_REQUEST__INIT;
    Ritra__ListCasesRequest list = RITRA__LIST_CASES_REQUEST__INIT;
    Ritra__SyncPullRequest sync = RITRA__SYNC_PULL_REQUEST__INIT;
    Ritra__CloseCaseRequest close = RITRA__CLOSE_CASE_REQUEST__INIT;
    char *bad_status[] = {"Open"};

    (void)state;
    req.op_case = RITRA__REQUEST__OP_GET_CASE;
    req.get_case = &get;
    expect_invalid(&req, RITRA__STATUS_CODE__INVALID_ARGUMENT, "get_case");
    get.case_id = "not-a-uuid";
    expect_invalid(&req, RITRA__STATUS_CODE__INVALID_ARGUMENT, "get_case.case_id");
    get.case_id = "00000000-0000-4000-8000-000000000000";
    expect_invalid(&req, RITRA__STATUS_CODE__NOT_FOUND, NULL);

    req.op_case = RITRA__REQUEST__OP_LIST_CASES;
    req.list_cases = &list;
    list.page_token = "garbage";
    expect_invalid(&req, RITRA__STATUS_CODE__INVALID_ARGUMENT, "list_cases.page_token");
    list.page_token = "";
    list.page_size = 501;
    expect_invalid(&req, RITRA__STATUS_CODE__INVALID_ARGUMENT, "list_cases.page_size");
    list.page_size = 10;
    list.n_status = 1;
    list.status = bad_status;
    expect_invalid(&req, RITRA__STATUS_CODE__INVALID_ARGUMENT, "list_cases.status[0]");
    list.n_status = 0;
    list.updated_since = "yesterday";
    expect_invalid(&req, RITRA__STATUS_CODE__INVALID_ARGUMENT, "list_cases.updated_since");

    req.op_case = RITRA__REQUEST__OP_SYNC_PULL;
    req.sync_pull = &sync;
    sync.cursor = "S1~12~x";
    expect_invalid(&req, RITRA__STATUS_CODE__INVALID_ARGUMENT, "sync_pull.cursor");
    sync.cursor = "";
    sync.limit = 1001;
    expect_invalid(&req, RITRA__STATUS_CODE__INVALID_ARGUMENT, "sync_pull.limit");

    req.op_case = RITRA__REQUEST__OP_CLOSE_CASE;
    req.close_case = &close;
    close.case_id = "00000000-0000-4000-8000-000000000000";
    close.cas_status = "Active";
    expect_invalid(&req, RITRA__STATUS_CODE__INVALID_ARGUMENT, "close_case.cas_Status");
    close.cas_status = "Closed";
    expect_invalid(&req, RITRA__STATUS_CODE__NOT_FOUND, NULL);
}

static Ritra__Response *list_page(struct ritra_conn *c, uint32_t size, const char *token,
                                  char **status, size_t n_status)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__ListCasesRequest list = RITRA__LIST_CASES_REQUEST__INIT;

    list.page_size = size;
    list.page_token = (char *)(token ? token : "");
    list.status = status;
    list.n_status = n_status;
    req.op_case = RITRA__REQUEST__OP_LIST_CASES;
    req.list_cases = &list;
    return call(c, &req);
}

static void test_list_pages_filters_and_close(void **state)
{
    struct ritra_error err;
    struct ritra_conn *mig = harness_connect(&H, "MIGRACION", &err);
    char token[200] = "", first_id[40];
    char *closed[] = {"Closed"};
    int seen = 0, pages = 0;
    Ritra__Response *resp;

    (void)state;
    assert_non_null(mig);
    for (int i = 0; i < 7; i++) {
        struct case_fixture f;
        char ref[32];
        snprintf(ref, sizeof(ref), "MIG-%d", i);
        case_fixture_init(&f, ref, i);
        resp = submit(mig, &f, 0);
        assert_ok(resp);
        if (i == 0)
            snprintf(first_id, sizeof(first_id), "%s", resp->submit_case->case_id);
        ritra__response__free_unpacked(resp, NULL);
    }
    do {
        resp = list_page(mig, 3, token, NULL, 0);
        assert_ok(resp);
        seen += (int)resp->list_cases->n_cases;
        pages++;
        for (size_t i = 0; i < resp->list_cases->n_cases; i++)
            assert_string_equal(resp->list_cases->cases[i]->owner_agency, "MIGRACION");
        snprintf(token, sizeof(token), "%s", resp->list_cases->next_page_token);
        ritra__response__free_unpacked(resp, NULL);
    } while (token[0] && pages < 10);
    assert_int_equal(seen, 7);
    assert_int_equal(pages, 3);

    {
        Ritra__Request req = RITRA__REQUEST__INIT;
        Ritra__CloseCaseRequest close = RITRA__CLOSE_CASE_REQUEST__INIT;
        close.case_id = first_id;
        close.cas_status = "Closed";
        close.cas_reasonforcaseclosure = "Sentencia condenatoria ejecutoriada";
        req.op_case = RITRA__REQUEST__OP_CLOSE_CASE;
        req.close_case = &close;
        resp = call(mig, &req);
        assert_ok(resp);
        assert_int_equal(resp->close_case->version, 2);
        ritra__response__free_unpacked(resp, NULL);
        /* The owner only: FGN cannot close MIGRACION's case. */
        resp = call(FGN, &req);
        assert_int_equal(resp->status->code, RITRA__STATUS_CODE__NOT_FOUND);
        ritra__response__free_unpacked(resp, NULL);
    }
    resp = get_by_id(mig, first_id);
    assert_ok(resp);
    assert_string_equal(resp->get_case->case_->cas_status, "Closed");
    assert_string_equal(resp->get_case->case_->cas_reasonforcaseclosure,
                        "Sentencia condenatoria ejecutoriada");
    ritra__response__free_unpacked(resp, NULL);
    resp = list_page(mig, 100, NULL, closed, 1);
    assert_ok(resp);
    assert_int_equal(resp->list_cases->n_cases, 1);
    assert_string_equal(resp->list_cases->cases[0]->case_id, first_id);
    ritra__response__free_unpacked(resp, NULL);
    ritra_close(mig);
}

static Ritra__Response *pull_once(struct ritra_conn *c, const char *cursor, uint32_t limit)
{
    Ritra__Request req = RITRA__REQUEST__INIT;
    Ritra__SyncPullRequest sync = RITRA__SYNC_PULL_REQUEST__INIT;

    sync.cursor = (char *)cursor;
    sync.limit = limit;
    req.op_case = RITRA__REQUEST__OP_SYNC_PULL;
    req.sync_pull = &sync;
    return call(c, &req);
}

/* A pull that waits (up to 5 s) for want changes to be there: the feed
 * shows a change once every transaction older than it has finished
 * (docs/sync.md), and the server's own background writers (the matcher,
 * right after each submission; the audit chainer) may still be running for
 * a moment. */
static Ritra__Response *pull(struct ritra_conn *c, const char *cursor, uint32_t limit, size_t want)
{
    for (int i = 0; i < 250; i++) {
        Ritra__Response *resp = pull_once(c, cursor, limit);

        if (resp->status->code != RITRA__STATUS_CODE__OK || resp->sync_pull->n_changes >= want)
            return resp;
        ritra__response__free_unpacked(resp, NULL);
        usleep(20 * 1000);
    }
    return pull_once(c, cursor, limit);
}

static void test_sync_delivers_own_changes_once_each_in_order(void **state)
{
    struct ritra_error err;
    struct ritra_conn *c = harness_connect(&H, "ICBF", &err);
    struct case_fixture f;
    Ritra__Response *resp;
    char cursor[100];

    (void)state;
    assert_non_null(c);
    for (int i = 0; i < 3; i++) {
        char ref[32];
        snprintf(ref, sizeof(ref), "MIN-%d", i);
        case_fixture_init(&f, ref, i);
        ritra__response__free_unpacked(submit(c, &f, 0), NULL);
    }
    /* Once all three are in the feed, page through them. */
    ritra__response__free_unpacked(pull(c, "", 10, 3), NULL);
    resp = pull(c, "", 2, 2);
    assert_ok(resp);
    assert_int_equal(resp->sync_pull->n_changes, 2);
    assert_true(resp->sync_pull->more);
    assert_string_equal(resp->sync_pull->changes[0]->case_->external_ref, "MIN-0");
    assert_string_equal(resp->sync_pull->changes[0]->case_->owner_agency, "ICBF");
    snprintf(cursor, sizeof(cursor), "%s", resp->sync_pull->next_cursor);
    ritra__response__free_unpacked(resp, NULL);
    resp = pull(c, cursor, 10, 1);
    assert_int_equal(resp->sync_pull->n_changes, 1);
    assert_string_equal(resp->sync_pull->changes[0]->case_->external_ref, "MIN-2");
    assert_false(resp->sync_pull->more);
    snprintf(cursor, sizeof(cursor), "%s", resp->sync_pull->next_cursor);
    ritra__response__free_unpacked(resp, NULL);

    /* An update moves the case to the end of the feed, as its new version. */
    case_fixture_init(&f, "MIN-0", 9);
    ritra__response__free_unpacked(submit(c, &f, 0), NULL);
    resp = pull(c, cursor, 10, 1);
    assert_int_equal(resp->sync_pull->n_changes, 1);
    assert_string_equal(resp->sync_pull->changes[0]->case_->external_ref, "MIN-0");
    assert_int_equal(resp->sync_pull->changes[0]->version, 2);
    snprintf(cursor, sizeof(cursor), "%s", resp->sync_pull->next_cursor);
    ritra__response__free_unpacked(resp, NULL);
    resp = pull_once(c, cursor, 10);
    assert_int_equal(resp->sync_pull->n_changes, 0);
    assert_string_equal(resp->sync_pull->next_cursor, cursor);
    ritra__response__free_unpacked(resp, NULL);
    ritra_close(c);
}

/* SyncPull sends a case as its stored bytes plus the server's fields,
 * without decoding it (server/ops/sync.c): what a client decodes must be
 * exactly what GetCase sends, every field, byte for byte once packed. */
static void test_sync_sends_the_case_get_sends(void **state)
{
    struct case_fixture f;
    Ritra__Response *sub, *got, *resp;
    const Ritra__Case *synced = NULL;
    uint8_t *a, *b;
    size_t na, nb;

    (void)state;
    case_fixture_init(&f, "FGN-SYNC-BYTES", 3);
    sub = submit(FGN, &f, 0);
    assert_ok(sub);
    got = get_by_id(FGN, sub->submit_case->case_id);
    assert_ok(got);
    /* FGN's feed holds its other cases too: pull it all, find this one. */
    resp = pull(FGN, "", 1000, 1);
    assert_ok(resp);
    for (size_t i = 0; i < resp->sync_pull->n_changes; i++)
        if (strcmp(resp->sync_pull->changes[i]->case_id, sub->submit_case->case_id) == 0)
            synced = resp->sync_pull->changes[i]->case_;
    assert_non_null(synced);
    assert_string_equal(synced->case_id, sub->submit_case->case_id);
    assert_string_equal(synced->owner_agency, "FGN");
    assert_int_equal(synced->version, 1);
    assert_string_equal(synced->created_at, got->get_case->case_->created_at);
    na = pack_case(synced, &a);
    nb = pack_case(got->get_case->case_, &b);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    free(a);
    free(b);
    ritra__response__free_unpacked(resp, NULL);
    ritra__response__free_unpacked(got, NULL);
    ritra__response__free_unpacked(sub, NULL);
}

static void test_disabled_agency_is_stopped_on_its_open_connection(void **state)
{
    const char *disable[] = {"agency", "disable", "PONAL", NULL};
    const char *enable[] = {"agency", "enable", "PONAL", NULL};
    struct ritra_error err;
    struct ritra_conn *c = harness_connect(&H, "PONAL", &err);
    Ritra__Response *resp;

    (void)state;
    assert_non_null(c);
    resp = list_page(c, 10, NULL, NULL, 0);
    assert_ok(resp);
    ritra__response__free_unpacked(resp, NULL);
    assert_int_equal(harness_admin(&H, disable), 0);
    /* Every transaction re-checks the registry: the very next request fails. */
    {
        Ritra__Request req = RITRA__REQUEST__INIT;
        Ritra__ListCasesRequest list = RITRA__LIST_CASES_REQUEST__INIT;
        req.op_case = RITRA__REQUEST__OP_LIST_CASES;
        req.list_cases = &list;
        assert_int_equal(ritra_call(c, &req, &resp, &err), 0);
        assert_int_equal(resp->status->code, RITRA__STATUS_CODE__UNAUTHENTICATED);
        ritra__response__free_unpacked(resp, NULL);
    }
    ritra_close(c);
    assert_int_equal(harness_admin(&H, enable), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_field_round_trips_through_postgres),
        cmocka_unit_test(test_get_by_external_ref_and_not_found),
        cmocka_unit_test(test_identical_resubmission_is_a_noop_and_changes_bump_version),
        cmocka_unit_test(test_stale_expected_version_fails_with_current_version),
        cmocka_unit_test(test_concurrent_updates_one_wins_other_gets_precondition),
        cmocka_unit_test(test_batch_keeps_bad_items_to_themselves),
        cmocka_unit_test(test_invalid_inputs_get_exact_code_and_path),
        cmocka_unit_test(test_invalid_read_requests),
        cmocka_unit_test(test_list_pages_filters_and_close),
        cmocka_unit_test(test_sync_delivers_own_changes_once_each_in_order),
        cmocka_unit_test(test_sync_sends_the_case_get_sends),
        cmocka_unit_test(test_disabled_agency_is_stopped_on_its_open_connection),
    };

    return cmocka_run_group_tests_name("integration-cases", tests, setup, teardown);
}
