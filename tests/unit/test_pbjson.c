/*
 * Unit tests for client-lib/pbjson.c and jsontext.c: a full Case survives
 * JSON -> protobuf -> JSON -> protobuf byte for byte, defaults are left
 * out, and every kind of bad input is refused with its path and reason.
 * Links only pbjson, jsontext, the generated protobuf code, protobuf-c and
 * json-c.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsontext.h"
#include "pbjson.h"
#include "ritra.pb-c.h"

/* Every field of Case and of every message inside it is set (checked by
 * every_field_set below), with Spanish text that needs UTF-8; the second
 * event and person are sparse. */
static const char full_case[] =
    "{\"case_id\": \"0b9c6f0e-3d5a-4c1e-9d7b-2f1a8e4c5b6d\", \"owner_agency\": \"FGN\","
    " \"version\": 9223372036854775807, \"created_at\": \"2024-03-01T10:00:00Z\","
    " \"updated_at\": \"2024-03-02T11:30:00Z\", \"external_ref\": \"FGN-2024-000123\","
    " \"cas_Status\": \"ClosedReferred\", \"cas_ReasonForCaseClosure\": \"Remitido a la Fiscalía "
    "seccional de Cúcuta\", \"handling_code\": \"H3\","
    " \"handling_conditions\": \"Sólo fiscales asignados\", \"source_reliability\": \"B\","
    " \"information_accuracy\": \"2\", \"vic_TypeOfExploitation\": [\"ForcedLabour\","
    " \"SexualExploitation\"], \"vic_ForcedLabourIndustry\": \"Agricultura\","
    " \"vic_TypeOfSexExploitation\": [\"Prostitution\"], \"vic_MethodOfRecruitment\":"
    " [\"FalseJobOffer\", \"Internet\"], \"vic_MethodsOfControl\": [\"Debt\", \"Threats\"],"
    " \"summary\": \"Menor reclutada en Bogotá con una oferta de empleo falsa; trasladada a "
    "Cartagena.\", \"summary_sensitive\": true,"
    " \"events\": [{\"hte_Type\": \"Recruitment\", \"hte_Date\": \"2023-11\","
    " \"hte_Country\": \"CO\", \"hte_State\": \"Bogotá D.C.\", \"hte_City\": \"Bogotá\","
    " \"hte_Street\": \"Calle 26 # 13-19\", \"hte_PostalCode\": \"110311\","
    " \"location\": {\"latitude\": 4.6097, \"longitude\": -74.0817},"
    " \"hte_Description\": \"Contacto por redes sociales\", \"description_sensitive\": true},"
    " {\"hte_Type\": \"Exploitation\", \"hte_Country\": \"CO\", \"hte_City\": \"Cartagena de "
    "Indias\", \"location\": {\"latitude\": 10.391, \"longitude\": -75.4794}}],"
    " \"comments\": [{\"cco_CaseComment\": \"Declaración tomada en presencia de la defensora\","
    " \"date\": \"2024-03-02\", \"sensitive\": true}],"
    " \"referral\": {\"cas_ReferringOrganisation\": \"Policía Nacional\","
    " \"cas_IncomingReferralDate\": \"2024-02-28\", \"cas_ReasonForIncomingReferral\": "
    "\"Denuncia\", \"cas_IncomingReferralDetails\": \"Oficio 123\","
    " \"cas_ReferredOrganisation\": \"ICBF\", \"cas_OutgoingReferralDate\": \"2024-03-02\","
    " \"cas_ReasonForOutgoingReferral\": \"Protección\", \"cas_OutgoingReferralDetails\": "
    "\"Oficio 456\"},"
    " \"persons\": [{\"person_ref\": \"P1\", \"role\": \"Victim\", \"prs_FirstName\": \"María "
    "José\", \"prs_MiddleName\": \"Inés\", \"first_surname\": \"de la Cruz\","
    " \"second_surname\": \"Peña\", \"aliases\": [\"Majo\", \"La Niña\"], \"sex\": \"Female\","
    " \"prs_Gender\": \"Mujer\", \"prs_Birthdate\": \"2008-05\", \"prs_Citizenship\": [\"CO\","
    " \"VE\"], \"documents\": [{\"type\": \"NationalId\", \"number\": \"1.023.456.789\","
    " \"issuing_country\": \"CO\"}], \"phones\": [\"+573001234567\"],"
    " \"addresses\": [{\"street\": \"Carrera 7 # 32-16\", \"city\": \"Bogotá\","
    " \"state\": \"Cundinamarca\", \"postal_code\": \"110311\", \"country\": \"CO\"}],"
    " \"prs_Email\": \"majo@ejemplo.co\", \"victim\": {\"vic_TraffickingStatus\": "
    "\"Confirmed\", \"vic_TraffickingStatusDecisionMakingOrg\": \"Fiscalía\","
    " \"vic_RelationshipToTrafficker\": \"Conocido\", \"vic_AgeWhenTrafficked\": {\"value\": 15},"
    " \"vic_Vulnerabilities\": [\"Minor\", \"Migrant\"], \"consent\": {\"con_Consent\": true,"
    " \"scope\": [\"ShareWithAgencies\", \"Statistics\"], \"date\": \"2024-03-02\"}},"
    " \"perpetrator\": {\"per_RoleInProcess\": [\"Recruiter\"], \"per_RoleDetails\": "
    "\"Ninguno\"}},"
    " {\"person_ref\": \"P2\", \"role\": \"Suspect\", \"prs_FirstName\": \"Nicolás\","
    " \"first_surname\": \"Muñoz\", \"perpetrator\": {\"per_RoleInProcess\": [\"Recruiter\","
    " \"Transporter\"], \"per_RoleDetails\": \"Conductor del bus\"}}],"
    " \"h3_allow_hits\": true}";

/* ---- helpers ---- */

static struct json_object *parse(const char *text)
{
    char why[256];
    struct json_object *j = jsontext_parse(text, strlen(text), why, sizeof(why));

    if (j == NULL)
        fail_msg("parse failed: %s", why);
    return j;
}

static ProtobufCMessage *to_msg(const ProtobufCMessageDescriptor *d, const char *text)
{
    struct json_object *j = parse(text);
    struct pbjson_error err;
    ProtobufCMessage *m = NULL;

    if (pbjson_to_message(d, j, &m, &err) < 0)
        fail_msg("to_message: %s: %s", err.path, err.reason);
    json_object_put(j);
    return m;
}

/* The JSON text of msg, compact; the caller frees it. */
static char *to_text(const ProtobufCMessage *m)
{
    struct json_object *j = NULL;
    struct pbjson_error err;
    char *s;

    if (pbjson_from_message(m, &j, &err) < 0)
        fail_msg("from_message: %s: %s", err.path, err.reason);
    s = strdup(
        json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(j);
    assert_non_null(s);
    return s;
}

static uint8_t *packed(const ProtobufCMessage *m, size_t *len)
{
    uint8_t *buf;

    *len = protobuf_c_message_get_packed_size(m);
    buf = malloc(*len ? *len : 1);
    assert_non_null(buf);
    assert_int_equal(protobuf_c_message_pack(m, buf), *len);
    return buf;
}

/* Whether every field of m, and recursively of its messages (the first
 * element of a repeated one), holds something other than its default. */
static int every_field_set(const ProtobufCMessage *m, char *missing, size_t size)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;

    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *slot = (const char *)m + f->offset;

        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);

            if (n == 0)
                goto unset;
            /* The first element is complete; later ones may be sparse. */
            if (f->type == PROTOBUF_C_TYPE_MESSAGE &&
                !every_field_set((*(ProtobufCMessage *const *const *)slot)[0], missing, size))
                return 0;
            continue;
        }
        switch (f->type) {
        case PROTOBUF_C_TYPE_STRING:
            if ((*(char *const *)slot)[0] == '\0')
                goto unset;
            break;
        case PROTOBUF_C_TYPE_MESSAGE:
            if (*(ProtobufCMessage *const *)slot == NULL)
                goto unset;
            if (!every_field_set(*(ProtobufCMessage *const *)slot, missing, size))
                return 0;
            break;
        case PROTOBUF_C_TYPE_BOOL:
            if (!*(const protobuf_c_boolean *)slot)
                goto unset;
            break;
        case PROTOBUF_C_TYPE_INT64:
            if (*(const int64_t *)slot == 0)
                goto unset;
            break;
        case PROTOBUF_C_TYPE_INT32:
            if (*(const int32_t *)slot == 0)
                goto unset;
            break;
        case PROTOBUF_C_TYPE_DOUBLE:
            if (*(const double *)slot == 0)
                goto unset;
            break;
        default:
            snprintf(missing, size, "%s.%s (type not covered by this test)", d->name, f->name);
            return 0;
        }
        continue;
    unset:
        snprintf(missing, size, "%s.%s", d->name, f->name);
        return 0;
    }
    return 1;
}

/* Asserts that text, as a message of type d, is refused at path for reason. */
static void assert_refused(const ProtobufCMessageDescriptor *d, const char *text, const char *path,
                           const char *reason)
{
    struct json_object *j = parse(text);
    struct pbjson_error err;
    ProtobufCMessage *m = (ProtobufCMessage *)1;

    assert_int_equal(pbjson_to_message(d, j, &m, &err), -1);
    assert_null(m);
    assert_string_equal(err.path, path);
    if (strstr(err.reason, reason) == NULL)
        fail_msg("reason \"%s\" lacks \"%s\"", err.reason, reason);
    json_object_put(j);
}

static void assert_parse_refused(const char *text, size_t len, const char *reason)
{
    char why[256];
    struct json_object *j = jsontext_parse(text, len, why, sizeof(why));

    assert_null(j);
    if (strstr(why, reason) == NULL)
        fail_msg("\"%s\" lacks \"%s\"", why, reason);
}

/* ---- round trips ---- */

static void test_full_case_round_trips_byte_for_byte(void **state)
{
    ProtobufCMessage *m1, *m2;
    char *json1, *json2, missing[128] = "";
    uint8_t *b1, *b2;
    size_t l1, l2;
    const Ritra__Case *c;

    (void)state;
    m1 = to_msg(&ritra__case__descriptor, full_case);
    if (!every_field_set(m1, missing, sizeof(missing)))
        fail_msg("the fixture leaves %s unset", missing);
    c = (const Ritra__Case *)m1;
    assert_string_equal(c->persons[0]->prs_firstname, "María José");
    assert_string_equal(c->persons[0]->first_surname, "de la Cruz");
    assert_int_equal(c->persons[0]->victim->vic_agewhentrafficked->value, 15);
    assert_true(c->events[0]->location->latitude == 4.6097);
    assert_int_equal(c->version, INT64_MAX);

    json1 = to_text(m1);
    m2 = to_msg(&ritra__case__descriptor, json1);
    json2 = to_text(m2);
    assert_string_equal(json1, json2);
    /* Doubles print in their shortest exact form, names stay UTF-8. */
    assert_non_null(strstr(json1, "\"latitude\":4.6097,"));
    assert_non_null(strstr(json1, "\"prs_FirstName\":\"María José\""));

    b1 = packed(m1, &l1);
    b2 = packed(m2, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(b1, b2, l1);
    free(b1);
    free(b2);
    free(json1);
    free(json2);
    protobuf_c_message_free_unpacked(m1, NULL);
    protobuf_c_message_free_unpacked(m2, NULL);
}

static void test_defaults_are_left_out(void **state)
{
    Ritra__Case empty = RITRA__CASE__INIT;
    Ritra__Person person = RITRA__PERSON__INIT;
    Ritra__Person *persons[] = {&person};
    Ritra__GeoPoint origin = RITRA__GEO_POINT__INIT;
    Ritra__TraffickingEvent ev = RITRA__TRAFFICKING_EVENT__INIT;
    Ritra__TraffickingEvent *evs[] = {&ev};
    char *s;

    (void)state;
    s = to_text(&empty.base);
    assert_string_equal(s, "{}");
    free(s);
    /* A present but empty message is written: it packs differently. */
    empty.n_persons = 1;
    empty.persons = persons;
    ev.location = &origin;
    empty.n_events = 1;
    empty.events = evs;
    s = to_text(&empty.base);
    assert_string_equal(s, "{\"events\":[{\"location\":{}}],\"persons\":[{}]}");
    free(s);
}

static void test_enums_oneofs_and_64_bit_integers(void **state)
{
    Ritra__Response *resp;
    Ritra__Request *req;
    char *s;

    (void)state;
    resp = (Ritra__Response *)to_msg(
        &ritra__response__descriptor,
        "{\"id\": 18446744073709551615, \"status\": {\"code\": \"FAILED_PRECONDITION\","
        " \"message\": \"versión\", \"details\": [{\"path\": \"submit_case.expected_version\","
        " \"reason\": \"current version is 3\"}]}, \"submit_case\": {\"version\": 3}}");
    assert_true(resp->id == UINT64_MAX);
    assert_int_equal(resp->status->code, RITRA__STATUS_CODE__FAILED_PRECONDITION);
    assert_int_equal(resp->result_case, RITRA__RESPONSE__RESULT_SUBMIT_CASE);
    s = to_text(&resp->base);
    assert_string_equal(s, "{\"id\":18446744073709551615,\"status\":{\"code\":"
                           "\"FAILED_PRECONDITION\",\"message\":\"versión\",\"details\":[{"
                           "\"path\":\"submit_case.expected_version\",\"reason\":\"current "
                           "version is 3\"}]},\"submit_case\":{\"version\":3}}");
    free(s);
    protobuf_c_message_free_unpacked(&resp->base, NULL);

    /* The selected member is written even when it is an empty message. */
    req = (Ritra__Request *)to_msg(&ritra__request__descriptor, "{\"ping\": {}}");
    assert_int_equal(req->op_case, RITRA__REQUEST__OP_PING);
    s = to_text(&req->base);
    assert_string_equal(s, "{\"ping\":{}}");
    free(s);
    protobuf_c_message_free_unpacked(&req->base, NULL);

    /* Negative int64 at the limit. */
    resp = (Ritra__Response *)to_msg(&ritra__response__descriptor,
                                     "{\"submit_case\": {\"version\": -9223372036854775808}}");
    assert_true(resp->submit_case->version == INT64_MIN);
    protobuf_c_message_free_unpacked(&resp->base, NULL);
}

static void test_null_means_absent(void **state)
{
    Ritra__Case *c;

    (void)state;
    c = (Ritra__Case *)to_msg(&ritra__case__descriptor,
                              "{\"external_ref\": null, \"referral\": null, \"persons\": null}");
    assert_string_equal(c->external_ref, "");
    assert_null(c->referral);
    assert_int_equal(c->n_persons, 0);
    protobuf_c_message_free_unpacked(&c->base, NULL);
}

/* ---- refusals ---- */

static void test_unknown_fields_are_refused_with_their_path(void **state)
{
    (void)state;
    assert_refused(&ritra__case__descriptor,
                   "{\"persons\": [{\"prs_FirstName\": \"Ana\"}, {\"prs_Frist_Name\": \"Luis\"}]}",
                   "persons[1].prs_Frist_Name", "unknown field");
    assert_refused(&ritra__case__descriptor, "{\"casStatus\": \"Active\"}", "casStatus",
                   "unknown field");
    /* Names are exact: the C member name is not the field name. */
    assert_refused(&ritra__case__descriptor, "{\"cas_status\": \"Active\"}", "cas_status",
                   "unknown field");
}

static void test_wrong_types_are_refused(void **state)
{
    const ProtobufCMessageDescriptor *c = &ritra__case__descriptor;

    (void)state;
    assert_refused(c, "[]", "", "expected an object, got an array");
    assert_refused(c, "{\"external_ref\": 12}", "external_ref", "expected a string, got 12");
    assert_refused(c, "{\"summary_sensitive\": \"true\"}", "summary_sensitive",
                   "expected true or false, got a string");
    assert_refused(c, "{\"version\": 1.5}", "version", "expected an integer, got 1.5");
    assert_refused(c, "{\"version\": 2.0}", "version", "expected an integer");
    assert_refused(c, "{\"version\": \"3\"}", "version", "expected an integer, got a string");
    assert_refused(c, "{\"persons\": {}}", "persons", "expected an array, got an object");
    assert_refused(c, "{\"referral\": []}", "referral", "expected an object, got an array");
    assert_refused(c, "{\"vic_MethodsOfControl\": [\"Debt\", 7]}", "vic_MethodsOfControl[1]",
                   "expected a string, got 7");
    assert_refused(c, "{\"vic_MethodsOfControl\": [\"Debt\", null]}", "vic_MethodsOfControl[1]",
                   "null is not allowed");
    assert_refused(c, "{\"events\": [{\"location\": {\"latitude\": \"4.6\"}}]}",
                   "events[0].location.latitude", "expected a number, got a string");
    assert_refused(c, "{\"summary\": \"a\\u0000b\"}", "summary", "NUL");
}

static void test_out_of_range_numbers_are_refused(void **state)
{
    const ProtobufCMessageDescriptor *c = &ritra__case__descriptor;

    (void)state;
    assert_refused(c,
                   "{\"persons\": [{\"victim\": {\"vic_AgeWhenTrafficked\": {\"value\": "
                   "2147483648}}}]}",
                   "persons[0].victim.vic_AgeWhenTrafficked.value", "out of range for int32");
    assert_refused(c, "{\"version\": 9223372036854775808}", "version", "out of range for int64");
    assert_refused(&ritra__list_cases_request__descriptor, "{\"page_size\": -1}", "page_size",
                   "out of range for uint32");
    assert_refused(&ritra__list_cases_request__descriptor, "{\"page_size\": 4294967296}",
                   "page_size", "out of range for uint32");
    assert_refused(&ritra__request__descriptor, "{\"id\": -1}", "id", "out of range for uint64");
    assert_refused(c, "{\"events\": [{\"location\": {\"latitude\": 1e400}}]}",
                   "events[0].location.latitude", "not a finite number");
}

static void test_non_finite_doubles_are_refused_both_ways(void **state)
{
    Ritra__GeoPoint p = RITRA__GEO_POINT__INIT;
    struct json_object *o = json_object_new_object(), *j = NULL;
    ProtobufCMessage *m = NULL;
    struct pbjson_error err;

    (void)state;
    json_object_object_add(o, "longitude", json_object_new_double(NAN));
    assert_int_equal(pbjson_to_message(&ritra__geo_point__descriptor, o, &m, &err), -1);
    assert_string_equal(err.path, "longitude");
    json_object_put(o);

    p.latitude = INFINITY;
    assert_int_equal(pbjson_from_message(&p.base, &j, &err), -1);
    assert_null(j);
    assert_string_equal(err.path, "latitude");
    assert_non_null(strstr(err.reason, "not a finite number"));
}

static void test_invalid_utf8_is_refused_both_ways(void **state)
{
    /* Overlong "/", a lone surrogate, a code point past U+10FFFF. */
    static const char *const bad[] = {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80"};
    Ritra__Address a = RITRA__ADDRESS__INIT;
    struct json_object *j;
    ProtobufCMessage *m = NULL;
    struct pbjson_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct json_object *o = json_object_new_object();

        json_object_object_add(o, "city", json_object_new_string(bad[i]));
        assert_int_equal(pbjson_to_message(&ritra__address__descriptor, o, &m, &err), -1);
        assert_string_equal(err.path, "city");
        assert_string_equal(err.reason, "is not valid UTF-8");
        json_object_put(o);

        a.city = (char *)bad[i];
        j = NULL;
        assert_int_equal(pbjson_from_message(&a.base, &j, &err), -1);
        assert_null(j);
        assert_string_equal(err.path, "city");
    }
    a.city = "Bogot\xC3\xA1 \xF0\x9F\x98\x80";
    assert_int_equal(pbjson_from_message(&a.base, &j, &err), 0);
    json_object_put(j);
}

static void test_enum_names_only(void **state)
{
    const ProtobufCMessageDescriptor *s = &ritra__status__descriptor;

    (void)state;
    assert_refused(s, "{\"code\": \"NOPE\"}", "code",
                   "\"NOPE\" is not a value of ritra.StatusCode");
    assert_refused(s, "{\"code\": 3}", "code", "expected a string naming a value, got 3");
}

static void test_second_oneof_member_is_refused(void **state)
{
    (void)state;
    assert_refused(&ritra__request__descriptor, "{\"ping\": {}, \"get_case\": {}}", "get_case",
                   "conflicts with \"ping\"");
}

static void test_depth_beyond_16_is_refused(void **state)
{
    char text[256];
    size_t n = 0;

    (void)state;
    /* Depth 1 is the Case object, 2 the persons array, 3 the person, 4 the
     * aliases array; 13 more arrays make 17. */
    n += (size_t)snprintf(text + n, sizeof(text) - n, "{\"persons\": [{\"aliases\": [");
    for (int i = 0; i < 13; i++)
        text[n++] = '[';
    for (int i = 0; i < 13; i++)
        text[n++] = ']';
    snprintf(text + n, sizeof(text) - n, "]}]}");
    assert_refused(&ritra__case__descriptor, text,
                   "persons[0].aliases[0][0][0][0][0][0][0][0][0][0][0][0][0]",
                   "nested deeper than 16 levels");
}

/* ---- strict parsing ---- */

static void test_parser_is_strict(void **state)
{
    static const char bad_utf8[] = "{\"summary\": \"\xC3\x28\"}";
    char why[256];
    struct json_object *j;

    (void)state;
    assert_parse_refused("{\"a\": 1} x", 10, "line 1, column 10: ");
    assert_parse_refused("{\"a\": 1,}", 9, "line 1");
    assert_parse_refused("{\n  // note\n  \"a\": 1}", 21, "line 2");
    assert_parse_refused("{'a': 1}", 8, "line 1");
    assert_parse_refused("{\"a\": NaN}", 10, "line 1, column 7: unexpected character");
    assert_parse_refused("{\"a\": -Infinity}", 16, "unexpected character");
    assert_parse_refused("[nan]", 5, "unexpected word");
    assert_parse_refused("{\"a\": \"tab\there\"}", 16, "control character in a string");
    assert_parse_refused("[\"\\ud800\"]", 10, "unpaired surrogate");
    assert_parse_refused("[\"\\ude00\\ud800\"]", 16, "unpaired surrogate");
    assert_parse_refused("{\"a\": 1", 7, "unexpected end");
    assert_parse_refused(bad_utf8, sizeof(bad_utf8) - 1, "line 1");
    assert_parse_refused("{\"a\":\n 18446744073709551616}", 28,
                         "line 2, column 2: integer out of the 64-bit range");
    assert_parse_refused("[-9223372036854775809]", 22, "integer out of the 64-bit range");
    /* Digits inside strings are text, not numbers. */
    j = jsontext_parse("{\"a\": \"99999999999999999999999\", \"b\": 18446744073709551615}", 59, why,
                       sizeof(why));
    assert_non_null(j);
    json_object_put(j);
    j = jsontext_parse("[\"\\ud83d\\ude00\"]", 16, why, sizeof(why));
    assert_non_null(j);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(j, 0)),
                        "\xF0\x9F\x98\x80");
    json_object_put(j);
    j = jsontext_parse("\n  7  \n", 7, why, sizeof(why));
    assert_non_null(j);
    assert_int_equal(json_object_get_int(j), 7);
    json_object_put(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_case_round_trips_byte_for_byte),
        cmocka_unit_test(test_defaults_are_left_out),
        cmocka_unit_test(test_enums_oneofs_and_64_bit_integers),
        cmocka_unit_test(test_null_means_absent),
        cmocka_unit_test(test_unknown_fields_are_refused_with_their_path),
        cmocka_unit_test(test_wrong_types_are_refused),
        cmocka_unit_test(test_out_of_range_numbers_are_refused),
        cmocka_unit_test(test_non_finite_doubles_are_refused_both_ways),
        cmocka_unit_test(test_invalid_utf8_is_refused_both_ways),
        cmocka_unit_test(test_enum_names_only),
        cmocka_unit_test(test_second_oneof_member_is_refused),
        cmocka_unit_test(test_depth_beyond_16_is_refused),
        cmocka_unit_test(test_parser_is_strict),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
