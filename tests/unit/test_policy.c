/*
 * The access levels used by search and matching (server/policy.c):
 * policy_search_level, policy_related_level, and which renderings show a
 * person's identifying fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"

#define OWNER  1
#define VIEWER 2

static const struct policy_grants NO_GRANTS = {POLICY_NONE, POLICY_NONE, POLICY_NONE};

static void test_search_level_gives_hits_to_law_enforcement_only(void **state)
{
    struct policy_case h0 = {OWNER, "H0", false}, h3 = {OWNER, "H3", false},
                       h3_hits = {OWNER, "H3", true};
    static const enum agency_kind kinds[] = {AGENCY_PROSECUTOR, AGENCY_POLICE,
                                             AGENCY_MIGRATION,  AGENCY_VICTIM_SERVICES,
                                             AGENCY_AUDITOR,    AGENCY_COORDINATOR};
    static const enum policy_level want_h0[] = {POLICY_HIT,  POLICY_HIT,  POLICY_NONE,
                                                POLICY_NONE, POLICY_NONE, POLICY_NONE};

    (void)state;
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(policy_search_level(VIEWER, kinds[i], &h0, &NO_GRANTS), want_h0[i]);
        assert_int_equal(policy_search_level(VIEWER, kinds[i], &h3, &NO_GRANTS), POLICY_NONE);
        assert_int_equal(policy_search_level(VIEWER, kinds[i], &h3_hits, &NO_GRANTS), want_h0[i]);
    }
    /* The owner and grants keep their own level. */
    assert_int_equal(policy_search_level(OWNER, AGENCY_VICTIM_SERVICES, &h3, &NO_GRANTS),
                     POLICY_FULL);
}

static void test_related_level_gives_hits_to_all_but_auditors(void **state)
{
    struct policy_case h2 = {OWNER, "H2", false}, h3 = {OWNER, "H3", false},
                       h3_hits = {OWNER, "H3", true};
    struct policy_grants restricted = {POLICY_RESTRICTED, POLICY_NONE, POLICY_NONE};

    (void)state;
    assert_int_equal(policy_related_level(VIEWER, AGENCY_VICTIM_SERVICES, &h2, &NO_GRANTS),
                     POLICY_HIT);
    assert_int_equal(policy_related_level(VIEWER, AGENCY_MIGRATION, &h3, &NO_GRANTS), POLICY_NONE);
    assert_int_equal(policy_related_level(VIEWER, AGENCY_MIGRATION, &h3_hits, &NO_GRANTS),
                     POLICY_HIT);
    assert_int_equal(policy_related_level(VIEWER, AGENCY_AUDITOR, &h2, &NO_GRANTS), POLICY_NONE);
    assert_int_equal(policy_related_level(VIEWER, AGENCY_POLICE, &h3, &restricted),
                     POLICY_RESTRICTED);
}

static void test_identified_follows_the_renderings(void **state)
{
    Ritra__Person victim = RITRA__PERSON__INIT, suspect = RITRA__PERSON__INIT, view;
    Ritra__VictimContext vc = RITRA__VICTIM_CONTEXT__INIT;
    Ritra__Consent con = RITRA__CONSENT__INIT;
    char *scope[1] = {"ShareWithAgencies"};

    (void)state;
    victim.role = "Victim";
    victim.prs_firstname = "Yurani";
    victim.victim = &vc;
    suspect.role = "Suspect";
    suspect.prs_firstname = "Wilmer";
    assert_true(policy_person_identified(&victim, POLICY_VARIANT_FULL));
    assert_false(policy_person_identified(&victim, POLICY_VARIANT_SHAREABLE));
    assert_false(policy_person_identified(&victim, POLICY_VARIANT_RESTRICTED));
    assert_false(policy_person_identified(&victim, POLICY_VARIANT_NONE));
    assert_true(policy_person_identified(&suspect, POLICY_VARIANT_RESTRICTED));
    assert_false(policy_person_identified(&suspect, POLICY_VARIANT_NONE));
    policy_person_view(&victim, POLICY_VARIANT_SHAREABLE, &view);
    assert_string_equal(view.prs_firstname, "");
    assert_string_equal(view.role, "Victim");
    vc.consent = &con;
    con.con_consent = 1;
    con.scope = scope;
    con.n_scope = 1;
    assert_true(policy_person_identified(&victim, POLICY_VARIANT_SHAREABLE));
    assert_false(policy_person_identified(&victim, POLICY_VARIANT_RESTRICTED));
    policy_person_view(&victim, POLICY_VARIANT_SHAREABLE, &view);
    assert_string_equal(view.prs_firstname, "Yurani");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_search_level_gives_hits_to_law_enforcement_only),
        cmocka_unit_test(test_related_level_gives_hits_to_all_but_auditors),
        cmocka_unit_test(test_identified_follows_the_renderings),
    };

    return cmocka_run_group_tests_name("unit-policy", tests, NULL, NULL);
}
