/* server/match on its own, part 2: weights, decisions and the rules that
 * keep relatives apart, frequency weighting, explanations, blocking keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "score.h"

#include "match_people.h"

static void score(const struct person *a, const struct person *b, const struct score_freq *freq,
                  struct score_result *r)
{
    struct score_config cfg;
    struct cmp_record *ra = cmp_record_new(&a->p), *rb = cmp_record_new(&b->p);
    char why[512];

    assert_non_null(ra);
    assert_non_null(rb);
    score_config_default(&cfg);
    score_pair(&cfg, freq, ra, rb, r);
    score_explain(r, why, sizeof(why));
    print_message("    %s\n", why);
    cmp_record_free(ra);
    cmp_record_free(rb);
}

/* ---- scoring and decisions */

static void test_maria_jose_pair_is_possible_without_and_match_with_a_document(void **state)
{
    struct person a, b;
    struct score_result r;

    (void)state;
    person(&a, "María José", "Muñoz", "de la Cruz", "1994-03-07");
    person(&b, "Maria", "Munoz", "Cruz", "1994-07-03");
    score(&a, &b, NULL, &r);
    assert_true(r.cls >= SCORE_POSSIBLE_MATCH);
    assert_int_equal(r.item[SCORE_BIRTHDATE].level, BDATE_SWAPPED);
    with_doc(&a, "NationalId", "1.020.304.050", "CO");
    with_doc(&b, "NationalId", "1020304050", "CO");
    score(&a, &b, NULL, &r);
    assert_int_equal(r.cls, SCORE_MATCH);
    assert_int_equal(r.caps, 0);
}

static void test_pepe_and_jose_with_one_birth_date_match(void **state)
{
    struct person a, b;
    struct score_result r;

    (void)state;
    person(&a, "José", "Rodríguez", "Gómez", "1980-05-12");
    person(&b, "PEPE", "RODRIGUEZ", "GOMEZ", "1980-05-12");
    score(&a, &b, NULL, &r);
    assert_int_equal(r.item[SCORE_GIVEN].level, CMP_GIVEN_NICKNAME);
    assert_int_equal(r.cls, SCORE_MATCH);
}

static void test_different_documents_of_one_type_forbid_an_automatic_link(void **state)
{
    struct person a, b;
    struct score_result r;

    (void)state;
    person(&a, "Yesenia", "Mosquera", "Palacios", "1991-10-02");
    person(&b, "Yesenia", "Mosquera", "Palacios", "1991-10-02");
    a.p.sex = b.p.sex = "Female";
    with_phone(&a, "+573001112233");
    with_phone(&b, "+573001112233");
    with_doc(&a, "NationalId", "1020304050", "CO");
    with_doc(&b, "NationalId", "39111222", "CO");
    score(&a, &b, NULL, &r);
    assert_true(r.caps & SCORE_CAP_DOCUMENT);
    assert_int_equal(r.cls, SCORE_POSSIBLE_MATCH);
}

static void test_siblings_with_both_surnames_are_not_a_match(void **state)
{
    struct person a, b;
    struct score_result r;

    (void)state;
    person(&a, "Laura Marcela", "Ospina", "Zuluaga", "1996-04-18");
    person(&b, "Diana Carolina", "Ospina", "Zuluaga", "1998-09-02");
    with_phone(&a, "+573104445566");
    with_phone(&b, "+573104445566");
    with_address(&a, "Calle 12 # 3-45", "Pereira");
    with_address(&b, "Calle 12 # 3-45", "Pereira");
    score(&a, &b, NULL, &r);
    assert_int_not_equal(r.cls, SCORE_MATCH);
    /* without dates, only the sibling rule stands between them */
    a.p.birthdate = b.p.birthdate = NULL;
    score(&a, &b, NULL, &r);
    assert_int_not_equal(r.cls, SCORE_MATCH);
    assert_true(r.caps & SCORE_CAP_SIBLING);
}

static void test_twins_are_not_a_match(void **state)
{
    struct person a, b;
    struct score_result r;

    (void)state;
    person(&a, "Juan David", "Quiñones", "Mosquera", "2001-06-30");
    person(&b, "Juan Pablo", "Quiñones", "Mosquera", "2001-06-30");
    a.p.sex = b.p.sex = "Male";
    score(&a, &b, NULL, &r);
    assert_true(r.caps & SCORE_CAP_SIBLING);
    assert_int_not_equal(r.cls, SCORE_MATCH);
    /* the same cédula would settle it: then it is one person */
    with_doc(&a, "NationalId", "1001234567", "CO");
    with_doc(&b, "NationalId", "1001234567", "CO");
    score(&a, &b, NULL, &r);
    assert_int_equal(r.cls, SCORE_MATCH);
}

static void test_father_and_son_with_one_name_are_not_a_match(void **state)
{
    struct person a, b;
    struct score_result r;

    (void)state;
    person(&a, "Luis Fernando", "Cardona", "Henao", "1970-02-03");
    person(&b, "Luis Fernando", "Cardona", "Henao", "1995-08-21");
    a.p.sex = b.p.sex = "Male";
    with_phone(&a, "+573112223344");
    with_phone(&b, "+573112223344");
    with_address(&a, "Carrera 50 # 10-20", "Medellín");
    with_address(&b, "Carrera 50 # 10-20", "Medellín");
    score(&a, &b, NULL, &r);
    assert_true(r.caps & SCORE_CAP_GENERATION);
    assert_int_not_equal(r.cls, SCORE_MATCH);
    /* only the son's year known: still a generation apart */
    b.p.birthdate = "1995";
    score(&a, &b, NULL, &r);
    assert_int_not_equal(r.cls, SCORE_MATCH);
}

static void test_names_alone_never_link_automatically(void **state)
{
    struct person a, b;
    struct score_result r;

    (void)state;
    person(&a, "Wilmar Arley", "Zuleta", "Betancur", NULL);
    person(&b, "Wilmar Arley", "Zuleta", "Betancur", "1988-12-01");
    with_phone(&a, "+573001234567");
    with_phone(&b, "+573001234567");
    score(&a, &b, NULL, &r);
    assert_true(r.caps & SCORE_CAP_NAMES_ONLY);
    assert_int_equal(r.cls, SCORE_POSSIBLE_MATCH);
}

static void test_common_surnames_weigh_less_than_rare_ones(void **state)
{
    struct score_freq *f = score_freq_new();
    struct person a, b, c, d, x;
    struct score_result common, rare;
    char name[32];

    (void)state;
    assert_non_null(f);
    /* a registry where García is everywhere and Zuleta appears twice */
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof(name), "Persona%d", i);
        person(&x, name, i % 5 == 0 ? "García" : "Otro", i == 7 || i == 9 ? "Zuleta" : "Más", NULL);
        assert_int_equal(score_freq_add_person(f, &x.p), 0);
    }
    assert_true(score_freq_share(f, SCORE_KIND_SURNAME, "garcia", 0.01, 20, 1e-5) > 0.15);
    assert_true(score_freq_share(f, SCORE_KIND_SURNAME, "zuleta", 0.01, 20, 1e-5) < 0.01);
    person(&a, "Ana", "García", NULL, "1990-02-03");
    person(&b, "Ana", "García", NULL, "1990-02-03");
    person(&c, "Ana", "Zuleta", NULL, "1990-02-03");
    person(&d, "Ana", "Zuleta", NULL, "1990-02-03");
    score(&a, &b, f, &common);
    score(&c, &d, f, &rare);
    assert_true(rare.item[SCORE_SURNAME].weight > common.item[SCORE_SURNAME].weight + 3.0);
    score_freq_free(f);
    score_freq_free(NULL);
}

static void test_thresholds_are_configurable(void **state)
{
    struct person a, b;
    struct score_config cfg;
    struct cmp_record *ra, *rb;
    struct score_result r;

    (void)state;
    person(&a, "Ana", "Ruiz", "Díaz", "1990-02-03");
    person(&b, "Ana", "Ruiz", "Díaz", "1990-02-03");
    ra = cmp_record_new(&a.p);
    rb = cmp_record_new(&b.p);
    score_config_default(&cfg);
    score_pair(&cfg, NULL, ra, rb, &r);
    assert_int_equal(r.cls, SCORE_MATCH);
    cfg.match_threshold = r.total + 1;
    score_pair(&cfg, NULL, ra, rb, &r);
    assert_int_equal(r.cls, SCORE_POSSIBLE_MATCH);
    cfg.possible_threshold = r.total + 0.5;
    score_pair(&cfg, NULL, ra, rb, &r);
    assert_int_equal(r.cls, SCORE_NO_MATCH);
    cmp_record_free(ra);
    cmp_record_free(rb);
}

static void test_explanation_names_every_field_and_the_decision(void **state)
{
    struct person a, b;
    struct score_result r;
    char buf[512], tiny[16];
    size_t need;

    (void)state;
    person(&a, "Ana", "Ruiz", NULL, "1990-02-03");
    person(&b, "Ana", "Ruiz", NULL, "1990-03-02");
    score(&a, &b, NULL, &r);
    need = score_explain(&r, buf, sizeof(buf));
    assert_true(need < sizeof(buf));
    assert_non_null(strstr(buf, "given=EXACT("));
    assert_non_null(strstr(buf, "birthdate=SWAPPED("));
    assert_non_null(strstr(buf, "document=MISSING(+0.0)"));
    assert_non_null(strstr(buf, score_class_name(r.cls)));
    /* a short buffer is cut, never overrun, and says how much it needed */
    assert_int_equal(score_explain(&r, tiny, sizeof(tiny)), need);
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
}

static void test_empty_and_hostile_persons_compare_safely(void **state)
{
    struct person a, b;
    struct score_result r;
    char big[4096];

    (void)state;
    person(&a, NULL, NULL, NULL, NULL);
    person(&b, NULL, NULL, NULL, NULL);
    score(&a, &b, NULL, &r);
    assert_int_equal(r.cls, SCORE_NO_MATCH);
    assert_int_equal(r.item[SCORE_GIVEN].level, CMP_GIVEN_MISSING);
    memset(big, 0xc3, sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    person(&a, big, big, big, big);
    with_doc(&a, big, big, big);
    with_phone(&a, big);
    with_address(&a, big, big);
    person(&b, "Ana", "Ruiz", NULL, "1990");
    score(&a, &b, NULL, &r);
    assert_int_equal(r.cls, SCORE_NO_MATCH);
}

/* ---- blocking */

static bool share_key(const struct person *a, const struct person *b)
{
    char ka[SCORE_MAX_KEYS][SCORE_KEY_MAX], kb[SCORE_MAX_KEYS][SCORE_KEY_MAX];
    size_t na = score_blocking_keys(&a->p, ka, SCORE_MAX_KEYS);
    size_t nb = score_blocking_keys(&b->p, kb, SCORE_MAX_KEYS);

    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
            if (strcmp(ka[i], kb[j]) == 0)
                return true;
    return false;
}

static void test_blocking_keys_have_the_documented_shapes(void **state)
{
    struct person a;
    char k[SCORE_MAX_KEYS][SCORE_KEY_MAX];
    size_t n;
    bool doc = false, ph = false, dob = false;

    (void)state;
    person(&a, "María José", "Muñoz", "de la Cruz", "1994-03-07");
    with_doc(&a, "NationalId", "1.020.304.050", "CO");
    n = score_blocking_keys(&a.p, k, SCORE_MAX_KEYS);
    for (size_t i = 0; i < n; i++) {
        doc |= strcmp(k[i], "doc:nationalid:co:1020304050") == 0;
        ph |= strcmp(k[i], "ph:MUNOS:1994") == 0;
        dob |= strcmp(k[i], "dob:1994:0307") == 0;
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(k[i], k[j]);
    }
    assert_true(doc && ph && dob);
    assert_int_equal(score_blocking_keys(&a.p, k, 2), 2);
}

static void test_duplicates_share_a_blocking_key(void **state)
{
    struct person a, b;

    (void)state;
    person(&a, "María José", "Muñoz", "de la Cruz", "1994-03-07");
    person(&b, "Maria", "Munoz", "Cruz", "1994-07-03");
    assert_true(share_key(&a, &b));
    /* no date at all: the names still meet */
    person(&b, "Majo", "Muñoz", "Cruz", NULL);
    assert_true(share_key(&a, &b));
    /* a surname by ear and a wrong year: the day and month still meet */
    person(&b, "María José", "Muños", "Cruz", "1949-03-07");
    assert_true(share_key(&a, &b));
    /* unrelated people do not */
    person(&b, "Wilson", "Zuleta", "Agudelo", "1961-11-30");
    assert_false(share_key(&a, &b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maria_jose_pair_is_possible_without_and_match_with_a_document),
        cmocka_unit_test(test_pepe_and_jose_with_one_birth_date_match),
        cmocka_unit_test(test_different_documents_of_one_type_forbid_an_automatic_link),
        cmocka_unit_test(test_siblings_with_both_surnames_are_not_a_match),
        cmocka_unit_test(test_twins_are_not_a_match),
        cmocka_unit_test(test_father_and_son_with_one_name_are_not_a_match),
        cmocka_unit_test(test_names_alone_never_link_automatically),
        cmocka_unit_test(test_common_surnames_weigh_less_than_rare_ones),
        cmocka_unit_test(test_thresholds_are_configurable),
        cmocka_unit_test(test_explanation_names_every_field_and_the_decision),
        cmocka_unit_test(test_empty_and_hostile_persons_compare_safely),
        cmocka_unit_test(test_blocking_keys_have_the_documented_shapes),
        cmocka_unit_test(test_duplicates_share_a_blocking_key),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
