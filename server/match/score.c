/*
 * Fellegi–Sunter weights, name frequencies and the decision (blocking keys
 * are in score_block.c). The default m/u values and thresholds are explained
 * in docs/matching.md, with the evaluation (tools/eval) that chose them.
 */
#include "score.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set(struct score_mu *mu, double m, double u)
{
    mu->m = m;
    mu->u = u;
}

void score_config_default(struct score_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    set(&cfg->given[CMP_GIVEN_EXACT], 0.70, 0.02);
    set(&cfg->given[CMP_GIVEN_NICKNAME], 0.03, 0.0015);
    set(&cfg->given[CMP_GIVEN_PHONETIC], 0.04, 0.002);
    set(&cfg->given[CMP_GIVEN_SIMILAR], 0.12, 0.008);
    set(&cfg->given[CMP_GIVEN_PARTIAL], 0.08, 0.04);
    set(&cfg->given[CMP_GIVEN_CONFLICT], 0.01, 0.10);
    set(&cfg->given[CMP_GIVEN_DIFFERENT], 0.05, 0.90);

    set(&cfg->surname[CMP_SUR_BOTH_EXACT], 0.60, 1e-4);
    set(&cfg->surname[CMP_SUR_BOTH_FUZZY], 0.20, 5e-4);
    set(&cfg->surname[CMP_SUR_SWAPPED], 0.10, 2e-4);
    set(&cfg->surname[CMP_SUR_ONE_EXACT], 0.30, 0.01);
    set(&cfg->surname[CMP_SUR_ONE_FUZZY], 0.10, 0.002);
    set(&cfg->surname[CMP_SUR_CONFLICT], 0.015, 0.05);
    set(&cfg->surname[CMP_SUR_DIFFERENT], 0.03, 0.97);

    set(&cfg->birthdate[BDATE_EXACT], 0.85, 4e-5);
    set(&cfg->birthdate[BDATE_SWAPPED], 0.05, 4e-5);
    set(&cfg->birthdate[BDATE_YEAR_PM1], 0.05, 8e-5);
    set(&cfg->birthdate[BDATE_TYPO], 0.08, 6e-4);
    set(&cfg->birthdate[BDATE_YEAR_MONTH], 0.05, 1e-3);
    set(&cfg->birthdate[BDATE_YEAR_ONLY], 0.15, 0.02);
    set(&cfg->birthdate[BDATE_YEAR_ONLY_PM1], 0.04, 0.04);
    set(&cfg->birthdate[BDATE_DIFFERENT], 0.02, 0.90);
    set(&cfg->birthdate[BDATE_FAR], 0.01, 0.60);

    set(&cfg->sex[CMP_AGREE], 0.98, 0.5);
    set(&cfg->sex[CMP_DISAGREE], 0.005, 0.45);
    set(&cfg->citizenship[CMP_AGREE], 0.95, 0.6);
    set(&cfg->citizenship[CMP_DISAGREE], 0.02, 0.3);

    set(&cfg->document[CMP_DOC_AGREE], 0.90, 1e-6);
    set(&cfg->document[CMP_DOC_NEAR], 0.05, 5e-4);
    set(&cfg->document[CMP_DOC_OTHER_TYPE], 0.01, 1e-5);
    set(&cfg->document[CMP_DOC_CONFLICT], 0.05, 0.95);

    set(&cfg->phone[CMP_AGREE], 0.30, 0.002);
    set(&cfg->phone[CMP_DISAGREE], 0.70, 0.998);

    set(&cfg->street[ADDR_STREET_EXACT], 0.60, 1e-4);
    set(&cfg->street[ADDR_STREET_SIMILAR], 0.30, 5e-4);
    set(&cfg->street[ADDR_STREET_PARTIAL], 0.30, 0.02);
    set(&cfg->street[ADDR_STREET_DIFFERENT], 0.05, 0.98);
    set(&cfg->place[ADDR_PLACE_BOTH], 0.60, 5e-4);
    set(&cfg->place[ADDR_PLACE_POSTCODE], 0.08, 0.01);
    set(&cfg->place[ADDR_PLACE_CITY], 0.20, 0.002);
    set(&cfg->place[ADDR_PLACE_DIFFERENT], 0.03, 0.97);

    cfg->given_token_u = 0.02;
    cfg->surname_token_u = 0.01;
    cfg->freq_floor = 1e-5;
    cfg->freq_prior = 20;
    cfg->swap_penalty = 2.0;
    cfg->match_threshold = 18.0;
    cfg->possible_threshold = 10.0;
}

/* ---- name frequencies: an open-addressing table of "kind:token" → persons */

struct freq_entry {
    char *key;
    unsigned long count;
};

struct score_freq {
    struct freq_entry *slots;
    size_t cap, used;
    unsigned long persons;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

struct score_freq *score_freq_new(void)
{
    struct score_freq *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return NULL;
    f->cap = 1024;
    f->slots = calloc(f->cap, sizeof(*f->slots));
    if (f->slots == NULL) {
        free(f);
        return NULL;
    }
    return f;
}

void score_freq_free(struct score_freq *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->cap; i++)
        free(f->slots[i].key);
    free(f->slots);
    free(f);
}

static struct freq_entry *freq_slot(const struct score_freq *f, const char *key)
{
    size_t i = fnv1a(key) & (f->cap - 1);

    while (f->slots[i].key && strcmp(f->slots[i].key, key) != 0)
        i = (i + 1) & (f->cap - 1);
    return &f->slots[i];
}

static int freq_grow(struct score_freq *f)
{
    struct score_freq bigger = {.cap = f->cap * 2};

    bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
    if (bigger.slots == NULL)
        return -1;
    for (size_t i = 0; i < f->cap; i++)
        if (f->slots[i].key)
            *freq_slot(&bigger, f->slots[i].key) = f->slots[i];
    free(f->slots);
    f->slots = bigger.slots;
    f->cap = bigger.cap;
    return 0;
}

static int freq_bump(struct score_freq *f, enum score_name_kind kind, const char *token,
                     unsigned long count)
{
    char key[NORM_TOKEN_MAX + 2];
    struct freq_entry *e;

    snprintf(key, sizeof(key), "%c%s", kind == SCORE_KIND_GIVEN ? 'g' : 's', token);
    if ((f->used + 1) * 10 > f->cap * 7 && freq_grow(f) < 0)
        return -1;
    e = freq_slot(f, key);
    if (e->key == NULL) {
        e->key = strdup(key);
        if (e->key == NULL)
            return -1;
        f->used++;
    }
    e->count += count;
    return 0;
}

/* Each distinct token once: "María María" is one María. */
static int freq_add_tokens(struct score_freq *f, enum score_name_kind kind,
                           const struct norm_tokens *t, unsigned long count)
{
    for (size_t i = 0; i < t->n; i++) {
        bool seen = false;

        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(t->tok[i], t->tok[j]) == 0;
        if (!seen && freq_bump(f, kind, t->tok[i], count) < 0)
            return -1;
    }
    return 0;
}

int score_freq_add_person(struct score_freq *f, const struct match_person *p)
{
    struct norm_tokens g = {0}, s = {0};

    norm_name_tokens(p->given, NORM_GIVEN, &g);
    norm_name_tokens(p->middle, NORM_GIVEN, &g);
    norm_name_tokens(p->first_surname, NORM_SURNAME, &s);
    norm_name_tokens(p->second_surname, NORM_SURNAME, &s);
    if (freq_add_tokens(f, SCORE_KIND_GIVEN, &g, 1) < 0 ||
        freq_add_tokens(f, SCORE_KIND_SURNAME, &s, 1) < 0)
        return -1;
    f->persons++;
    return 0;
}

int score_freq_add_name(struct score_freq *f, enum score_name_kind kind, const char *name_utf8,
                        unsigned long count)
{
    struct norm_tokens t = {0};

    norm_name_tokens(name_utf8, kind == SCORE_KIND_GIVEN ? NORM_GIVEN : NORM_SURNAME, &t);
    return freq_add_tokens(f, kind, &t, count);
}

void score_freq_set_population(struct score_freq *f, unsigned long persons)
{
    f->persons = persons;
}

double score_freq_share(const struct score_freq *f, enum score_name_kind kind, const char *folded,
                        double typical_u, double prior, double floor)
{
    char key[NORM_TOKEN_MAX + 2];
    const struct freq_entry *e;
    double share;

    if (f == NULL || f->persons == 0)
        return typical_u;
    snprintf(key, sizeof(key), "%c%s", kind == SCORE_KIND_GIVEN ? 'g' : 's', folded);
    e = freq_slot(f, key);
    /* Smoothing: a table of a few hundred persons must not declare every
     * name it has seen once a one-in-a-million rarity. */
    share = ((e->key ? (double)e->count : 0.0) + prior * typical_u) / ((double)f->persons + prior);
    return share < floor ? floor : share;
}

/* ---- weights */

static double bits(const struct score_mu *mu)
{
    if (mu->m <= 0 || mu->u <= 0)
        return 0.0;
    return log2(mu->m / mu->u);
}

static double share(const struct score_config *cfg, const struct score_freq *freq,
                    enum score_name_kind kind, const char *token)
{
    double typical = kind == SCORE_KIND_GIVEN ? cfg->given_token_u : cfg->surname_token_u;

    return score_freq_share(freq, kind, token, typical, cfg->freq_prior, cfg->freq_floor);
}

/* Rarity of the agreeing names relative to a typical one, in bits: positive
 * for rare names, negative for García. The more common of the two spellings
 * counts, so that a typo does not make a name look rare; names read
 * crosswise (swapped) count as the commoner of given name and surname. */
static double rarity(const struct score_config *cfg, const struct score_freq *freq,
                     enum score_name_kind kind, bool swapped, const struct cmp_name_result *r)
{
    enum score_name_kind other = kind == SCORE_KIND_GIVEN ? SCORE_KIND_SURNAME : SCORE_KIND_GIVEN;
    double typical = kind == SCORE_KIND_GIVEN ? cfg->given_token_u : cfg->surname_token_u;
    double sum = 0.0;

    if (freq == NULL)
        return 0.0;
    for (size_t i = 0; i < r->n_agreed; i++) {
        double f = share(cfg, freq, kind, r->agreed_a[i]);
        double g = share(cfg, freq, kind, r->agreed_b[i]);

        f = f > g ? f : g;
        if (swapped) {
            g = share(cfg, freq, other, r->agreed_a[i]);
            f = f > g ? f : g;
            g = share(cfg, freq, other, r->agreed_b[i]);
            f = f > g ? f : g;
        }
        sum += log2(typical / f);
    }
    return sum;
}

static bool given_frequency_level(int level)
{
    return level >= CMP_GIVEN_EXACT && level <= CMP_GIVEN_PARTIAL;
}

static bool surname_frequency_level(int level)
{
    return level >= CMP_SUR_BOTH_EXACT && level <= CMP_SUR_ONE_FUZZY;
}

static void item(struct score_result *out, enum score_field f, int level, double w)
{
    out->item[f].field = f;
    out->item[f].level = level;
    out->item[f].weight = w;
    out->total += w;
}

/* Something beyond names ties the two records to one person: a birth date
 * that agrees at some precision, or a document. */
static bool corroborated(const struct score_result *r)
{
    int d = r->item[SCORE_BIRTHDATE].level, doc = r->item[SCORE_DOCUMENT].level;

    return doc == CMP_DOC_AGREE || doc == CMP_DOC_NEAR || doc == CMP_DOC_OTHER_TYPE ||
           (d >= BDATE_EXACT && d <= BDATE_YEAR_ONLY_PM1);
}

void score_pair(const struct score_config *cfg, const struct score_freq *freq,
                const struct cmp_record *a, const struct cmp_record *b, struct score_result *out)
{
    struct cmp_names nm;
    struct addr_levels al;
    int lv;
    double w;

    memset(out, 0, sizeof(*out));
    cmp_names(a, b, &nm);
    out->swapped = nm.swapped;

    lv = nm.given.level;
    w = bits(&cfg->given[lv]);
    if (given_frequency_level(lv))
        w += rarity(cfg, freq, SCORE_KIND_GIVEN, nm.swapped, &nm.given);
    if (nm.swapped)
        w -= cfg->swap_penalty;
    item(out, SCORE_GIVEN, lv, w);

    lv = nm.surname.level;
    w = bits(&cfg->surname[lv]);
    if (surname_frequency_level(lv))
        w += rarity(cfg, freq, SCORE_KIND_SURNAME, nm.swapped, &nm.surname);
    item(out, SCORE_SURNAME, lv, w);

    lv = cmp_birthdate(a, b);
    item(out, SCORE_BIRTHDATE, lv, bits(&cfg->birthdate[lv]));
    lv = cmp_sex(a, b);
    item(out, SCORE_SEX, lv, bits(&cfg->sex[lv]));
    lv = cmp_citizenship(a, b);
    item(out, SCORE_CITIZENSHIP, lv, bits(&cfg->citizenship[lv]));
    lv = cmp_documents(a, b);
    item(out, SCORE_DOCUMENT, lv, bits(&cfg->document[lv]));
    lv = cmp_phones(a, b);
    item(out, SCORE_PHONE, lv, bits(&cfg->phone[lv]));
    cmp_addresses(a, b, &al);
    item(out, SCORE_STREET, (int)al.street, bits(&cfg->street[al.street]));
    item(out, SCORE_PLACE, (int)al.place, bits(&cfg->place[al.place]));

    /* Conflicting or missing evidence. Two documents of one type and country with
     * different numbers: only a person can tell a typo from another person.
     * Same parents and another first name: a sibling or a twin is likelier
     * than an error. A generation apart: parent and child share names. The
     * last two yield to an agreeing document. Names with nothing but a phone
     * or an address (which families share) are not enough either. */
    if (out->item[SCORE_DOCUMENT].level == CMP_DOC_CONFLICT)
        out->caps |= SCORE_CAP_DOCUMENT;
    if (out->item[SCORE_DOCUMENT].level != CMP_DOC_AGREE) {
        int s = nm.surname.level, g = nm.given.level;

        bool both = s == CMP_SUR_BOTH_EXACT || s == CMP_SUR_BOTH_FUZZY || s == CMP_SUR_SWAPPED;
        bool one = s == CMP_SUR_ONE_EXACT || s == CMP_SUR_ONE_FUZZY;

        /* "María Ana" and "María Milena" Serna: sisters whatever else agrees */
        if ((both && (g == CMP_GIVEN_CONFLICT || g == CMP_GIVEN_DIFFERENT)) ||
            (one && g == CMP_GIVEN_CONFLICT))
            out->caps |= SCORE_CAP_SIBLING;
        if (out->item[SCORE_BIRTHDATE].level == BDATE_FAR)
            out->caps |= SCORE_CAP_GENERATION;
    }
    if (!corroborated(out))
        out->caps |= SCORE_CAP_NAMES_ONLY;

    if (out->total >= cfg->match_threshold)
        out->cls = out->caps ? SCORE_POSSIBLE_MATCH : SCORE_MATCH;
    else if (out->total >= cfg->possible_threshold)
        out->cls = SCORE_POSSIBLE_MATCH;
    else
        out->cls = SCORE_NO_MATCH;
}

const char *score_field_name(enum score_field field)
{
    static const char *const n[] = {"given",    "surname", "birthdate", "sex",  "citizenship",
                                    "document", "phone",   "street",    "place"};

    return (unsigned)field < SCORE_NFIELDS ? n[field] : "?";
}

const char *score_level_name(enum score_field field, int level)
{
    switch (field) {
    case SCORE_GIVEN:
        return cmp_given_level_name(level);
    case SCORE_SURNAME:
        return cmp_surname_level_name(level);
    case SCORE_BIRTHDATE:
        return bdate_level_name(level);
    case SCORE_DOCUMENT:
        return cmp_doc_level_name(level);
    case SCORE_SEX:
    case SCORE_CITIZENSHIP:
    case SCORE_PHONE:
        return cmp_level_name(level);
    case SCORE_STREET:
        return addr_street_level_name(level);
    case SCORE_PLACE:
        return addr_place_level_name(level);
    case SCORE_NFIELDS:
        break;
    }
    return "?";
}

const char *score_class_name(enum score_class cls)
{
    switch (cls) {
    case SCORE_MATCH:
        return "MATCH";
    case SCORE_POSSIBLE_MATCH:
        return "POSSIBLE_MATCH";
    case SCORE_NO_MATCH:
        return "NO_MATCH";
    }
    return "?";
}

size_t score_explain(const struct score_result *r, char *buf, size_t cap)
{
    size_t o = 0;
    int n;

#define PUT(...)                                                                                   \
    do {                                                                                           \
        n = snprintf(buf + (o < cap ? o : cap), o < cap ? cap - o : 0, __VA_ARGS__);               \
        if (n > 0)                                                                                 \
            o += (size_t)n;                                                                        \
    } while (0)

    if (cap > 0)
        buf[0] = '\0';
    for (int f = 0; f < SCORE_NFIELDS; f++)
        PUT("%s%s=%s(%+.1f)", f ? " " : "", score_field_name((enum score_field)f),
            score_level_name((enum score_field)f, r->item[f].level), r->item[f].weight);
    if (r->swapped)
        PUT(" names-swapped");
    if (r->caps & SCORE_CAP_DOCUMENT)
        PUT(" cap=document-conflict");
    if (r->caps & SCORE_CAP_SIBLING)
        PUT(" cap=sibling");
    if (r->caps & SCORE_CAP_GENERATION)
        PUT(" cap=generation");
    if (r->caps & SCORE_CAP_NAMES_ONLY)
        PUT(" cap=names-only");
    PUT(" total=%+.1f %s", r->total, score_class_name(r->cls));
#undef PUT
    return o;
}
