/*
 * The case-level rules (the case's own fields, events, comments, referral)
 * and dates. The rules for persons are in person_validate.c; the field
 * paths and generic checks both use are in case_validate_int.c.
 */
#include "case_validate.h"

#include "case_validate_int.h"
#include "person_validate.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* The earliest time zone is UTC+14: a date is only certainly in the future
 * once it has not yet begun there, so agencies east of UTC can record
 * today's date before UTC midnight. */
#define EARLIEST_TZ_OFFSET (14 * 3600)

/* ---- dates ---------------------------------------------------------- */

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && leap(y) ? 29 : dim[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), so no timegm()/TZ dependency. */
static int64_t days_from_civil(int y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool case_date_valid(const char *s, bool allow_partial, time_t now, const char **why)
{
    const char *unused;
    size_t len = s ? strlen(s) : 0;
    int y, m = 1, d = 1;

    if (why == NULL)
        why = &unused;
    *why = allow_partial ? "not a date (YYYY, YYYY-MM or YYYY-MM-DD)" : "not a date (YYYY-MM-DD)";
    if (len != 10 && !(allow_partial && (len == 4 || len == 7)))
        return false;
    if (!digits(s, 4, &y))
        return false;
    if (len >= 7 && (s[4] != '-' || !digits(s + 5, 2, &m)))
        return false;
    if (len == 10 && (s[7] != '-' || !digits(s + 8, 2, &d)))
        return false;
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) {
        *why = "not a calendar date";
        return false;
    }
    if (y < CASE_MIN_YEAR) {
        *why = "year before 1900";
        return false;
    }
    /* A partial date denotes a span; it is acceptable if the span has begun. */
    if (days_from_civil(y, m, d) * 86400 - EARLIEST_TZ_OFFSET > (int64_t)now) {
        *why = "date in the future";
        return false;
    }
    return true;
}

/* ---- sub-messages --------------------------------------------------- */

static void check_event(struct field_errors *fe, const char *base, const Ritra__TraffickingEvent *e,
                        time_t now)
{
    char path[CV_PATH_LEN];

    cv_check_pick(fe, cv_join(path, base, "hte_Type"), PICKLIST_HTE_TYPE, e->hte_type, true);
    cv_check_date(fe, cv_join(path, base, "hte_Date"), e->hte_date, true, false, now);
    cv_check_country(fe, cv_join(path, base, "hte_Country"), e->hte_country, false);
    validate_text(fe, cv_join(path, base, "hte_State"), e->hte_state, CASE_MAX_PLACE_FIELD, false,
                  false);
    validate_text(fe, cv_join(path, base, "hte_City"), e->hte_city, CASE_MAX_PLACE_FIELD, false,
                  false);
    validate_text(fe, cv_join(path, base, "hte_Street"), e->hte_street, CASE_MAX_PLACE_FIELD, false,
                  false);
    validate_text(fe, cv_join(path, base, "hte_PostalCode"), e->hte_postalcode,
                  CASE_MAX_PLACE_FIELD, false, false);
    if (e->location != NULL) {
        /* written as !(in range) so that NaN fails too */
        if (!(isfinite(e->location->latitude) && e->location->latitude >= -90.0 &&
              e->location->latitude <= 90.0))
            fe_add(fe, cv_join(path, base, "location.latitude"), "not a latitude (-90..90)");
        if (!(isfinite(e->location->longitude) && e->location->longitude >= -180.0 &&
              e->location->longitude <= 180.0))
            fe_add(fe, cv_join(path, base, "location.longitude"), "not a longitude (-180..180)");
    }
    validate_text(fe, cv_join(path, base, "hte_Description"), e->hte_description,
                  CASE_MAX_EVENT_DESCRIPTION, false, true);
}

static void check_comment(struct field_errors *fe, const char *base, const Ritra__CaseComment *cc,
                          time_t now)
{
    char path[CV_PATH_LEN];

    validate_text(fe, cv_join(path, base, "cco_CaseComment"), cc->cco_casecomment, CASE_MAX_COMMENT,
                  true, true);
    cv_check_date(fe, cv_join(path, base, "date"), cc->date, false, false, now);
}

static void check_referral(struct field_errors *fe, const char *base, const Ritra__Referral *r,
                           time_t now)
{
    char path[CV_PATH_LEN];

    validate_text(fe, cv_join(path, base, "cas_ReferringOrganisation"),
                  r->cas_referringorganisation, CASE_MAX_ORGANISATION, false, false);
    cv_check_date(fe, cv_join(path, base, "cas_IncomingReferralDate"), r->cas_incomingreferraldate,
                  false, false, now);
    cv_check_pick(fe, cv_join(path, base, "cas_ReasonForIncomingReferral"),
                  PICKLIST_REASON_FOR_INCOMING_REFERRAL, r->cas_reasonforincomingreferral, false);
    validate_text(fe, cv_join(path, base, "cas_IncomingReferralDetails"),
                  r->cas_incomingreferraldetails, CASE_MAX_REFERRAL_DETAILS, false, true);
    validate_text(fe, cv_join(path, base, "cas_ReferredOrganisation"), r->cas_referredorganisation,
                  CASE_MAX_ORGANISATION, false, false);
    cv_check_date(fe, cv_join(path, base, "cas_OutgoingReferralDate"), r->cas_outgoingreferraldate,
                  false, false, now);
    cv_check_pick(fe, cv_join(path, base, "cas_ReasonForOutgoingReferral"),
                  PICKLIST_REASON_FOR_OUTGOING_REFERRAL, r->cas_reasonforoutgoingreferral, false);
    validate_text(fe, cv_join(path, base, "cas_OutgoingReferralDetails"),
                  r->cas_outgoingreferraldetails, CASE_MAX_REFERRAL_DETAILS, false, true);
}

/* ---- the case ------------------------------------------------------- */

bool case_validate(const Ritra__Case *c, const char *prefix, struct field_errors *fe, time_t now)
{
    size_t before = fe->count + fe->dropped;
    char path[CV_PATH_LEN], sub[CV_PATH_LEN];
    const char *base = cv_nz(prefix);
    bool toe_ok;

    if (c == NULL) {
        fe_add(fe, base[0] ? base : "case", "required");
        return false;
    }

    /* case_id, owner_agency, version, created_at, updated_at: server-set. */
    validate_text(fe, cv_join(path, base, "external_ref"), c->external_ref, CASE_MAX_EXTERNAL_REF,
                  true, false);
    cv_check_pick(fe, cv_join(path, base, "cas_Status"), PICKLIST_CAS_STATUS, c->cas_status, true);
    validate_text(fe, cv_join(path, base, "cas_ReasonForCaseClosure"), c->cas_reasonforcaseclosure,
                  CASE_MAX_CLOSURE_REASON, false, true);
    cv_check_pick(fe, cv_join(path, base, "handling_code"), PICKLIST_HANDLING_CODE,
                  c->handling_code, true);
    cv_join(path, base, "handling_conditions");
    if (strcmp(cv_nz(c->handling_code), "H3") == 0 && !cv_present(c->handling_conditions))
        fe_add(fe, path, "required for H3");
    else
        validate_text(fe, path, c->handling_conditions, CASE_MAX_HANDLING_CONDITIONS, false, true);
    cv_check_pick(fe, cv_join(path, base, "source_reliability"), PICKLIST_SOURCE_RELIABILITY,
                  c->source_reliability, true);
    cv_check_pick(fe, cv_join(path, base, "information_accuracy"), PICKLIST_INFORMATION_ACCURACY,
                  c->information_accuracy, true);

    /* The two dependent fields below are only judged against a list that
     * was itself accepted as a whole; otherwise one fault gives three errors. */
    toe_ok = cv_check_pick_list(fe, base, "vic_TypeOfExploitation", PICKLIST_TYPE_OF_EXPLOITATION,
                                c->vic_typeofexploitation, c->n_vic_typeofexploitation,
                                CASE_MAX_PICKLIST_VALUES);
    cv_join(path, base, "vic_ForcedLabourIndustry");
    if (cv_check_pick(fe, path, PICKLIST_FORCED_LABOUR_INDUSTRY, c->vic_forcedlabourindustry,
                      false) &&
        toe_ok && cv_present(c->vic_forcedlabourindustry) &&
        !cv_has_value(c->vic_typeofexploitation, c->n_vic_typeofexploitation, "ForcedLabour") &&
        !cv_has_value(c->vic_typeofexploitation, c->n_vic_typeofexploitation, "ChildLabour"))
        fe_add(fe, path, "only with ForcedLabour or ChildLabour");
    cv_check_pick_list(fe, base, "vic_TypeOfSexExploitation", PICKLIST_TYPE_OF_SEX_EXPLOITATION,
                       c->vic_typeofsexexploitation, c->n_vic_typeofsexexploitation,
                       CASE_MAX_PICKLIST_VALUES);
    if (toe_ok && c->n_vic_typeofsexexploitation > 0 &&
        !cv_has_value(c->vic_typeofexploitation, c->n_vic_typeofexploitation, "SexualExploitation"))
        fe_add(fe, cv_join(path, base, "vic_TypeOfSexExploitation"),
               "only with SexualExploitation");
    cv_check_pick_list(fe, base, "vic_MethodOfRecruitment", PICKLIST_METHOD_OF_RECRUITMENT,
                       c->vic_methodofrecruitment, c->n_vic_methodofrecruitment,
                       CASE_MAX_PICKLIST_VALUES);
    cv_check_pick_list(fe, base, "vic_MethodsOfControl", PICKLIST_METHODS_OF_CONTROL,
                       c->vic_methodsofcontrol, c->n_vic_methodsofcontrol,
                       CASE_MAX_PICKLIST_VALUES);

    validate_text(fe, cv_join(path, base, "summary"), c->summary, CASE_MAX_SUMMARY, false, true);

    cv_join(path, base, "events");
    if (cv_check_count(fe, path, c->n_events, CASE_MAX_EVENTS, "events") &&
        cv_check_array(fe, path, c->events, c->n_events)) {
        for (size_t i = 0; i < c->n_events; i++) {
            cv_join_idx(sub, base, "events", i);
            if (c->events[i] == NULL)
                fe_add(fe, sub, "missing");
            else
                check_event(fe, sub, c->events[i], now);
        }
    }

    cv_join(path, base, "comments");
    if (cv_check_count(fe, path, c->n_comments, CASE_MAX_COMMENTS, "comments") &&
        cv_check_array(fe, path, c->comments, c->n_comments)) {
        for (size_t i = 0; i < c->n_comments; i++) {
            cv_join_idx(sub, base, "comments", i);
            if (c->comments[i] == NULL)
                fe_add(fe, sub, "missing");
            else
                check_comment(fe, sub, c->comments[i], now);
        }
    }

    if (c->referral != NULL)
        check_referral(fe, cv_join(path, base, "referral"), c->referral, now);

    person_validate_all(fe, base, c, now);

    return fe->count + fe->dropped == before;
}
