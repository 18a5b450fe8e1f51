/* server/match on its own, part 1: normalisation, phonetic key, string
 * similarity, birth dates and the field comparators, with Spanish and
 * Latin-American names. Scoring and blocking: test_match_score.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bdate.h"
#include "compare.h"
#include "normalize.h"
#include "phonetic.h"
#include "score.h"
#include "strsim.h"

#include "match_people.h"

/* ---- helpers */

static char *fold(const char *s)
{
    static char buf[256];

    norm_fold(s, buf, sizeof(buf));
    return buf;
}

static char *key(const char *s)
{
    static char buf[128];

    phon_key_text(s, buf, sizeof(buf));
    return buf;
}

static void assert_same_key(const char *a, const char *b)
{
    char ka[128];

    snprintf(ka, sizeof(ka), "%s", key(a));
    if (strcmp(ka, key(b)) != 0)
        fail_msg("%s (%s) and %s (%s) should sound alike", a, ka, b, key(b));
}

static void assert_other_key(const char *a, const char *b)
{
    char ka[128];

    snprintf(ka, sizeof(ka), "%s", key(a));
    if (strcmp(ka, key(b)) == 0)
        fail_msg("%s and %s should not share the key %s", a, b, ka);
}

static void names(const struct person *a, const struct person *b, struct cmp_names *out)
{
    struct cmp_record *ra = cmp_record_new(&a->p), *rb = cmp_record_new(&b->p);

    cmp_names(ra, rb, out);
    cmp_record_free(ra);
    cmp_record_free(rb);
}

static enum cmp_doc_level documents(const struct person *a, const struct person *b)
{
    struct cmp_record *ra = cmp_record_new(&a->p), *rb = cmp_record_new(&b->p);
    enum cmp_doc_level l = cmp_documents(ra, rb);

    cmp_record_free(ra);
    cmp_record_free(rb);
    return l;
}

static enum bdate_level dates(const char *a, const char *b)
{
    struct bdate da, db;

    bdate_parse(a, &da);
    bdate_parse(b, &db);
    return bdate_compare(&da, &db);
}

/* ---- normalisation */

static void test_fold_removes_case_accents_and_folds_enye(void **state)
{
    (void)state;
    assert_string_equal(fold("María José MUÑOZ"), "maria jose munoz");
    assert_string_equal(fold("Güiza Nuñez Çelik"), "guiza nunez celik");
    assert_string_equal(fold("ÁÉÍÓÚ áéíóú Ññ Üü"), "aeiou aeiou nn uu");
    /* decomposed input (macOS, some web forms): e + combining acute */
    assert_string_equal(fold("Mari\xcc\x81"
                             "a"),
                        "maria");
    assert_string_equal(fold("Þór Æsa Straße"), "thor aesa strasse");
}

static void test_fold_turns_punctuation_into_single_spaces(void **state)
{
    (void)state;
    assert_string_equal(fold("  Gómez-Restrepo,  Ana.  "), "gomez restrepo ana");
    assert_string_equal(fold("O'Brien D\xe2\x80\x99"
                             "Alessandro"),
                        "obrien dalessandro");
    assert_string_equal(fold("Ana\xc2\xa0"
                             "Mar\xc3\xad"
                             "a\xe2\x80\x94"
                             "Luz"),
                        "ana maria luz");
    assert_string_equal(fold(NULL), "");
    assert_string_equal(fold(""), "");
}

static void test_fold_survives_malformed_utf8_and_small_buffers(void **state)
{
    char small[6];

    (void)state;
    assert_string_equal(fold("Pe\xc3\xb1"
                             "a\xff\xfe\xc3"),
                        "pena");
    assert_string_equal(fold("\xed\xa0\x80x\xc0\xafy"), "xy");      /* surrogate, overlong */
    assert_string_equal(fold("\xe4\xb8\xad\xe6\x96\x87 Li"), "li"); /* other scripts dropped */
    assert_int_equal(norm_fold("Fernández", small, sizeof(small)), 5);
    assert_string_equal(small, "ferna");
    assert_int_equal(norm_fold("Ñ", small, 1), 0);
    assert_string_equal(small, "");
}

static void test_particles_are_dropped_inside_names(void **state)
{
    struct norm_tokens t;

    (void)state;
    memset(&t, 0, sizeof(t));
    assert_int_equal(norm_name_tokens("de la Cruz", NORM_SURNAME, &t), 1);
    assert_string_equal(t.tok[0], "cruz");
    memset(&t, 0, sizeof(t));
    assert_int_equal(norm_name_tokens("Ortega y Gasset", NORM_SURNAME, &t), 2);
    assert_string_equal(t.tok[1], "gasset");
    memset(&t, 0, sizeof(t));
    assert_int_equal(norm_name_tokens("María de los Ángeles", NORM_GIVEN, &t), 2);
    assert_string_equal(t.tok[1], "angeles");
    memset(&t, 0, sizeof(t));
    assert_int_equal(norm_name_tokens("Van der Berg", NORM_SURNAME, &t), 1);
    /* a surname that is only particles is kept as written */
    memset(&t, 0, sizeof(t));
    assert_int_equal(norm_name_tokens("De La", NORM_SURNAME, &t), 2);
    /* "Di" may be a given name, not a particle */
    memset(&t, 0, sizeof(t));
    assert_int_equal(norm_name_tokens("Di Ana", NORM_GIVEN, &t), 2);
    memset(&t, 0, sizeof(t));
    assert_int_equal(norm_name_tokens("Di María", NORM_SURNAME, &t), 1);
    assert_true(norm_is_particle("del"));
    assert_false(norm_is_particle("delgado"));
}

static void test_many_and_long_tokens_are_cut_not_overflowed(void **state)
{
    struct norm_tokens t;
    char big[1024];

    (void)state;
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memset(&t, 0, sizeof(t));
    assert_int_equal(norm_name_tokens(big, NORM_GIVEN, &t), 1);
    assert_int_equal(strlen(t.tok[0]), NORM_TOKEN_MAX - 1);
    memset(&t, 0, sizeof(t));
    norm_name_tokens("aa bb cc dd ee ff gg hh ii jj kk", NORM_GIVEN, &t);
    assert_int_equal(t.n, NORM_MAX_TOKENS);
}

static void test_nicknames_resolve_to_full_names(void **state)
{
    const char *c[4];

    (void)state;
    assert_int_equal(norm_nicknames("pepe", c, 4), 1);
    assert_string_equal(c[0], "jose");
    assert_int_equal(norm_nicknames("pacho", c, 4), 1);
    assert_string_equal(c[0], "francisco");
    assert_int_equal(norm_nicknames("chucho", c, 4), 1);
    assert_string_equal(c[0], "jesus");
    assert_int_equal(norm_nicknames("tono", c, 4), 1); /* Toño, folded */
    assert_string_equal(c[0], "antonio");
    assert_int_equal(norm_nicknames("majo", c, 4), 1);
    assert_string_equal(c[0], "maria jose");
    assert_int_equal(norm_nicknames("beto", c, 4), 4);
    assert_string_equal(c[0], "alberto");
    assert_string_equal(c[1], "roberto");
    assert_int_equal(norm_nicknames("beto", c, 1), 1);
    assert_int_equal(norm_nicknames("jose", c, 4), 0);
    assert_int_equal(norm_nicknames("zacarias", c, 4), 0);
    /* The first and last rows of the table, and the order its search needs. */
    assert_int_equal(norm_nicknames("ale", c, 4), 2);
    assert_int_equal(norm_nicknames("yoli", c, 4), 1);
    assert_string_equal(c[0], "yolanda");
    assert_int_equal(norm_nicknames("a", c, 4), 0);
    assert_int_equal(norm_nicknames("zz", c, 4), 0);
    assert_true(norm_nicknames_sorted());
}

static void test_gender_variants_are_recognised(void **state)
{
    (void)state;
    assert_true(norm_gender_variant("daniel", "daniela"));
    assert_true(norm_gender_variant("mario", "maria"));
    assert_true(norm_gender_variant("francisca", "francisco"));
    assert_true(norm_gender_variant("juan", "juana"));
    assert_false(norm_gender_variant("maria", "mariana"));
    assert_false(norm_gender_variant("andres", "andrea"));
    assert_false(norm_gender_variant("ana", "ana"));
}

static void test_documents_and_phones_are_normalised(void **state)
{
    char out[32];

    (void)state;
    norm_document("1.023.456.789", out, sizeof(out));
    assert_string_equal(out, "1023456789");
    norm_document(" ab-12 3 ", out, sizeof(out));
    assert_string_equal(out, "AB123");
    norm_document("0012345678", out, sizeof(out));
    assert_string_equal(out, "12345678");
    norm_document("A0012", out, sizeof(out));
    assert_string_equal(out, "A0012");
    norm_document("0", out, sizeof(out));
    assert_string_equal(out, "0");
    norm_phone("+57 (300) 123-4567", out, sizeof(out));
    assert_string_equal(out, "3001234567");
    norm_phone("300 123 4567", out, sizeof(out));
    assert_string_equal(out, "3001234567");
    assert_int_equal(norm_phone("12 34", out, sizeof(out)), 0);
    norm_code("NationalId", out, sizeof(out));
    assert_string_equal(out, "nationalid");
}

/* ---- phonetic key */

static void test_phonetic_key_joins_spanish_spellings(void **state)
{
    (void)state;
    assert_same_key("Vargas", "Bargas");       /* b/v */
    assert_same_key("Velásquez", "Belázquez"); /* b/v, s/z */
    assert_same_key("Gómez", "Gomes");         /* z/s */
    assert_same_key("Cecilia", "Sesilia");     /* c(e,i)/s */
    assert_same_key("Yepes", "Llepes");        /* ll/y */
    assert_same_key("Castillo", "Castiyo");    /* ll/y */
    assert_same_key("Jiménez", "Giménez");     /* g(e,i)/j */
    assert_same_key("Ximena", "Jimena");       /* x/j */
    assert_same_key("Hernández", "Ernández");  /* silent h */
    assert_same_key("Jhon", "Jon");            /* silent h */
    assert_same_key("Rodríguez", "Rodrigues"); /* gu + e */
    assert_same_key("Quintero", "Kintero");    /* qu/k */
    assert_same_key("Cárdenas", "Kardenas");   /* c(a,o,u)/k */
    assert_same_key("Trinidad", "Trinida");    /* final d */
    assert_same_key("Isaac", "Isac");          /* doubled letters */
    assert_same_key("Estiven", "Stiven");      /* initial es + consonant */
    assert_same_key("Edwin", "Eduin");         /* w/u */
    assert_same_key("Peña", "Penia");          /* ñ written ni */
    assert_same_key("Stephany", "Stefany");    /* ph/f */
}

static void test_phonetic_key_keeps_different_names_apart(void **state)
{
    (void)state;
    assert_other_key("Chávez", "Cávez");
    assert_other_key("Rojas", "Rosas");
    assert_other_key("Ramírez", "Ramos");
    assert_other_key("Gómez", "Gámez");
    assert_other_key("Mario", "María");
    assert_string_equal(key(""), "");
    assert_string_equal(key("1234"), "");
}

/* ---- string similarity */

static void test_string_similarity(void **state)
{
    (void)state;
    assert_true(sim_jaro_winkler("martha", "marhta") > 0.96);
    assert_true(sim_jaro_winkler("gonzalez", "gonzalez") == 1.0);
    assert_true(sim_jaro_winkler("ana", "luz") < 0.5);
    assert_int_equal(sim_edit_distance("gonzalez", "gonzales", 2), 1);
    assert_int_equal(sim_edit_distance("marhta", "martha", 2), 1); /* transposition */
    assert_int_equal(sim_edit_distance("garcia", "rodriguez", 2), 3);
    assert_true(sim_typo("fernandez", "fernadez"));
    assert_false(sim_typo("ana", "ada")); /* too short to forgive */
}

/* ---- birth dates */

static void test_birth_dates_parse_with_their_precision(void **state)
{
    struct bdate d;

    (void)state;
    assert_int_equal(bdate_parse("1994-03-07", &d), 0);
    assert_int_equal(d.year * 10000 + d.month * 100 + d.day, 19940307);
    assert_int_equal(bdate_parse("1994-03", &d), 0);
    assert_int_equal(d.day, 0);
    assert_int_equal(bdate_parse("1994", &d), 0);
    assert_int_equal(d.month, 0);
    assert_int_equal(bdate_parse("19940307", &d), 0);
    assert_int_equal(d.day, 7);
    assert_int_equal(bdate_parse("1994-13-01", &d), -1);
    assert_int_equal(d.year, 0);
    assert_int_equal(bdate_parse("1994-3-7", &d), -1);
    assert_int_equal(bdate_parse("07/03/1994", &d), -1);
    assert_int_equal(bdate_parse("1994-03-07T00", &d), -1);
    assert_int_equal(bdate_parse(NULL, &d), -1);
    assert_int_equal(bdate_parse("", &d), -1);
}

static void test_birth_date_errors_have_their_own_levels(void **state)
{
    (void)state;
    assert_int_equal(dates("1994-03-07", "1994-03-07"), BDATE_EXACT);
    assert_int_equal(dates("1994-03-07", "1994-07-03"), BDATE_SWAPPED);
    assert_int_equal(dates("1994-03-07", "1995-03-07"), BDATE_YEAR_PM1);
    assert_int_equal(dates("1994-03-07", "1994-03-17"), BDATE_TYPO);
    assert_int_equal(dates("1994-03-07", "1999-03-07"), BDATE_TYPO);
    /* one digit apart, but a parent and a child as likely as a slip */
    assert_int_equal(dates("1975-06-06", "1995-06-06"), BDATE_FAR);
    assert_int_equal(dates("1975-06", "1995-06-02"), BDATE_FAR);
    assert_int_equal(dates("1994-03", "1994-03-07"), BDATE_YEAR_MONTH);
    assert_int_equal(dates("1994", "1994-03-07"), BDATE_YEAR_ONLY);
    assert_int_equal(dates("1994", "1995"), BDATE_YEAR_ONLY_PM1);
    /* 1 January is the registries' "year only" */
    assert_int_equal(dates("1994-01-01", "1994-05-20"), BDATE_YEAR_ONLY);
    assert_int_equal(dates("1994-03-07", "1990-11-21"), BDATE_DIFFERENT);
    assert_int_equal(dates("1994-03-07", "1969-11-21"), BDATE_FAR);
    assert_int_equal(dates("1994", "1969"), BDATE_FAR);
    assert_int_equal(dates("", "1994-03-07"), BDATE_MISSING);
    assert_int_equal(dates("garbage", "1994-03-07"), BDATE_MISSING);
}

/* ---- names */

static void test_maria_jose_munoz_de_la_cruz_lines_up_with_maria_munoz_cruz(void **state)
{
    struct person a, b;
    struct cmp_names n;

    (void)state;
    person(&a, "María José", "Muñoz", "de la Cruz", "1994-03-07");
    person(&b, "Maria", "Munoz", "Cruz", "1994-07-03");
    names(&a, &b, &n);
    assert_int_equal(n.given.level, CMP_GIVEN_PARTIAL);
    assert_int_equal(n.surname.level, CMP_SUR_BOTH_EXACT);
    /* both surnames written in the first field */
    person(&b, "Maria", "Munoz Cruz", NULL, "1994-07-03");
    names(&a, &b, &n);
    assert_int_equal(n.surname.level, CMP_SUR_BOTH_EXACT);
}

static void test_nicknames_agree_with_the_full_name(void **state)
{
    struct person a, b;
    struct cmp_names n;

    (void)state;
    person(&a, "José", "Rodríguez", NULL, NULL);
    person(&b, "Pepe", "Rodríguez", NULL, NULL);
    names(&a, &b, &n);
    assert_int_equal(n.given.level, CMP_GIVEN_NICKNAME);
    person(&b, "Chepe", "Rodríguez", NULL, NULL);
    names(&a, &b, &n);
    assert_int_equal(n.given.level, CMP_GIVEN_NICKNAME);
    person(&a, "María José", "Muñoz", NULL, NULL);
    person(&b, "Majo", "Muñoz", NULL, NULL);
    names(&a, &b, &n);
    assert_int_equal(n.given.level, CMP_GIVEN_NICKNAME);
    /* Pepe and Chepe both stand for José */
    person(&a, "Pepe", "Muñoz", NULL, NULL);
    person(&b, "Chepe", "Muñoz", NULL, NULL);
    names(&a, &b, &n);
    assert_int_equal(n.given.level, CMP_GIVEN_NICKNAME);
}

static void test_an_alias_counts_as_a_nickname(void **state)
{
    struct person a, b;
    struct cmp_names n;
    const char *alias[] = {"La Mona"};

    (void)state;
    person(&a, "Yuliana", "Ríos", NULL, NULL);
    a.p.aliases = alias;
    a.p.n_aliases = 1;
    person(&b, "Mona", "Ríos", NULL, NULL);
    names(&a, &b, &n);
    assert_int_equal(n.given.level, CMP_GIVEN_NICKNAME);
}

static void test_spellings_by_ear_agree_phonetically(void **state)
{
    struct person a, b;
    struct cmp_names n;

    (void)state;
    person(&a, "Vanesa", "Vásquez", "Zapata", NULL);
    person(&b, "Banesa", "Basquez", "Sapata", NULL);
    names(&a, &b, &n);
    assert_int_equal(n.given.level, CMP_GIVEN_PHONETIC);
    assert_int_equal(n.surname.level, CMP_SUR_BOTH_FUZZY);
    person(&a, "Cecilia", "Yepes", "Jiménez", NULL);
    person(&b, "Sesilia", "Llepes", "Giménez", NULL);
    names(&a, &b, &n);
    assert_int_equal(n.given.level, CMP_GIVEN_PHONETIC);
    assert_int_equal(n.surname.level, CMP_SUR_BOTH_FUZZY);
}

static void test_surnames_in_either_order_or_one_missing(void **state)
{
    struct person a, b;
    struct cmp_names n;

    (void)state;
    person(&a, "Luz", "Gómez", "Restrepo", NULL);
    person(&b, "Luz", "Restrepo", "Gómez", NULL);
    names(&a, &b, &n);
    assert_int_equal(n.surname.level, CMP_SUR_SWAPPED);
    person(&b, "Luz", "Gómez", NULL, NULL);
    names(&a, &b, &n);
    assert_int_equal(n.surname.level, CMP_SUR_ONE_EXACT);
    person(&b, "Luz", "Gomes", "", NULL);
    names(&a, &b, &n);
    assert_int_equal(n.surname.level, CMP_SUR_ONE_FUZZY);
    person(&b, "Luz", "Gómez", "Pérez", NULL);
    names(&a, &b, &n);
    assert_int_equal(n.surname.level, CMP_SUR_CONFLICT);
    person(&b, "Luz", "Pérez", "Ortiz", NULL);
    names(&a, &b, &n);
    assert_int_equal(n.surname.level, CMP_SUR_DIFFERENT);
    person(&b, "Luz", NULL, NULL, NULL);
    names(&a, &b, &n);
    assert_int_equal(n.surname.level, CMP_SUR_MISSING);
}

static void test_compound_given_names(void **state)
{
    struct person a, b;
    struct cmp_names n;

    (void)state;
    person(&a, "Juan David", "Pérez", NULL, NULL);
    person(&b, "Juan Pablo", "Pérez", NULL, NULL);
    names(&a, &b, &n);
    assert_int_equal(n.given.level, CMP_GIVEN_CONFLICT);
    person(&b, "Juan", "Pérez", NULL, NULL);
    b.p.middle = "David";
    names(&a, &b, &n);
    assert_int_equal(n.given.level, CMP_GIVEN_EXACT);
    person(&b, "Juandavid", "Pérez", NULL, NULL);
    names(&a, &b, &n);
    assert_int_equal(n.given.level, CMP_GIVEN_EXACT);
    /* José María (a man) is not María José */
    person(&a, "José María", "Pérez", NULL, NULL);
    person(&b, "María José", "Pérez", NULL, NULL);
    names(&a, &b, &n);
    assert_int_equal(n.given.level, CMP_GIVEN_PARTIAL);
}

static void test_typos_and_gender_variants_of_given_names(void **state)
{
    struct person a, b;
    struct cmp_names n;

    (void)state;
    person(&a, "Alejandro", "Ruiz", NULL, NULL);
    person(&b, "Alejnadro", "Ruiz", NULL, NULL);
    names(&a, &b, &n);
    assert_int_equal(n.given.level, CMP_GIVEN_SIMILAR);
    person(&a, "Daniel", "Ruiz", NULL, NULL);
    person(&b, "Daniela", "Ruiz", NULL, NULL);
    names(&a, &b, &n);
    assert_int_equal(n.given.level, CMP_GIVEN_DIFFERENT);
}

static void test_given_names_written_as_surnames_are_found(void **state)
{
    struct person a, b;
    struct cmp_names n;

    (void)state;
    person(&a, "Georgia", "White", NULL, NULL);
    person(&b, "White", "Georgia", NULL, NULL);
    names(&a, &b, &n);
    assert_true(n.swapped);
    assert_int_equal(n.given.level, CMP_GIVEN_EXACT);
    assert_int_equal(n.surname.level, CMP_SUR_ONE_EXACT);
}

/* ---- documents and other fields */

static void test_documents_agree_conflict_or_are_a_typo_apart(void **state)
{
    struct person a, b;

    (void)state;
    person(&a, "Ana", "Ruiz", NULL, NULL);
    person(&b, "Ana", "Ruiz", NULL, NULL);
    assert_int_equal(documents(&a, &b), CMP_DOC_MISSING);
    with_doc(&a, "NationalId", "1.023.456.789", "CO");
    with_doc(&b, "NationalId", "1023456789", "CO");
    assert_int_equal(documents(&a, &b), CMP_DOC_AGREE);
    b.p.n_documents = 0;
    with_doc(&b, "NationalId", "1023456798", "CO");
    assert_int_equal(documents(&a, &b), CMP_DOC_NEAR);
    b.p.n_documents = 0;
    with_doc(&b, "NationalId", "52777001", "CO");
    assert_int_equal(documents(&a, &b), CMP_DOC_CONFLICT);
    /* another country's card is another numbering */
    b.p.n_documents = 0;
    with_doc(&b, "NationalId", "52777001", "VE");
    assert_int_equal(documents(&a, &b), CMP_DOC_MISSING);
    b.p.n_documents = 0;
    with_doc(&b, "Passport", "1023456789", "CO");
    assert_int_equal(documents(&a, &b), CMP_DOC_OTHER_TYPE);
    /* the same passport does not excuse two national ids */
    with_doc(&a, "Passport", "AB123456", "CO");
    b.p.n_documents = 0;
    with_doc(&b, "Passport", "AB123456", "CO");
    with_doc(&b, "NationalId", "52777001", "CO");
    assert_int_equal(documents(&a, &b), CMP_DOC_CONFLICT);
}

static void test_sex_citizenship_and_phones(void **state)
{
    struct person a, b;
    struct cmp_record *ra, *rb;

    (void)state;
    person(&a, "Ana", "Ruiz", NULL, NULL);
    person(&b, "Ana", "Ruiz", NULL, NULL);
    a.p.sex = "Female";
    b.p.sex = "F";
    a.cit[a.p.n_citizenship++] = "CO";
    b.cit[b.p.n_citizenship++] = "VE";
    b.cit[b.p.n_citizenship++] = "co";
    with_phone(&a, "+57 300 123 4567");
    with_phone(&b, "3001234567");
    ra = cmp_record_new(&a.p);
    rb = cmp_record_new(&b.p);
    assert_int_equal(cmp_sex(ra, rb), CMP_AGREE);
    assert_int_equal(cmp_citizenship(ra, rb), CMP_AGREE);
    assert_int_equal(cmp_phones(ra, rb), CMP_AGREE);
    cmp_record_free(rb);
    b.p.sex = "Male";
    b.p.n_citizenship = 1;
    b.phone[0] = "+57 310 000 0000";
    rb = cmp_record_new(&b.p);
    assert_int_equal(cmp_sex(ra, rb), CMP_DISAGREE);
    assert_int_equal(cmp_citizenship(ra, rb), CMP_DISAGREE);
    assert_int_equal(cmp_phones(ra, rb), CMP_DISAGREE);
    cmp_record_free(rb);
    b.p.sex = "Unknown";
    b.p.n_citizenship = 0;
    b.p.n_phones = 0;
    rb = cmp_record_new(&b.p);
    assert_int_equal(cmp_sex(ra, rb), CMP_MISSING);
    assert_int_equal(cmp_citizenship(ra, rb), CMP_MISSING);
    assert_int_equal(cmp_phones(ra, rb), CMP_MISSING);
    cmp_record_free(ra);
    cmp_record_free(rb);
}

static void test_addresses_compare_without_street_words(void **state)
{
    struct match_address a = {"Carrera 7 # 45-12", "Bogotá", NULL, "110231", "CO"};
    struct match_address b = {"Cra 7 No 45 12", "Bogota", NULL, "", "CO"};
    struct addr_norm na, nb;
    struct addr_levels l;

    (void)state;
    addr_normalize(&a, &na);
    addr_normalize(&b, &nb);
    assert_int_equal(na.nstreet, 3);
    addr_compare(&na, 1, &nb, 1, &l);
    assert_int_equal(l.street, ADDR_STREET_EXACT);
    assert_int_equal(l.place, ADDR_PLACE_CITY);
    b.street = "Calle 80 # 45-12";
    addr_normalize(&b, &nb);
    addr_compare(&na, 1, &nb, 1, &l);
    assert_int_equal(l.street, ADDR_STREET_DIFFERENT);
    addr_compare(&na, 1, &nb, 0, &l);
    assert_int_equal(l.street, ADDR_STREET_MISSING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_removes_case_accents_and_folds_enye),
        cmocka_unit_test(test_fold_turns_punctuation_into_single_spaces),
        cmocka_unit_test(test_fold_survives_malformed_utf8_and_small_buffers),
        cmocka_unit_test(test_particles_are_dropped_inside_names),
        cmocka_unit_test(test_many_and_long_tokens_are_cut_not_overflowed),
        cmocka_unit_test(test_nicknames_resolve_to_full_names),
        cmocka_unit_test(test_gender_variants_are_recognised),
        cmocka_unit_test(test_documents_and_phones_are_normalised),
        cmocka_unit_test(test_phonetic_key_joins_spanish_spellings),
        cmocka_unit_test(test_phonetic_key_keeps_different_names_apart),
        cmocka_unit_test(test_string_similarity),
        cmocka_unit_test(test_birth_dates_parse_with_their_precision),
        cmocka_unit_test(test_birth_date_errors_have_their_own_levels),
        cmocka_unit_test(test_maria_jose_munoz_de_la_cruz_lines_up_with_maria_munoz_cruz),
        cmocka_unit_test(test_nicknames_agree_with_the_full_name),
        cmocka_unit_test(test_an_alias_counts_as_a_nickname),
        cmocka_unit_test(test_spellings_by_ear_agree_phonetically),
        cmocka_unit_test(test_surnames_in_either_order_or_one_missing),
        cmocka_unit_test(test_compound_given_names),
        cmocka_unit_test(test_typos_and_gender_variants_of_given_names),
        cmocka_unit_test(test_given_names_written_as_surnames_are_found),
        cmocka_unit_test(test_documents_agree_conflict_or_are_a_typo_apart),
        cmocka_unit_test(test_sex_citizenship_and_phones),
        cmocka_unit_test(test_addresses_compare_without_street_words),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
