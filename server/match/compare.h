/*
 * Field-by-field comparison of two persons, each comparison giving an
 * agreement level (exact, nickname, phonetic, swapped, conflict...).
 * score.c turns levels into weights; nothing here decides a match.
 *
 * struct match_person is the matcher's own view of a person, independent of
 * protobuf so that the module links without it (from_proto.h fills it from
 * the wire message). It borrows its strings: they must outlive the person.
 */
#ifndef RITRA_MATCH_COMPARE_H
#define RITRA_MATCH_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#include "address.h"
#include "bdate.h"
#include "normalize.h"

struct match_document {
    const char *type;    /* NationalId | Passport | ForeignerId | ... */
    const char *number;  /* as written: dots, dashes and spaces are ignored */
    const char *country; /* ISO 3166-1 alpha-2, may be empty */
};

struct match_person {
    const char *given;          /* given name(s), "María José" */
    const char *middle;         /* further given names, if kept apart */
    const char *first_surname;  /* particles kept: "de la Cruz" */
    const char *second_surname; /* may be empty, or already inside first_surname */
    const char *sex;            /* Female | Male | Intersex | Unknown, or F/M */
    const char *birthdate;      /* YYYY | YYYY-MM | YYYY-MM-DD (also YYYYMMDD) */
    const char *const *aliases;
    size_t n_aliases;
    const char *const *citizenship; /* ISO 3166-1 alpha-2 */
    size_t n_citizenship;
    const struct match_document *documents;
    size_t n_documents;
    const char *const *phones;
    size_t n_phones;
    const struct match_address *addresses;
    size_t n_addresses;
};

/* A person prepared for comparison: folded tokens, phonetic keys, nickname
 * expansions, parsed date, normalised documents. Opaque. */
struct cmp_record;

/* Prepares p (copies what it needs; p may go away afterwards). Returns NULL
 * only when out of memory. */
struct cmp_record *cmp_record_new(const struct match_person *p);

/* Frees r; NULL is fine. */
void cmp_record_free(struct cmp_record *r);

/* Given names (with middle names). Token-level agreements are exact,
 * nickname, phonetic or typo-similar; the list-level levels below. */
enum cmp_given_level {
    CMP_GIVEN_MISSING,   /* one side has none */
    CMP_GIVEN_EXACT,     /* same names */
    CMP_GIVEN_NICKNAME,  /* same names once hypocorisms/aliases resolve (Pepe = José) */
    CMP_GIVEN_PHONETIC,  /* same names by sound (Yesica = Llesica, Ximena = Jimena) */
    CMP_GIVEN_SIMILAR,   /* a typo apart */
    CMP_GIVEN_PARTIAL,   /* one side's names all among the other's (María ⊂ María José) */
    CMP_GIVEN_CONFLICT,  /* a name in common, and each has one the other lacks */
    CMP_GIVEN_DIFFERENT, /* nothing in common */
    CMP_GIVEN_NLEVELS
};

/* Surnames, after particles are dropped, in either order, one possibly
 * missing or both written in the first-surname field. */
enum cmp_surname_level {
    CMP_SUR_MISSING,    /* one side has none */
    CMP_SUR_BOTH_EXACT, /* two surnames, same, same order */
    CMP_SUR_BOTH_FUZZY, /* two surnames agree, one or both by sound or typo */
    CMP_SUR_SWAPPED,    /* two surnames agree in the other order */
    CMP_SUR_ONE_EXACT,  /* one surname agrees exactly; the other side lacks the rest */
    CMP_SUR_ONE_FUZZY,  /* one surname agrees by sound or typo; the rest is missing */
    CMP_SUR_CONFLICT,   /* one surname agrees, each side has another that differs */
    CMP_SUR_DIFFERENT,  /* no surname in common */
    CMP_SUR_NLEVELS
};

/* Sex, citizenship, phones. */
enum cmp_level { CMP_MISSING, CMP_AGREE, CMP_DISAGREE, CMP_NLEVELS };

/* Identity documents. */
enum cmp_doc_level {
    CMP_DOC_MISSING,    /* nothing comparable */
    CMP_DOC_AGREE,      /* same type, number and country */
    CMP_DOC_NEAR,       /* same type and country, numbers one typo apart */
    CMP_DOC_OTHER_TYPE, /* same number under another type or country */
    CMP_DOC_CONFLICT,   /* same type and country, different numbers */
    CMP_DOC_NLEVELS
};

/* Result of a name comparison: the level and the tokens that agreed (for
 * frequency weighting), pointing into the records. */
struct cmp_name_result {
    int level; /* enum cmp_given_level or enum cmp_surname_level */
    size_t n_agreed;
    const char *agreed_a[NORM_MAX_TOKENS];
    const char *agreed_b[NORM_MAX_TOKENS];
};

struct cmp_names {
    struct cmp_name_result given;
    struct cmp_name_result surname;
    bool swapped; /* given names and surnames were written in each other's field */
};

/* Given names and surnames of a and b, including a given/surname swap. */
void cmp_names(const struct cmp_record *a, const struct cmp_record *b, struct cmp_names *out);

/* Each comparator below is symmetric and says MISSING when either side
 * lacks the field. */

/* Birth dates at the precision both sides know (bdate_compare). */
enum bdate_level cmp_birthdate(const struct cmp_record *a, const struct cmp_record *b);

/* Sex: Female/F/femenino/mujer, Male/M/masculino/hombre, Intersex; Unknown
 * or anything else is missing. */
enum cmp_level cmp_sex(const struct cmp_record *a, const struct cmp_record *b);

/* Citizenships: AGREE on any country in common. */
enum cmp_level cmp_citizenship(const struct cmp_record *a, const struct cmp_record *b);

/* Phones: AGREE when any two share their last 10 digits. */
enum cmp_level cmp_phones(const struct cmp_record *a, const struct cmp_record *b);

/* Documents: CONFLICT wins over AGREE (two national ids are not excused by
 * one shared passport). */
enum cmp_doc_level cmp_documents(const struct cmp_record *a, const struct cmp_record *b);

/* Best street and place agreement over all pairs of addresses. */
void cmp_addresses(const struct cmp_record *a, const struct cmp_record *b, struct addr_levels *out);

/* Names of levels for explanations ("EXACT", "SWAPPED"...). */
const char *cmp_given_level_name(int level);
const char *cmp_surname_level_name(int level);
const char *cmp_level_name(int level);
const char *cmp_doc_level_name(int level);

#endif
