/*
 * Fellegi–Sunter scoring of a pair of persons, its explanation, the
 * MATCH / POSSIBLE_MATCH / NO_MATCH decision, and the blocking keys that
 * choose which pairs are worth scoring.
 *
 * Each field's agreement level (compare.h) weighs log2(m/u) bits: m is the
 * chance of that level when both records are the same person, u when they are
 * not. Name agreements are adjusted by how common the agreeing names are: two
 * records agreeing on "García" say less than two agreeing on "Zuleta".
 */
#ifndef RITRA_MATCH_SCORE_H
#define RITRA_MATCH_SCORE_H

#include <stdbool.h>
#include <stddef.h>

#include "compare.h"

enum score_field {
    SCORE_GIVEN,
    SCORE_SURNAME,
    SCORE_BIRTHDATE,
    SCORE_SEX,
    SCORE_CITIZENSHIP,
    SCORE_DOCUMENT,
    SCORE_PHONE,
    SCORE_STREET,
    SCORE_PLACE,
    SCORE_NFIELDS
};

enum score_class { SCORE_NO_MATCH, SCORE_POSSIBLE_MATCH, SCORE_MATCH };

/* Evidence that forbids an automatic link whatever the weight; the pair goes
 * to the review queue instead (if it reaches the lower threshold). */
enum score_cap {
    SCORE_CAP_DOCUMENT = 1,   /* same document type and country, different numbers */
    SCORE_CAP_SIBLING = 2,    /* both surnames agree, the given names do not */
    SCORE_CAP_GENERATION = 4, /* birth dates a generation apart */
    SCORE_CAP_NAMES_ONLY = 8, /* no birth date or document agrees: names are shared */
};

struct score_mu {
    double m; /* P(level | same person) */
    double u; /* P(level | different persons); m or u at 0: the level weighs 0 */
};

struct score_config {
    struct score_mu given[CMP_GIVEN_NLEVELS];
    struct score_mu surname[CMP_SUR_NLEVELS];
    struct score_mu birthdate[BDATE_NLEVELS];
    struct score_mu sex[CMP_NLEVELS];
    struct score_mu citizenship[CMP_NLEVELS];
    struct score_mu document[CMP_DOC_NLEVELS];
    struct score_mu phone[CMP_NLEVELS];
    struct score_mu street[ADDR_STREET_NLEVELS];
    struct score_mu place[ADDR_PLACE_NLEVELS];
    double given_token_u;      /* share of persons carrying a typical given name */
    double surname_token_u;    /* share of persons carrying a typical surname */
    double freq_floor;         /* a name is never taken as rarer than this share */
    double freq_prior;         /* pseudo-persons pulling small tables to the typical share */
    double swap_penalty;       /* bits off when given names and surnames were swapped */
    double match_threshold;    /* total >= this: MATCH */
    double possible_threshold; /* total >= this: POSSIBLE_MATCH */
};

/* The defaults documented in docs/matching.md. */
void score_config_default(struct score_config *cfg);

/* Name frequencies: how many persons carry each folded name token. */
struct score_freq;

enum score_name_kind { SCORE_KIND_GIVEN, SCORE_KIND_SURNAME };

/* An empty table; NULL when out of memory. */
struct score_freq *score_freq_new(void);

/* Frees f; NULL is fine. */
void score_freq_free(struct score_freq *f);

/* Counts one person: each distinct given-name and surname token once, and
 * the person in the population. Returns 0, or -1 when out of memory. */
int score_freq_add_person(struct score_freq *f, const struct match_person *p);

/* Adds count persons carrying the name's tokens (a census table), without
 * touching the population. Returns 0, or -1 when out of memory. */
int score_freq_add_name(struct score_freq *f, enum score_name_kind kind, const char *name_utf8,
                        unsigned long count);

/* Sets the population the counts are out of (after loading a table). */
void score_freq_set_population(struct score_freq *f, unsigned long persons);

/* Share of persons carrying the folded token, smoothed towards typical_u with
 * weight prior and bounded below by floor; typical_u when f is NULL or empty. */
double score_freq_share(const struct score_freq *f, enum score_name_kind kind, const char *folded,
                        double typical_u, double prior, double floor);

struct score_item {
    enum score_field field;
    int level;     /* the field's compare.h level */
    double weight; /* bits */
};

struct score_result {
    double total;
    enum score_class cls;
    unsigned caps; /* enum score_cap bits found (they hold cls below MATCH) */
    bool swapped;  /* given names and surnames compared crosswise */
    struct score_item item[SCORE_NFIELDS];
};

/* Scores a against b (symmetric). freq may be NULL: typical shares are used. */
void score_pair(const struct score_config *cfg, const struct score_freq *freq,
                const struct cmp_record *a, const struct cmp_record *b, struct score_result *out);

/* Names for explanations and logs ("given", "SWAPPED", "MATCH"); "?" for a
 * value out of range. Static strings. */
const char *score_field_name(enum score_field field);
const char *score_level_name(enum score_field field, int level);
const char *score_class_name(enum score_class cls);

/* One line: "given=EXACT(+6.1) surname=SWAPPED(+9.0) ... total=+31.2 MATCH".
 * Returns the length it needed (snprintf semantics). */
size_t score_explain(const struct score_result *r, char *buf, size_t cap);

#define SCORE_KEY_MAX  80
#define SCORE_MAX_KEYS 32

/* Blocking keys of a person: only records sharing a key are scored. Keys
 * look like "doc:nationalid:co:1020304050", "ph:MUNOS:1994",
 * "ph2:MARIA:MUNOS", "dob:1994:0307"; score_block.c lists every family and
 * the corruption it survives. Writes up to max distinct keys; returns how
 * many. */
size_t score_blocking_keys(const struct match_person *p, char keys[][SCORE_KEY_MAX], size_t max);

#endif
