/*
 * case_validate.c and picklist.c on their own: one complete valid case, then
 * one mutation per rule, each of which must produce exactly one error with
 * exactly the documented path. Messages are built from static storage only.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "case_validate.h"
#include "picklist.h"
#include "ritra.pb-c.h"
#include "validate.h"

/* 2024-06-15T12:00:00Z: every "now" in this file, so dates never rot. */
#define NOW ((time_t)1718452800)

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Everything a valid case points to, owned here so that a mutation can
 * change any part of a freshly built case without touching another's. */
struct fx {
    Ritra__Case c;
    char *toe[2];
    char *sexexp[2];
    char *recruit[2];
    char *control[3];
    Ritra__TraffickingEvent ev[2];
    Ritra__TraffickingEvent *evp[2];
    Ritra__GeoPoint geo;
    Ritra__CaseComment cm;
    Ritra__CaseComment *cmp[1];
    Ritra__Referral ref;
    Ritra__Person per[3];
    Ritra__Person *perp[3];
    /* persons[0]: the victim */
    char *v_aliases[1];
    char *v_citizenship[2];
    Ritra__IdentityDocument v_doc[2];
    Ritra__IdentityDocument *v_docp[2];
    char *v_phones[2];
    Ritra__Address v_addr;
    Ritra__Address *v_addrp[1];
    Ritra__VictimContext vic;
    Ritra__Int32Value age;
    char *vuln[3];
    Ritra__Consent con;
    char *scope[2];
    /* persons[1]: the suspect */
    char *s_aliases[2];
    char *s_citizenship[1];
    Ritra__IdentityDocument s_doc;
    Ritra__IdentityDocument *s_docp[1];
    char *s_phones[1];
    Ritra__PerpetratorContext perpc;
    char *roles[2];
    /* persons[2]: a witness */
    Ritra__Address w_addr;
    Ritra__Address *w_addrp[1];
};

static struct fx F;

static void build_valid(struct fx *f)
{
    Ritra__Case *c = &f->c;
    Ritra__Person *v = &f->per[0], *s = &f->per[1], *w = &f->per[2];

    memset(f, 0, sizeof(*f));
    ritra__case__init(c);
    /* Server-set fields hold nonsense on purpose: they must be ignored. */
    c->case_id = "not-a-uuid";
    c->owner_agency = "\x01";
    c->version = -7;
    c->created_at = "yesterday";
    c->updated_at = "tomorrow";

    c->external_ref = "FGN-2024-000123";
    c->cas_status = "ClosedReferred";
    c->cas_reasonforcaseclosure =
        "Remitido a la Fiscalía Seccional de Medellín.\nSin más acciones.";
    c->handling_code = "H3";
    c->handling_conditions = "Solo para fiscales de la Unidad de Trata; no compartir con terceros.";
    c->source_reliability = "B";
    c->information_accuracy = "2";
    f->toe[0] = "SexualExploitation";
    f->toe[1] = "ForcedLabour";
    c->vic_typeofexploitation = f->toe;
    c->n_vic_typeofexploitation = 2;
    c->vic_forcedlabourindustry = "I_AccommodationAndFoodServiceActivities";
    f->sexexp[0] = "Prostitution";
    f->sexexp[1] = "RemoteInteractiveServices";
    c->vic_typeofsexexploitation = f->sexexp;
    c->n_vic_typeofsexexploitation = 2;
    f->recruit[0] = "ThroughOnlineSocialNetworks";
    f->recruit[1] = "ThroughFriendsOrSocialEvents";
    c->vic_methodofrecruitment = f->recruit;
    c->n_vic_methodofrecruitment = 2;
    f->control[0] = "DebtBondage";
    f->control[1] = "WithholdsDocuments";
    f->control[2] = "PhysicalThreats";
    c->vic_methodsofcontrol = f->control;
    c->n_vic_methodsofcontrol = 3;
    c->summary = "Captada por redes sociales con oferta de empleo en un hotel.\n\tTrasladada a "
                 "Cartagena; documentos retenidos.";
    c->summary_sensitive = true;

    ritra__trafficking_event__init(&f->ev[0]);
    f->ev[0].hte_type = "Recruitment";
    f->ev[0].hte_date = "2023-11";
    f->ev[0].hte_country = "CO";
    f->ev[0].hte_state = "Antioquia";
    f->ev[0].hte_city = "Medellín";
    f->ev[0].hte_street = "Calle 10 # 43-12";
    f->ev[0].hte_postalcode = "050021";
    f->ev[0].hte_description = "Contacto inicial por Instagram.";
    ritra__trafficking_event__init(&f->ev[1]);
    f->ev[1].hte_type = "Exploitation";
    f->ev[1].hte_date = "2024-01-15";
    f->ev[1].hte_country = "CO";
    f->ev[1].hte_state = "Bolívar";
    f->ev[1].hte_city = "Cartagena de Indias";
    f->ev[1].hte_street = "Carrera 3 # 36-50";
    f->ev[1].hte_postalcode = "130001";
    ritra__geo_point__init(&f->geo);
    f->geo.latitude = 10.4236;
    f->geo.longitude = -75.5518;
    f->ev[1].location = &f->geo;
    f->ev[1].hte_description = "Explotación en hotel.\nJornadas de 16 horas.";
    f->ev[1].description_sensitive = true;
    f->evp[0] = &f->ev[0];
    f->evp[1] = &f->ev[1];
    c->events = f->evp;
    c->n_events = 2;

    ritra__case_comment__init(&f->cm);
    f->cm.cco_casecomment = "Entrevista realizada con intérprete.";
    f->cm.date = "2024-02-01";
    f->cm.sensitive = true;
    f->cmp[0] = &f->cm;
    c->comments = f->cmp;
    c->n_comments = 1;

    ritra__referral__init(&f->ref);
    f->ref.cas_referringorganisation = "Policía Nacional - DIJIN";
    f->ref.cas_incomingreferraldate = "2024-01-20";
    f->ref.cas_reasonforincomingreferral = "AdditionalServicesRequired";
    f->ref.cas_incomingreferraldetails = "Remitido tras operativo.";
    f->ref.cas_referredorganisation = "Fundación Renacer";
    f->ref.cas_outgoingreferraldate = "2024-03-05";
    f->ref.cas_reasonforoutgoingreferral = "MigrationOrChangeOfLocation";
    f->ref.cas_outgoingreferraldetails = "Traslado a casa de acogida en Bogotá.";
    c->referral = &f->ref;

    ritra__person__init(v);
    v->person_ref = "p1";
    v->role = "Victim";
    v->prs_firstname = "María José";
    v->prs_middlename = "Ángela";
    v->first_surname = "Muñoz";
    v->second_surname = "de la Cruz";
    f->v_aliases[0] = "Majo";
    v->aliases = f->v_aliases;
    v->n_aliases = 1;
    v->sex = "Female";
    v->prs_gender = "Feminine";
    v->prs_birthdate = "2006-03-14";
    f->v_citizenship[0] = "CO";
    f->v_citizenship[1] = "VE";
    v->prs_citizenship = f->v_citizenship;
    v->n_prs_citizenship = 2;
    ritra__identity_document__init(&f->v_doc[0]);
    f->v_doc[0].type = "NationalId"; /* cédula de ciudadanía (CC) */
    f->v_doc[0].number = "1.020.304.050";
    f->v_doc[0].issuing_country = "CO";
    ritra__identity_document__init(&f->v_doc[1]);
    f->v_doc[1].type = "Passport";
    f->v_doc[1].number = "AV123456";
    f->v_doc[1].issuing_country = "CO";
    f->v_docp[0] = &f->v_doc[0];
    f->v_docp[1] = &f->v_doc[1];
    v->documents = f->v_docp;
    v->n_documents = 2;
    f->v_phones[0] = "+573001234567";
    f->v_phones[1] = "+584121234567";
    v->phones = f->v_phones;
    v->n_phones = 2;
    ritra__address__init(&f->v_addr);
    f->v_addr.street = "Calle 45 # 12-30, apto 201";
    f->v_addr.city = "Bogotá";
    f->v_addr.state = "Cundinamarca";
    f->v_addr.postal_code = "110311";
    f->v_addr.country = "CO";
    f->v_addrp[0] = &f->v_addr;
    v->addresses = f->v_addrp;
    v->n_addresses = 1;
    v->prs_email = "maria.munoz@example.com.co";
    ritra__victim_context__init(&f->vic);
    f->vic.vic_traffickingstatus = "ActualVictimOfTrafficking";
    f->vic.vic_traffickingstatusdecisionmakingorg = "CourtOrProsecution";
    f->vic.vic_relationshiptotrafficker = "Unaquainted";
    ritra__int32_value__init(&f->age);
    f->age.value = 17;
    f->vic.vic_agewhentrafficked = &f->age;
    f->vuln[0] = "Poverty";
    f->vuln[1] = "Migration";
    f->vuln[2] = "AbuseSocialMedia";
    f->vic.vic_vulnerabilities = f->vuln;
    f->vic.n_vic_vulnerabilities = 3;
    ritra__consent__init(&f->con);
    f->con.con_consent = true;
    f->scope[0] = "ShareWithAgencies";
    f->scope[1] = "ReferToServices";
    f->con.scope = f->scope;
    f->con.n_scope = 2;
    f->con.date = "2024-02-01";
    f->vic.consent = &f->con;
    v->victim = &f->vic;

    ritra__person__init(s);
    s->person_ref = "p2";
    s->role = "Suspect";
    s->prs_firstname = "José Ñeco";
    s->first_surname = "Pérez";
    s->second_surname = "Gómez";
    f->s_aliases[0] = "El Flaco";
    f->s_aliases[1] = "Don J";
    s->aliases = f->s_aliases;
    s->n_aliases = 2;
    s->sex = "Male";
    s->prs_gender = "Masculine";
    s->prs_birthdate = "1985";
    f->s_citizenship[0] = "CO";
    s->prs_citizenship = f->s_citizenship;
    s->n_prs_citizenship = 1;
    ritra__identity_document__init(&f->s_doc);
    f->s_doc.type = "NationalId";
    f->s_doc.number = "79.123.456";
    f->s_doc.issuing_country = "CO";
    f->s_docp[0] = &f->s_doc;
    s->documents = f->s_docp;
    s->n_documents = 1;
    f->s_phones[0] = "+573151112233";
    s->phones = f->s_phones;
    s->n_phones = 1;
    ritra__perpetrator_context__init(&f->perpc);
    f->roles[0] = "RecruiterOrIntermediary";
    f->roles[1] = "Exploiter";
    f->perpc.per_roleinprocess = f->roles;
    f->perpc.n_per_roleinprocess = 2;
    f->perpc.per_roledetails = "Administrador del hotel.\nReclutaba por Instagram.";
    s->perpetrator = &f->perpc;

    ritra__person__init(w);
    w->person_ref = "p3";
    w->role = "Witness";
    w->prs_firstname = "Luz Ángela";
    w->first_surname = "Rodríguez";
    w->prs_birthdate = "1990-07";
    ritra__address__init(&f->w_addr);
    f->w_addr.city = "Quito";
    f->w_addr.country = "EC";
    f->w_addrp[0] = &f->w_addr;
    w->addresses = f->w_addrp;
    w->n_addresses = 1;

    f->perp[0] = v;
    f->perp[1] = s;
    f->perp[2] = w;
    c->persons = f->perp;
    c->n_persons = 3;
}

static bool run(const Ritra__Case *c, struct field_errors *fe)
{
    fe_init(fe);
    return case_validate(c, "case", fe, NOW);
}

static void print_errors(const struct field_errors *fe)
{
    for (size_t i = 0; i < fe->count; i++)
        print_message("  %s: %s\n", fe->items[i].path, fe->items[i].reason);
}

static void test_complete_valid_case_has_no_errors(void **state)
{
    struct field_errors fe;

    (void)state;
    build_valid(&F);
    bool ok = run(&F.c, &fe);
    print_errors(&fe);
    assert_true(ok);
    assert_int_equal(fe.count, 0);
    assert_int_equal(fe.dropped, 0);
}

/* ---- the mutation table ------------------------------------------------ */

static char long_text[20002];

/* A NUL-terminated string of n 'a's (n < sizeof(long_text)). */
static char *text_of(size_t n)
{
    memset(long_text, 'a', n);
    long_text[n] = '\0';
    return long_text;
}

static void m_ext_ref_missing(struct fx *f)
{
    f->c.external_ref = "";
}
static void m_ext_ref_too_long(struct fx *f)
{
    f->c.external_ref = text_of(129);
}
static void m_ext_ref_control(struct fx *f)
{
    f->c.external_ref = "FGN-1\n";
}
static void m_ext_ref_bad_utf8(struct fx *f)
{
    f->c.external_ref = "FGN-\xc3\x28";
}
static void m_status_unknown(struct fx *f)
{
    f->c.cas_status = "Open";
}
static void m_status_missing(struct fx *f)
{
    f->c.cas_status = "";
}
static void m_status_wrong_case(struct fx *f)
{
    f->c.cas_status = "closed";
}
static void m_closure_reason_too_long(struct fx *f)
{
    f->c.cas_reasonforcaseclosure = text_of(4001);
}
static void m_handling_code_bad(struct fx *f)
{
    f->c.handling_code = "H4";
}
static void m_handling_conditions_missing_h3(struct fx *f)
{
    f->c.handling_conditions = "";
}
static void m_source_reliability_missing(struct fx *f)
{
    f->c.source_reliability = NULL;
}
static void m_information_accuracy_bad(struct fx *f)
{
    f->c.information_accuracy = "5";
}
static void m_toe_unknown(struct fx *f)
{
    static char *v[] = {"SexualExploitation", "ForcedLabour", "Other", "Trafficking"};
    f->c.vic_typeofexploitation = v;
    f->c.n_vic_typeofexploitation = NELEM(v);
}
static void m_toe_duplicate(struct fx *f)
{
    static char *v[] = {"SexualExploitation", "ForcedLabour", "SexualExploitation"};
    f->c.vic_typeofexploitation = v;
    f->c.n_vic_typeofexploitation = NELEM(v);
}
static void m_toe_too_many(struct fx *f)
{
    static char *v[33];
    for (size_t i = 0; i < NELEM(v); i++)
        v[i] = "Other";
    f->c.vic_typeofexploitation = v;
    f->c.n_vic_typeofexploitation = NELEM(v);
}
static void m_sexexp_without_sexual(struct fx *f)
{
    f->toe[0] = "ChildLabour";
}
static void m_industry_without_labour(struct fx *f)
{
    f->c.n_vic_typeofexploitation = 1; /* SexualExploitation only */
}
static void m_industry_unknown(struct fx *f)
{
    f->c.vic_forcedlabourindustry = "Agriculture";
}
static void m_control_unknown(struct fx *f)
{
    f->control[1] = "Coercion";
}
static void m_recruit_lowercase(struct fx *f)
{
    f->recruit[0] = "atwork";
}
static void m_summary_too_long(struct fx *f)
{
    f->c.summary = text_of(20001);
}
static void m_event_type_unknown(struct fx *f)
{
    f->ev[1].hte_type = "Transport";
}
static void m_event_type_missing(struct fx *f)
{
    f->ev[0].hte_type = "";
}
static void m_event_month_13(struct fx *f)
{
    f->ev[0].hte_date = "2023-13";
}
static void m_event_future_year(struct fx *f)
{
    f->ev[0].hte_date = "2025";
}
static void m_event_bad_format(struct fx *f)
{
    f->ev[0].hte_date = "15/01/2024";
}
static void m_event_country_alpha3(struct fx *f)
{
    f->ev[0].hte_country = "COL";
}
static void m_event_latitude_range(struct fx *f)
{
    f->geo.latitude = 90.5;
}
static void m_event_longitude_nan(struct fx *f)
{
    f->geo.longitude = NAN;
}
static void m_event_latitude_inf(struct fx *f)
{
    f->geo.latitude = -INFINITY;
}
static void m_event_city_control(struct fx *f)
{
    f->ev[0].hte_city = "Medell\x01n";
}
static void m_too_many_events(struct fx *f)
{
    static Ritra__TraffickingEvent *v[101];
    for (size_t i = 0; i < NELEM(v); i++)
        v[i] = &f->ev[0];
    f->c.events = v;
    f->c.n_events = NELEM(v);
}
static void m_comment_missing(struct fx *f)
{
    f->cm.cco_casecomment = "";
}
static void m_comment_partial_date(struct fx *f)
{
    f->cm.date = "2024-02";
}
static void m_referral_future(struct fx *f)
{
    f->ref.cas_incomingreferraldate = "2030-01-01";
}
static void m_referral_reason_bad(struct fx *f)
{
    f->ref.cas_reasonforoutgoingreferral = "Relocation";
}
static void m_referral_org_too_long(struct fx *f)
{
    f->ref.cas_referredorganisation = text_of(201);
}
static void m_no_persons(struct fx *f)
{
    f->c.n_persons = 0;
}
static void m_person_ref_duplicate(struct fx *f)
{
    f->per[1].person_ref = "p1";
}
static void m_person_ref_missing(struct fx *f)
{
    f->per[0].person_ref = "";
}
static void m_person_ref_too_long(struct fx *f)
{
    f->per[2].person_ref = text_of(65);
}
static void m_role_unknown(struct fx *f)
{
    f->per[2].role = "Informant";
}
static void m_no_name_or_alias(struct fx *f)
{
    f->per[2].prs_firstname = "";
    f->per[2].first_surname = NULL;
}
static void m_first_name_digits(struct fx *f)
{
    f->per[0].prs_firstname = "12345";
}
static void m_middle_name_punctuation(struct fx *f)
{
    f->per[0].prs_middlename = "-";
}
static void m_surname_too_long(struct fx *f)
{
    f->per[0].first_surname = text_of(101);
}
static void m_second_surname_newline(struct fx *f)
{
    f->per[0].second_surname = "de la\nCruz";
}
static void m_alias_duplicate(struct fx *f)
{
    f->s_aliases[1] = "El Flaco";
}
static void m_alias_empty(struct fx *f)
{
    f->s_aliases[0] = "";
}
static void m_aliases_too_many(struct fx *f)
{
    static char *v[21] = {"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "b0",
                          "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", "c0"};
    f->per[1].aliases = v;
    f->per[1].n_aliases = NELEM(v);
}
static void m_sex_bad(struct fx *f)
{
    f->per[0].sex = "F";
}
static void m_gender_bad(struct fx *f)
{
    f->per[0].prs_gender = "Female";
}
static void m_birthdate_not_leap(struct fx *f)
{
    f->per[0].prs_birthdate = "1994-02-29";
}
static void m_birthdate_1899(struct fx *f)
{
    f->per[1].prs_birthdate = "1899";
}
static void m_birthdate_future(struct fx *f)
{
    f->per[2].prs_birthdate = "2024-07";
}
static void m_citizenship_unknown(struct fx *f)
{
    f->v_citizenship[1] = "XX";
}
static void m_citizenship_lowercase(struct fx *f)
{
    f->v_citizenship[0] = "co";
}
static void m_citizenship_duplicate(struct fx *f)
{
    f->v_citizenship[1] = "CO";
}
static void m_citizenship_too_many(struct fx *f)
{
    static char *v[6] = {"CO", "VE", "EC", "PE", "PA", "BR"};
    f->per[0].prs_citizenship = v;
    f->per[0].n_prs_citizenship = NELEM(v);
}
static void m_document_number_charset(struct fx *f)
{
    f->v_doc[0].number = "1020#304";
}
static void m_document_number_missing(struct fx *f)
{
    f->s_doc.number = "";
}
static void m_document_number_only_separators(struct fx *f)
{
    f->s_doc.number = "-./";
}
static void m_document_type_cc(struct fx *f)
{
    f->v_doc[0].type = "CC";
}
static void m_document_country_missing(struct fx *f)
{
    f->v_doc[1].issuing_country = "";
}
static void m_document_duplicate(struct fx *f)
{
    f->v_doc[1].type = "NationalId";
    f->v_doc[1].number = "1020304050"; /* the same cédula without dots */
}
static void m_documents_too_many(struct fx *f)
{
    static Ritra__IdentityDocument *v[11];
    for (size_t i = 0; i < NELEM(v); i++)
        v[i] = &f->v_doc[0];
    f->per[0].documents = v;
    f->per[0].n_documents = NELEM(v);
}
static void m_phone_no_plus(struct fx *f)
{
    f->v_phones[0] = "3001234567";
}
static void m_phone_spaces(struct fx *f)
{
    f->v_phones[1] = "+58 412 1234567";
}
static void m_phones_too_many(struct fx *f)
{
    static char *v[11];
    for (size_t i = 0; i < NELEM(v); i++)
        v[i] = "+573001234567";
    f->per[1].phones = v;
    f->per[1].n_phones = NELEM(v);
}
static void m_address_country_lowercase(struct fx *f)
{
    f->v_addr.country = "co";
}
static void m_address_street_newline(struct fx *f)
{
    f->v_addr.street = "Calle 45\nApto 201";
}
static void m_address_empty(struct fx *f)
{
    f->w_addr.city = "";
    f->w_addr.country = "";
}
static void m_email_no_at(struct fx *f)
{
    f->per[0].prs_email = "maria.example.com";
}
static void m_email_no_dot(struct fx *f)
{
    f->per[0].prs_email = "maria@localhost";
}
static void m_email_space(struct fx *f)
{
    f->per[0].prs_email = "maria munoz@example.com";
}
static void m_victim_context_on_suspect(struct fx *f)
{
    f->per[1].victim = &f->vic;
}
static void m_perpetrator_context_on_witness(struct fx *f)
{
    f->per[2].perpetrator = &f->perpc;
}
static void m_age_over_120(struct fx *f)
{
    f->age.value = 121;
}
static void m_age_negative(struct fx *f)
{
    f->age.value = -1;
}
static void m_trafficking_status_bad(struct fx *f)
{
    f->vic.vic_traffickingstatus = "Victim";
}
static void m_decision_org_bad(struct fx *f)
{
    f->vic.vic_traffickingstatusdecisionmakingorg = "Court";
}
static void m_relationship_dictionary_spelling(struct fx *f)
{
    f->vic.vic_relationshiptotrafficker = "Unacquainted"; /* HTCDS spells it Unaquainted */
}
static void m_vulnerability_duplicate(struct fx *f)
{
    f->vuln[2] = "Poverty";
}
static void m_vulnerabilities_too_many(struct fx *f)
{
    static char *v[17];
    for (size_t i = 0; i < NELEM(v); i++)
        v[i] = "Poverty";
    f->vic.vic_vulnerabilities = v;
    f->vic.n_vic_vulnerabilities = NELEM(v);
}
static void m_consent_without_date(struct fx *f)
{
    f->con.date = "";
}
static void m_consent_without_scope(struct fx *f)
{
    f->con.n_scope = 0;
}
static void m_refusal_with_scope(struct fx *f)
{
    f->con.con_consent = false;
}
static void m_consent_scope_unknown(struct fx *f)
{
    f->scope[1] = "Research";
}
static void m_consent_future_date(struct fx *f)
{
    f->con.date = "2024-12-24";
}
static void m_role_in_process_duplicate(struct fx *f)
{
    f->roles[1] = "RecruiterOrIntermediary";
}
static void m_role_in_process_unknown(struct fx *f)
{
    f->roles[0] = "Boss";
}
static void m_role_details_control(struct fx *f)
{
    f->perpc.per_roledetails = "Administrador\x1b[31m";
}

struct mutation {
    const char *name;
    void (*mutate)(struct fx *f);
    const char *path;
    const char *reason; /* a substring of the expected reason */
};

#define M(fn, path, reason)                                                                        \
    {                                                                                              \
#fn, fn, path, reason                                                                      \
    }

static const struct mutation mutations[] = {
    M(m_ext_ref_missing, "case.external_ref", "required"),
    M(m_ext_ref_too_long, "case.external_ref", "longer than 128 bytes"),
    M(m_ext_ref_control, "case.external_ref", "control character"),
    M(m_ext_ref_bad_utf8, "case.external_ref", "not valid UTF-8"),
    M(m_status_unknown, "case.cas_Status", "not a cas_Status value: \"Open\""),
    M(m_status_missing, "case.cas_Status", "required"),
    M(m_status_wrong_case, "case.cas_Status", "not a cas_Status value: \"closed\""),
    M(m_closure_reason_too_long, "case.cas_ReasonForCaseClosure", "longer than 4000 bytes"),
    M(m_handling_code_bad, "case.handling_code", "not a handling_code value: \"H4\""),
    M(m_handling_conditions_missing_h3, "case.handling_conditions", "required for H3"),
    M(m_source_reliability_missing, "case.source_reliability", "required"),
    M(m_information_accuracy_bad, "case.information_accuracy", "not a information_accuracy"),
    M(m_toe_unknown, "case.vic_TypeOfExploitation[3]", "not a vic_TypeOfExploitation value"),
    M(m_toe_duplicate, "case.vic_TypeOfExploitation[2]", "duplicate value"),
    M(m_toe_too_many, "case.vic_TypeOfExploitation", "more than 32 values"),
    M(m_sexexp_without_sexual, "case.vic_TypeOfSexExploitation", "only with SexualExploitation"),
    M(m_industry_without_labour, "case.vic_ForcedLabourIndustry",
      "only with ForcedLabour or ChildLabour"),
    M(m_industry_unknown, "case.vic_ForcedLabourIndustry", "not a vic_ForcedLabourIndustry"),
    M(m_control_unknown, "case.vic_MethodsOfControl[1]", "not a vic_MethodsOfControl value"),
    M(m_recruit_lowercase, "case.vic_MethodOfRecruitment[0]", "\"atwork\""),
    M(m_summary_too_long, "case.summary", "longer than 20000 bytes"),
    M(m_event_type_unknown, "case.events[1].hte_Type", "not a hte_Type value: \"Transport\""),
    M(m_event_type_missing, "case.events[0].hte_Type", "required"),
    M(m_event_month_13, "case.events[0].hte_Date", "not a calendar date"),
    M(m_event_future_year, "case.events[0].hte_Date", "date in the future"),
    M(m_event_bad_format, "case.events[0].hte_Date", "not a date (YYYY, YYYY-MM or YYYY-MM-DD)"),
    M(m_event_country_alpha3, "case.events[0].hte_Country", "not an ISO 3166-1 alpha-2"),
    M(m_event_latitude_range, "case.events[1].location.latitude", "not a latitude"),
    M(m_event_longitude_nan, "case.events[1].location.longitude", "not a longitude"),
    M(m_event_latitude_inf, "case.events[1].location.latitude", "not a latitude"),
    M(m_event_city_control, "case.events[0].hte_City", "control character"),
    M(m_too_many_events, "case.events", "more than 100 events"),
    M(m_comment_missing, "case.comments[0].cco_CaseComment", "required"),
    M(m_comment_partial_date, "case.comments[0].date", "not a date (YYYY-MM-DD)"),
    M(m_referral_future, "case.referral.cas_IncomingReferralDate", "date in the future"),
    M(m_referral_reason_bad, "case.referral.cas_ReasonForOutgoingReferral",
      "not a cas_ReasonForOutgoingReferral value: \"Relocation\""),
    M(m_referral_org_too_long, "case.referral.cas_ReferredOrganisation", "longer than 200"),
    M(m_no_persons, "case.persons", "at least one person"),
    M(m_person_ref_duplicate, "case.persons[1].person_ref", "duplicate person_ref \"p1\""),
    M(m_person_ref_missing, "case.persons[0].person_ref", "required"),
    M(m_person_ref_too_long, "case.persons[2].person_ref", "longer than 64 bytes"),
    M(m_role_unknown, "case.persons[2].role", "not a role value: \"Informant\""),
    M(m_no_name_or_alias, "case.persons[2]", "a person needs a name or an alias"),
    M(m_first_name_digits, "case.persons[0].prs_FirstName", "must contain a letter"),
    M(m_middle_name_punctuation, "case.persons[0].prs_MiddleName", "must contain a letter"),
    M(m_surname_too_long, "case.persons[0].first_surname", "longer than 100 bytes"),
    M(m_second_surname_newline, "case.persons[0].second_surname", "control character"),
    M(m_alias_duplicate, "case.persons[1].aliases[1]", "duplicate value"),
    M(m_alias_empty, "case.persons[1].aliases[0]", "required"),
    M(m_aliases_too_many, "case.persons[1].aliases", "more than 20 aliases"),
    M(m_sex_bad, "case.persons[0].sex", "not a sex value: \"F\""),
    M(m_gender_bad, "case.persons[0].prs_Gender", "not a prs_Gender value: \"Female\""),
    M(m_birthdate_not_leap, "case.persons[0].prs_Birthdate", "not a calendar date"),
    M(m_birthdate_1899, "case.persons[1].prs_Birthdate", "year before 1900"),
    M(m_birthdate_future, "case.persons[2].prs_Birthdate", "date in the future"),
    M(m_citizenship_unknown, "case.persons[0].prs_Citizenship[1]", "\"XX\""),
    M(m_citizenship_lowercase, "case.persons[0].prs_Citizenship[0]", "not an ISO 3166-1"),
    M(m_citizenship_duplicate, "case.persons[0].prs_Citizenship[1]", "duplicate value"),
    M(m_citizenship_too_many, "case.persons[0].prs_Citizenship", "more than 5 citizenships"),
    M(m_document_number_charset, "case.persons[0].documents[0].number", "only letters, digits"),
    M(m_document_number_missing, "case.persons[1].documents[0].number", "required"),
    M(m_document_number_only_separators, "case.persons[1].documents[0].number",
      "needs a letter or digit"),
    M(m_document_type_cc, "case.persons[0].documents[0].type",
      "not a IdentityDocument.type value: \"CC\""),
    M(m_document_country_missing, "case.persons[0].documents[1].issuing_country", "required"),
    M(m_document_duplicate, "case.persons[0].documents[1]", "duplicate of documents[0]"),
    M(m_documents_too_many, "case.persons[0].documents", "more than 10 documents"),
    M(m_phone_no_plus, "case.persons[0].phones[0]", "not an E.164 phone number"),
    M(m_phone_spaces, "case.persons[0].phones[1]", "not an E.164 phone number"),
    M(m_phones_too_many, "case.persons[1].phones", "more than 10 phones"),
    M(m_address_country_lowercase, "case.persons[0].addresses[0].country", "\"co\""),
    M(m_address_street_newline, "case.persons[0].addresses[0].street", "control character"),
    M(m_address_empty, "case.persons[2].addresses[0]", "at least one field"),
    M(m_email_no_at, "case.persons[0].prs_Email", "not an e-mail address"),
    M(m_email_no_dot, "case.persons[0].prs_Email", "not an e-mail address"),
    M(m_email_space, "case.persons[0].prs_Email", "not an e-mail address"),
    M(m_victim_context_on_suspect, "case.persons[1].victim", "only for role Victim"),
    M(m_perpetrator_context_on_witness, "case.persons[2].perpetrator", "only for role Suspect"),
    M(m_age_over_120, "case.persons[0].victim.vic_AgeWhenTrafficked.value", "not an age"),
    M(m_age_negative, "case.persons[0].victim.vic_AgeWhenTrafficked.value", "not an age"),
    M(m_trafficking_status_bad, "case.persons[0].victim.vic_TraffickingStatus",
      "not a vic_TraffickingStatus value"),
    M(m_decision_org_bad, "case.persons[0].victim.vic_TraffickingStatusDecisionMakingOrg",
      "\"Court\""),
    M(m_relationship_dictionary_spelling, "case.persons[0].victim.vic_RelationshipToTrafficker",
      "\"Unacquainted\""),
    M(m_vulnerability_duplicate, "case.persons[0].victim.vic_Vulnerabilities[2]",
      "duplicate value \"Poverty\""),
    M(m_vulnerabilities_too_many, "case.persons[0].victim.vic_Vulnerabilities",
      "more than 16 values"),
    M(m_consent_without_date, "case.persons[0].victim.consent.date", "required"),
    M(m_consent_without_scope, "case.persons[0].victim.consent.scope", "at least one value"),
    M(m_refusal_with_scope, "case.persons[0].victim.consent.scope", "must be empty"),
    M(m_consent_scope_unknown, "case.persons[0].victim.consent.scope[1]",
      "not a Consent.scope value"),
    M(m_consent_future_date, "case.persons[0].victim.consent.date", "date in the future"),
    M(m_role_in_process_duplicate, "case.persons[1].perpetrator.per_RoleInProcess[1]",
      "duplicate value"),
    M(m_role_in_process_unknown, "case.persons[1].perpetrator.per_RoleInProcess[0]",
      "not a per_RoleInProcess value: \"Boss\""),
    M(m_role_details_control, "case.persons[1].perpetrator.per_RoleDetails", "control character"),
};

static void test_each_mutation_gives_exactly_its_error(void **state)
{
    struct field_errors fe;
    int failures = 0;

    (void)state;
    for (size_t i = 0; i < NELEM(mutations); i++) {
        const struct mutation *m = &mutations[i];
        bool ok;

        build_valid(&F);
        m->mutate(&F);
        ok = run(&F.c, &fe);
        if (ok || fe.count != 1 || fe.dropped != 0 || strcmp(fe.items[0].path, m->path) != 0 ||
            strstr(fe.items[0].reason, m->reason) == NULL) {
            print_error("%s: want %s: ...%s..., got %zu error(s):\n", m->name, m->path, m->reason,
                        fe.count);
            print_errors(&fe);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
    assert_true(NELEM(mutations) >= 45);
}

/* ---- dates ------------------------------------------------------------- */

static void test_dates_partial_and_calendar(void **state)
{
    const char *why;

    (void)state;
    assert_true(case_date_valid("1994", true, NOW, &why));
    assert_true(case_date_valid("1994-03", true, NOW, &why));
    assert_true(case_date_valid("1996-02-29", true, NOW, &why));
    assert_true(case_date_valid("2000-02-29", false, NOW, &why)); /* divisible by 400 */
    assert_true(case_date_valid("1900-01-01", false, NOW, &why));
    assert_true(case_date_valid("2024-04-30", false, NOW, &why));

    assert_false(case_date_valid("1994-02-29", true, NOW, &why));
    assert_string_equal(why, "not a calendar date");
    assert_false(case_date_valid("1900-02-29", false, NOW, &why)); /* divisible by 100 */
    assert_string_equal(why, "not a calendar date");
    assert_false(case_date_valid("2024-04-31", false, NOW, &why));
    assert_false(case_date_valid("2024-00", true, NOW, &why));
    assert_false(case_date_valid("2024-01-00", false, NOW, &why));
    assert_string_equal(why, "not a calendar date");

    assert_false(case_date_valid("1899", true, NOW, &why));
    assert_string_equal(why, "year before 1900");
    assert_false(case_date_valid("1899-12-31", false, NOW, &why));
    assert_string_equal(why, "year before 1900");

    /* partial where a full date is required */
    assert_false(case_date_valid("1994", false, NOW, &why));
    assert_string_equal(why, "not a date (YYYY-MM-DD)");
    assert_false(case_date_valid("1994-03", false, NOW, &why));

    const char *malformed[] = {"",           "94",          "1994-3",   "1994-03-1",
                               "1994/03/01", "1994-03-01T", "+1994",    "19940301",
                               " 1994",      "1994-03-01 ", "１９９４", "1994-0a-01"};
    for (size_t i = 0; i < NELEM(malformed); i++) {
        assert_false(case_date_valid(malformed[i], true, NOW, &why));
        assert_string_equal(why, "not a date (YYYY, YYYY-MM or YYYY-MM-DD)");
    }
    assert_false(case_date_valid(NULL, true, NOW, NULL));
}

static void test_dates_in_the_future(void **state)
{
    const char *why;

    (void)state;
    /* NOW is 2024-06-15T12:00Z; it is already 2024-06-16 in UTC+14. */
    assert_true(case_date_valid("2024-06-15", false, NOW, &why));
    assert_true(case_date_valid("2024-06-16", false, NOW, &why));
    assert_false(case_date_valid("2024-06-17", false, NOW, &why));
    assert_string_equal(why, "date in the future");
    /* a partial date is fine once its first day has begun */
    assert_true(case_date_valid("2024-06", true, NOW, &why));
    assert_true(case_date_valid("2024", true, NOW, &why));
    assert_false(case_date_valid("2024-07", true, NOW, &why));
    assert_string_equal(why, "date in the future");
    assert_false(case_date_valid("2025", true, NOW, &why));
    assert_string_equal(why, "date in the future");
    assert_false(case_date_valid("9999-12-31", false, NOW, &why));
    /* the boundary: 2024-06-16 begins in UTC+14 at 2024-06-15T10:00Z */
    assert_false(case_date_valid("2024-06-16", false, (time_t)1718445600 - 1, &why));
    assert_true(case_date_valid("2024-06-16", false, (time_t)1718445600, &why));
}

/* ---- countries and picklists ------------------------------------------- */

static void test_country_list(void **state)
{
    const char *good[] = {"CO", "VE", "EC", "PE", "BR", "US", "ES", "AX", "BQ", "SS", "ZW"};
    const char *bad[] = {"co", "Co", "XX", "COL", "C",  "",   "UK",
                         "EU", "XK", "AN", "YU",  "C0", "CO "};

    (void)state;
    for (size_t i = 0; i < NELEM(good); i++)
        assert_true(picklist_country_valid(good[i]));
    for (size_t i = 0; i < NELEM(bad); i++)
        assert_false(picklist_country_valid(bad[i]));
    assert_false(picklist_country_valid(NULL));

    assert_int_equal(picklist_country_count(), 249);
    for (size_t i = 0; i < picklist_country_count(); i++) {
        assert_true(picklist_country_valid(picklist_country(i)));
        if (i > 0)
            assert_true(strcmp(picklist_country(i - 1), picklist_country(i)) < 0);
    }
    assert_null(picklist_country(249));
}

static void test_picklists_keep_htcds_names(void **state)
{
    (void)state;
    assert_true(picklist_valid(PICKLIST_RELATIONSHIP_TO_TRAFFICKER, "Unaquainted"));
    assert_false(picklist_valid(PICKLIST_RELATIONSHIP_TO_TRAFFICKER, "Unacquainted"));
    assert_true(picklist_valid(PICKLIST_CAS_STATUS, "Withdrawn"));
    assert_true(picklist_valid(PICKLIST_CAS_STATUS, "ClosedReferred"));
    assert_false(picklist_valid(PICKLIST_CAS_STATUS, "active"));
    assert_false(picklist_valid(PICKLIST_CAS_STATUS, NULL));
    assert_false(picklist_valid(PICKLIST_COUNT, "Active"));
    assert_true(picklist_valid(PICKLIST_FORCED_LABOUR_INDUSTRY,
                               "U_ActivitiesOfExtraterritorialOrganizations"));
    assert_true(picklist_valid(PICKLIST_GENDER, "NonSpecifiedUnknown"));
    assert_string_equal(picklist_name(PICKLIST_CAS_STATUS), "cas_Status");
    assert_string_equal(picklist_name(PICKLIST_COUNT), "?");

    static const size_t sizes[PICKLIST_COUNT] = {
        [PICKLIST_CAS_STATUS] = 5,
        [PICKLIST_TYPE_OF_EXPLOITATION] = 11,
        [PICKLIST_FORCED_LABOUR_INDUSTRY] = 21,
        [PICKLIST_TYPE_OF_SEX_EXPLOITATION] = 4,
        [PICKLIST_METHOD_OF_RECRUITMENT] = 10,
        [PICKLIST_METHODS_OF_CONTROL] = 16,
        [PICKLIST_HTE_TYPE] = 3,
        [PICKLIST_GENDER] = 6,
        [PICKLIST_TRAFFICKING_STATUS] = 3,
        [PICKLIST_TRAFFICKING_STATUS_DECISION_MAKING_ORG] = 5,
        [PICKLIST_RELATIONSHIP_TO_TRAFFICKER] = 3,
        [PICKLIST_VULNERABILITIES] = 12,
        [PICKLIST_ROLE_IN_PROCESS] = 15,
        [PICKLIST_REASON_FOR_INCOMING_REFERRAL] = 3,
        [PICKLIST_REASON_FOR_OUTGOING_REFERRAL] = 3,
        [PICKLIST_ROLE] = 4,
        [PICKLIST_SEX] = 4,
        [PICKLIST_HANDLING_CODE] = 4,
        [PICKLIST_SOURCE_RELIABILITY] = 4,
        [PICKLIST_INFORMATION_ACCURACY] = 4,
        [PICKLIST_DOCUMENT_TYPE] = 7,
        [PICKLIST_CONSENT_SCOPE] = 3,
    };
    for (int w = 0; w < PICKLIST_COUNT; w++) {
        assert_int_equal(picklist_size((enum picklist)w), sizes[w]);
        assert_string_not_equal(picklist_name((enum picklist)w), "?");
        for (size_t i = 0; i < sizes[w]; i++) {
            const char *v = picklist_value((enum picklist)w, i);
            assert_non_null(v);
            assert_true(picklist_valid((enum picklist)w, v));
            for (size_t j = 0; j < i; j++) /* no list repeats a value */
                assert_string_not_equal(picklist_value((enum picklist)w, j), v);
        }
        assert_null(picklist_value((enum picklist)w, sizes[w]));
    }
    assert_int_equal(picklist_size(PICKLIST_COUNT), 0);
    assert_null(picklist_value(PICKLIST_COUNT, 0));
}

/* ---- phones, names ----------------------------------------------------- */

static size_t errors_with_phone(const char *phone)
{
    struct field_errors fe;
    static char *one[1];

    build_valid(&F);
    one[0] = (char *)phone;
    F.per[1].phones = one;
    F.per[1].n_phones = 1;
    run(&F.c, &fe);
    if (fe.count == 1)
        assert_string_equal(fe.items[0].path, "case.persons[1].phones[0]");
    return fe.count;
}

static void test_e164_edges(void **state)
{
    const char *good[] = {"+573001234567", "+1234567",      "+123456789012345",
                          "+12025550123",  "+593991234567", "+9000000"};
    const char *bad[] = {"+123456",
                         "+1234567890123456",
                         "+0573001234567",
                         "573001234567",
                         "+",
                         "",
                         "+57 3001234567",
                         "+57-300-1234567",
                         "++573001234567",
                         "+57300123456a",
                         "+57(300)1234567",
                         "00573001234567",
                         "+５７３００１２３４５６７",
                         "+573001234567\n"};

    (void)state;
    for (size_t i = 0; i < NELEM(good); i++)
        assert_int_equal(errors_with_phone(good[i]), 0);
    for (size_t i = 0; i < NELEM(bad); i++)
        assert_int_equal(errors_with_phone(bad[i]), 1);
}

static size_t errors_with_first_name(const char *name)
{
    struct field_errors fe;

    build_valid(&F);
    F.per[2].prs_firstname = (char *)name;
    run(&F.c, &fe);
    return fe.count;
}

static void test_names_need_a_letter_in_any_script(void **state)
{
    const char *good[] = {"María José", "Ñ",    "O'Brien", "Jean-Luc", "Zoë",
                          "Иван",       "محمد", "李",      "Øystein",  "Nguyễn"};
    const char *bad[] = {"123", "-", "..", "😀", "— ·", "\xcc\x81" /* lone combining acute */};

    (void)state;
    for (size_t i = 0; i < NELEM(good); i++)
        assert_int_equal(errors_with_first_name(good[i]), 0);
    for (size_t i = 0; i < NELEM(bad); i++)
        assert_int_equal(errors_with_first_name(bad[i]), 1);
}

/* ---- size limits and error handling ------------------------------------ */

static void test_250_persons_is_one_error_at_persons(void **state)
{
    static Ritra__Person *many[250];
    struct field_errors fe;

    (void)state;
    build_valid(&F);
    for (size_t i = 0; i < NELEM(many); i++)
        many[i] = &F.per[2];
    F.c.persons = many;
    F.c.n_persons = NELEM(many);
    assert_false(run(&F.c, &fe));
    assert_int_equal(fe.count, 1);
    assert_string_equal(fe.items[0].path, "case.persons");
    assert_string_equal(fe.items[0].reason, "more than 200 persons");

    /* exactly the maximum passes, given distinct person_refs */
    static Ritra__Person people[CASE_MAX_PERSONS];
    static char refs[CASE_MAX_PERSONS][8];
    for (size_t i = 0; i < CASE_MAX_PERSONS; i++) {
        people[i] = F.per[2];
        snprintf(refs[i], sizeof(refs[i]), "w%zu", i);
        people[i].person_ref = refs[i];
        many[i] = &people[i];
    }
    F.c.n_persons = CASE_MAX_PERSONS;
    assert_true(run(&F.c, &fe));
}

static void test_a_full_error_list_counts_the_rest(void **state)
{
    static Ritra__Person *many[CASE_MAX_PERSONS];
    struct field_errors fe;

    (void)state;
    build_valid(&F);
    F.per[2].role = "Nobody";
    for (size_t i = 0; i < NELEM(many); i++)
        many[i] = &F.per[2];
    F.c.persons = many;
    F.c.n_persons = NELEM(many);
    /* 200 bad roles + 199 duplicate refs: the list fills, the rest is counted */
    assert_false(run(&F.c, &fe));
    assert_int_equal(fe.count, VALIDATE_MAX_ERRORS);
    assert_int_equal(fe.count + fe.dropped, 200 + 199);
}

static void test_prefix_and_null_case(void **state)
{
    struct field_errors fe;

    (void)state;
    build_valid(&F);
    F.per[0].role = "";
    fe_init(&fe);
    assert_false(case_validate(&F.c, NULL, &fe, NOW));
    assert_int_equal(fe.count, 1);
    assert_string_equal(fe.items[0].path, "persons[0].role");

    fe_init(&fe);
    assert_false(case_validate(&F.c, "submit_cases.items[3].case", &fe, NOW));
    assert_string_equal(fe.items[0].path, "submit_cases.items[3].case.persons[0].role");

    fe_init(&fe);
    assert_false(case_validate(NULL, "case", &fe, NOW));
    assert_int_equal(fe.count, 1);
    assert_string_equal(fe.items[0].path, "case");
}

static void test_echoed_values_stay_valid_utf8(void **state)
{
    struct field_errors fe;

    (void)state;
    build_valid(&F);
    F.c.cas_status = "\xff\"Ab\xc3\xa9\x01\xe2\x82";
    assert_false(run(&F.c, &fe));
    assert_int_equal(fe.count, 1);
    assert_true(utf8_valid(fe.items[0].reason, strlen(fe.items[0].reason)));
    assert_string_equal(fe.items[0].reason,
                        "not a cas_Status value: \"\\xff\\\"Abé\\x01\\xe2\\x82\"");

    /* a long value is cut on a character boundary */
    build_valid(&F);
    F.c.cas_status = "ñññññññññññññññññññññññññññññññññññññññññññññññññññññññññññ";
    assert_false(run(&F.c, &fe));
    assert_true(utf8_valid(fe.items[0].reason, strlen(fe.items[0].reason)));
    assert_non_null(strstr(fe.items[0].reason, "...\""));
}

static void test_missing_arrays_are_errors_not_crashes(void **state)
{
    struct field_errors fe;

    (void)state;
    build_valid(&F);
    F.c.vic_methodsofcontrol = NULL; /* n stays 3 */
    F.v_docp[1] = NULL;
    assert_false(run(&F.c, &fe));
    assert_int_equal(fe.count, 2);
    assert_string_equal(fe.items[0].path, "case.vic_MethodsOfControl");
    assert_string_equal(fe.items[1].path, "case.persons[0].documents[1]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_valid_case_has_no_errors),
        cmocka_unit_test(test_each_mutation_gives_exactly_its_error),
        cmocka_unit_test(test_dates_partial_and_calendar),
        cmocka_unit_test(test_dates_in_the_future),
        cmocka_unit_test(test_country_list),
        cmocka_unit_test(test_picklists_keep_htcds_names),
        cmocka_unit_test(test_e164_edges),
        cmocka_unit_test(test_names_need_a_letter_in_any_script),
        cmocka_unit_test(test_250_persons_is_one_error_at_persons),
        cmocka_unit_test(test_a_full_error_list_counts_the_rest),
        cmocka_unit_test(test_prefix_and_null_case),
        cmocka_unit_test(test_echoed_values_stay_valid_utf8),
        cmocka_unit_test(test_missing_arrays_are_errors_not_crashes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
