/*
 * The SearchPersons query builder (server/match_query.c): how free-text
 * names are split into given names and surnames, and what the query person
 * carries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "match_query.h"

static void split_is(const char *name, const char *given, const char *first, const char *second)
{
    char g[64], f[64], s[64];

    mquery_split_name(name, g, f, s, sizeof(g));
    if (strcmp(g, given) != 0 || strcmp(f, first) != 0 || strcmp(s, second) != 0)
        fail_msg("\"%s\" split as [%s|%s|%s], expected [%s|%s|%s]", name, g, f, s, given, first,
                 second);
}

static void test_split_spanish_names(void **state)
{
    (void)state;
    split_is("María José Muñoz de la Cruz", "María José", "Muñoz", "de la Cruz");
    split_is("Maria Munoz Cruz", "Maria", "Munoz", "Cruz");
    split_is("Juan Pérez", "Juan", "Pérez", "");
    split_is("Rodríguez", "", "Rodríguez", "");
    split_is("Ana María del Castillo y Rojas", "Ana María", "del Castillo", "y Rojas");
    split_is("  José\tFrancisco   Pérez  Gómez ", "José Francisco", "Pérez", "Gómez");
    /* Ambiguous without the fields apart: a compound given name with
     * particles reads as surnames (the matcher still finds her through its
     * swapped-names comparison; clients that know the parts send them). */
    split_is("Luz de los Ángeles Vda. de Restrepo", "Luz", "de los Ángeles", "Vda. de Restrepo");
    split_is("", "", "", "");
    split_is("de la", "de la", "", "");
}

static void test_split_never_overflows(void **state)
{
    char g[8], f[8], s[8];

    (void)state;
    mquery_split_name("Maximiliano Constantino Bartolomeo Fuenmayor Villavicencio", g, f, s,
                      sizeof(g));
    assert_int_equal(strlen(g), 7);
    assert_string_equal(f, "Fuenmay");
    assert_string_equal(s, "Villavi");
    /* More words than kept: the first sixteen count. */
    mquery_split_name("a b c d e f g h i j k l m n o p q r s", g, f, s, sizeof(g));
    assert_string_equal(f, "o");
    assert_string_equal(s, "p");
}

static void test_build_from_parts_and_documents(void **state)
{
    Ritra__SearchPersonsRequest m = RITRA__SEARCH_PERSONS_REQUEST__INIT;
    struct mquery q;

    (void)state;
    m.given_names = "María José";
    m.surnames = "Muñoz de la Cruz";
    m.birth_date = "1994-03";
    m.document_number = "1.023.456.789";
    m.citizenship = "CO";
    mquery_build(&q, &m);
    assert_string_equal(q.person.prs_firstname, "María José");
    assert_string_equal(q.person.first_surname, "Muñoz");
    assert_string_equal(q.person.second_surname, "de la Cruz");
    assert_string_equal(q.person.prs_birthdate, "1994-03");
    assert_int_equal(q.person.n_documents, 1);
    assert_string_equal(q.person.documents[0]->number, "1.023.456.789");
    assert_string_equal(q.person.documents[0]->type, "");
    assert_int_equal(q.person.n_prs_citizenship, 1);
    assert_string_equal(q.person.prs_citizenship[0], "CO");
    /* A name only: no document, no citizenship. */
    memset(&m, 0, sizeof(m));
    ritra__search_persons_request__init(&m);
    m.name = "Pepe Gómez";
    mquery_build(&q, &m);
    assert_string_equal(q.person.prs_firstname, "Pepe");
    assert_string_equal(q.person.first_surname, "Gómez");
    assert_int_equal(q.person.n_documents, 0);
    assert_int_equal(q.person.n_prs_citizenship, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_spanish_names),
        cmocka_unit_test(test_split_never_overflows),
        cmocka_unit_test(test_build_from_parts_and_documents),
    };

    return cmocka_run_group_tests_name("unit-match-query", tests, NULL, NULL);
}
