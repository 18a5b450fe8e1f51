/*
 * Field comparators. Names are compared token by token (a token agrees
 * exactly, as a nickname, by sound or within a typo) and then as lists, so
 * that compound given names, surnames in either order and a missing second
 * surname come out as distinct levels that score.c can weigh apart.
 */
#include "compare.h"

#include "phonetic.h"
#include "strsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CANON  4
#define MAX_DOCS   8
#define MAX_PHONES 4
#define MAX_CIT    4
#define MAX_ADDR   4
#define MAX_JOINED 64 /* bytes of a name list joined without spaces */

struct token {
    char text[NORM_TOKEN_MAX];
    char key[PHON_KEY_MAX];
    const char *canon[MAX_CANON]; /* what the token abbreviates, if a nickname */
    size_t ncanon;
    bool from_nick; /* part of an expanded compound nickname (majo → maria jose) */
};

struct name_list {
    size_t n;
    struct token t[NORM_MAX_TOKENS];
};

struct doc {
    char type[24];
    char country[8];
    char number[40];
};

struct cmp_record {
    struct name_list given, alias, sur;
    struct bdate dob;
    char sex; /* 'F', 'M', 'X', or 0 when unknown */
    size_t ncit, ndoc, nphone, naddr;
    char cit[MAX_CIT][4];
    struct doc doc[MAX_DOCS];
    char phone[MAX_PHONES][12];
    struct addr_norm addr[MAX_ADDR];
};

static void fill_token(struct token *t, const char *text, bool from_nick)
{
    snprintf(t->text, sizeof(t->text), "%s", text);
    phon_key(t->text, t->key, sizeof(t->key));
    t->ncanon = norm_nicknames(t->text, t->canon, MAX_CANON);
    t->from_nick = from_nick;
}

/* Adds tokens; a nickname that stands for exactly one compound name is
 * replaced by that name so that "Majo" lines up with "María José". */
static void add_names(struct name_list *l, const char *utf8)
{
    struct norm_tokens nt = {0};

    norm_name_tokens(utf8, NORM_GIVEN, &nt);
    for (size_t i = 0; i < nt.n && l->n < NORM_MAX_TOKENS; i++) {
        const char *canon[2];
        size_t nc = norm_nicknames(nt.tok[i], canon, 2);

        if (nc == 1 && strchr(canon[0], ' ')) {
            struct norm_tokens ct = {0};

            norm_name_tokens(canon[0], NORM_GIVEN, &ct);
            for (size_t j = 0; j < ct.n && l->n < NORM_MAX_TOKENS; j++)
                fill_token(&l->t[l->n++], ct.tok[j], true);
            continue;
        }
        fill_token(&l->t[l->n++], nt.tok[i], false);
    }
}

static void add_surnames(struct name_list *l, const char *utf8)
{
    struct norm_tokens nt = {0};

    norm_name_tokens(utf8, NORM_SURNAME, &nt);
    for (size_t i = 0; i < nt.n && l->n < NORM_MAX_TOKENS; i++)
        fill_token(&l->t[l->n++], nt.tok[i], false);
}

static char parse_sex(const char *s)
{
    static const char *const female[] = {"female", "f", "femenino", "mujer", NULL};
    static const char *const male[] = {"male", "m", "masculino", "hombre", NULL};
    char f[16];

    norm_fold(s, f, sizeof(f));
    for (size_t i = 0; female[i]; i++)
        if (strcmp(f, female[i]) == 0)
            return 'F';
    for (size_t i = 0; male[i]; i++)
        if (strcmp(f, male[i]) == 0)
            return 'M';
    return strcmp(f, "intersex") == 0 ? 'X' : 0;
}

struct cmp_record *cmp_record_new(const struct match_person *p)
{
    struct cmp_record *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    add_names(&r->given, p->given);
    add_names(&r->given, p->middle);
    for (size_t i = 0; i < p->n_aliases; i++)
        add_names(&r->alias, p->aliases[i]);
    add_surnames(&r->sur, p->first_surname);
    add_surnames(&r->sur, p->second_surname);
    bdate_parse(p->birthdate, &r->dob);
    r->sex = parse_sex(p->sex);
    for (size_t i = 0; i < p->n_citizenship && r->ncit < MAX_CIT; i++)
        if (norm_code(p->citizenship[i], r->cit[r->ncit], sizeof(r->cit[0])) > 0)
            r->ncit++;
    for (size_t i = 0; i < p->n_documents && r->ndoc < MAX_DOCS; i++) {
        struct doc *d = &r->doc[r->ndoc];

        if (norm_document(p->documents[i].number, d->number, sizeof(d->number)) == 0)
            continue;
        norm_code(p->documents[i].type, d->type, sizeof(d->type));
        norm_code(p->documents[i].country, d->country, sizeof(d->country));
        r->ndoc++;
    }
    for (size_t i = 0; i < p->n_phones && r->nphone < MAX_PHONES; i++)
        if (norm_phone(p->phones[i], r->phone[r->nphone], sizeof(r->phone[0])) > 0)
            r->nphone++;
    for (size_t i = 0; i < p->n_addresses && r->naddr < MAX_ADDR; i++)
        addr_normalize(&p->addresses[i], &r->addr[r->naddr++]);
    return r;
}

void cmp_record_free(struct cmp_record *r)
{
    free(r);
}

/* Token agreement, best first. */
enum tl { TL_EXACT, TL_NICK, TL_PHON, TL_SIMILAR, TL_NONE };

static bool canon_has(const struct token *t, const char *s)
{
    for (size_t i = 0; i < t->ncanon; i++)
        if (strcmp(t->canon[i], s) == 0)
            return true;
    return false;
}

static enum tl token_level(const struct token *a, const struct token *b, bool given)
{
    if (strcmp(a->text, b->text) == 0)
        return a->from_nick == b->from_nick ? TL_EXACT : TL_NICK;
    if (given) {
        if (canon_has(a, b->text) || canon_has(b, a->text))
            return TL_NICK;
        for (size_t i = 0; i < a->ncanon; i++)
            if (canon_has(b, a->canon[i]))
                return TL_NICK;
        /* daniel/daniela are one letter apart and two people */
        if (norm_gender_variant(a->text, b->text))
            return TL_NONE;
        /* an initial stands for any name it begins */
        if ((a->text[1] == '\0' || b->text[1] == '\0') && a->text[0] == b->text[0])
            return TL_SIMILAR;
    }
    if (a->key[0] && strcmp(a->key, b->key) == 0)
        return TL_PHON;
    if (sim_typo(a->text, b->text))
        return TL_SIMILAR;
    /* a slip on top of a spelling by ear: Kárdenas / Carenas, Castiyo / Casitillo */
    return sim_typo(a->key, b->key) && strlen(a->key) >= 5 ? TL_SIMILAR : TL_NONE;
}

struct align {
    size_t k;
    enum tl worst;
    bool ordered; /* matched tokens appear in the same order on both sides */
    size_t ia[NORM_MAX_TOKENS], ib[NORM_MAX_TOKENS];
};

/* Greedy alignment, best agreements first; lists hold a handful of tokens,
 * where greedy and optimal assignment coincide in practice. */
static void align(const struct name_list *a, const struct name_list *b, bool given,
                  struct align *al)
{
    enum tl m[NORM_MAX_TOKENS][NORM_MAX_TOKENS];
    bool ua[NORM_MAX_TOKENS] = {false}, ub[NORM_MAX_TOKENS] = {false};

    al->k = 0;
    al->worst = TL_EXACT;
    al->ordered = true;
    for (size_t i = 0; i < a->n; i++)
        for (size_t j = 0; j < b->n; j++)
            m[i][j] = token_level(&a->t[i], &b->t[j], given);
    for (int lv = TL_EXACT; lv < TL_NONE; lv++) {
        for (size_t i = 0; i < a->n; i++) {
            if (ua[i])
                continue;
            for (size_t j = 0; j < b->n; j++) {
                if (ub[j] || m[i][j] != (enum tl)lv)
                    continue;
                ua[i] = ub[j] = true;
                al->ia[al->k] = i;
                al->ib[al->k] = j;
                al->k++;
                al->worst = (enum tl)lv;
                break;
            }
        }
    }
    /* pairs were found level by level: order them by position in a */
    for (size_t x = 1; x < al->k; x++)
        for (size_t y = x; y > 0 && al->ia[y - 1] > al->ia[y]; y--) {
            size_t t = al->ia[y];
            al->ia[y] = al->ia[y - 1];
            al->ia[y - 1] = t;
            t = al->ib[y];
            al->ib[y] = al->ib[y - 1];
            al->ib[y - 1] = t;
        }
    for (size_t x = 1; x < al->k; x++)
        if (al->ib[x] < al->ib[x - 1])
            al->ordered = false;
}

static void record_agreed(const struct name_list *a, const struct name_list *b,
                          const struct align *al, struct cmp_name_result *r)
{
    r->n_agreed = al->k;
    for (size_t x = 0; x < al->k; x++) {
        r->agreed_a[x] = a->t[al->ia[x]].text;
        r->agreed_b[x] = b->t[al->ib[x]].text;
    }
}

static void join_tokens(const struct name_list *l, char *out, size_t cap)
{
    size_t o = 0;

    for (size_t i = 0; i < l->n; i++) {
        size_t n = strlen(l->t[i].text);

        if (o + n >= cap)
            n = cap - 1 - o;
        memcpy(out + o, l->t[i].text, n);
        o += n;
    }
    out[o] = '\0';
}

/* "mariajose" against "maria jose", "gomezrestrepo" against "gomez
 * restrepo": the lists joined without spaces, 0 equal, 1 a typo apart, 2
 * otherwise. Only asked when one side has several tokens: for two single
 * tokens the token comparison (which knows daniel/daniela) is final. */
static int joined(const struct name_list *a, const struct name_list *b)
{
    char ja[MAX_JOINED + 1], jb[MAX_JOINED + 1];

    join_tokens(a, ja, sizeof(ja));
    join_tokens(b, jb, sizeof(jb));
    if (strcmp(ja, jb) == 0)
        return 0;
    return sim_typo(ja, jb) ? 1 : 2;
}

static void given_level(const struct name_list *a, const struct name_list *b,
                        struct cmp_name_result *r)
{
    static const int full[] = {CMP_GIVEN_EXACT, CMP_GIVEN_NICKNAME, CMP_GIVEN_PHONETIC,
                               CMP_GIVEN_SIMILAR};
    struct align al;

    r->n_agreed = 0;
    if (a->n == 0 || b->n == 0) {
        r->level = CMP_GIVEN_MISSING;
        return;
    }
    align(a, b, true, &al);
    record_agreed(a, b, &al, r);
    if (al.k == 0) {
        int j = a->n + b->n > 2 ? joined(a, b) : 2;

        r->level = j == 0 ? CMP_GIVEN_EXACT : j == 1 ? CMP_GIVEN_SIMILAR : CMP_GIVEN_DIFFERENT;
    } else if (al.k == a->n && al.k == b->n) {
        /* José María is not María José: reordered compounds only half agree */
        r->level = al.ordered ? full[al.worst] : CMP_GIVEN_PARTIAL;
    } else if (al.k == a->n || al.k == b->n) {
        r->level = CMP_GIVEN_PARTIAL;
    } else {
        r->level = CMP_GIVEN_CONFLICT;
    }
}

static void surname_level(const struct name_list *a, const struct name_list *b,
                          struct cmp_name_result *r)
{
    struct align al;

    r->n_agreed = 0;
    if (a->n == 0 || b->n == 0) {
        r->level = CMP_SUR_MISSING;
        return;
    }
    align(a, b, false, &al);
    record_agreed(a, b, &al, r);
    if (al.k == 0) {
        int j = a->n + b->n > 2 ? joined(a, b) : 2;

        /* "Gomezrestrepo" holds both surnames; a typo in it only one for sure */
        r->level = j == 0 ? CMP_SUR_BOTH_FUZZY : j == 1 ? CMP_SUR_ONE_FUZZY : CMP_SUR_DIFFERENT;
    } else if (al.k == a->n || al.k == b->n) {
        if (al.k >= 2)
            r->level = !al.ordered            ? CMP_SUR_SWAPPED
                       : al.worst == TL_EXACT ? CMP_SUR_BOTH_EXACT
                                              : CMP_SUR_BOTH_FUZZY;
        else
            r->level = al.worst == TL_EXACT ? CMP_SUR_ONE_EXACT : CMP_SUR_ONE_FUZZY;
    } else {
        r->level = CMP_SUR_CONFLICT;
    }
}

static bool given_agrees(int level)
{
    return level >= CMP_GIVEN_EXACT && level <= CMP_GIVEN_PARTIAL;
}

static bool surname_agrees(int level)
{
    return level >= CMP_SUR_BOTH_EXACT && level <= CMP_SUR_ONE_FUZZY;
}

void cmp_names(const struct cmp_record *a, const struct cmp_record *b, struct cmp_names *out)
{
    struct cmp_name_result g2, s2;

    out->swapped = false;
    given_level(&a->given, &b->given, &out->given);
    surname_level(&a->sur, &b->sur, &out->surname);

    /* An alias ("Pepe", "la Mona") may be the name the other agency wrote. */
    if (!given_agrees(out->given.level) && (a->alias.n > 0 || b->alias.n > 0)) {
        const struct name_list *pairs[3][2] = {
            {&a->alias, &b->given}, {&a->given, &b->alias}, {&a->alias, &b->alias}};

        for (size_t i = 0; i < 3; i++) {
            given_level(pairs[i][0], pairs[i][1], &g2);
            if (g2.level >= CMP_GIVEN_EXACT && g2.level <= CMP_GIVEN_PHONETIC) {
                out->given = g2;
                out->given.level = CMP_GIVEN_NICKNAME;
                break;
            }
        }
    }

    /* Given names and surnames in each other's fields: only considered when
     * the straight reading finds nothing in common at all. */
    if (given_agrees(out->given.level) || surname_agrees(out->surname.level))
        return;
    given_level(&a->given, &b->sur, &g2);
    surname_level(&a->sur, &b->given, &s2);
    if ((given_agrees(g2.level) || surname_agrees(s2.level)) &&
        (given_agrees(g2.level) || g2.level == CMP_GIVEN_MISSING) &&
        (surname_agrees(s2.level) || s2.level == CMP_SUR_MISSING)) {
        out->given = g2;
        out->surname = s2;
        out->swapped = true;
    }
}

enum bdate_level cmp_birthdate(const struct cmp_record *a, const struct cmp_record *b)
{
    return bdate_compare(&a->dob, &b->dob);
}

enum cmp_level cmp_sex(const struct cmp_record *a, const struct cmp_record *b)
{
    if (a->sex == 0 || b->sex == 0)
        return CMP_MISSING;
    return a->sex == b->sex ? CMP_AGREE : CMP_DISAGREE;
}

enum cmp_level cmp_citizenship(const struct cmp_record *a, const struct cmp_record *b)
{
    if (a->ncit == 0 || b->ncit == 0)
        return CMP_MISSING;
    for (size_t i = 0; i < a->ncit; i++)
        for (size_t j = 0; j < b->ncit; j++)
            if (strcmp(a->cit[i], b->cit[j]) == 0)
                return CMP_AGREE;
    return CMP_DISAGREE;
}

enum cmp_level cmp_phones(const struct cmp_record *a, const struct cmp_record *b)
{
    if (a->nphone == 0 || b->nphone == 0)
        return CMP_MISSING;
    for (size_t i = 0; i < a->nphone; i++)
        for (size_t j = 0; j < b->nphone; j++)
            if (strcmp(a->phone[i], b->phone[j]) == 0)
                return CMP_AGREE;
    return CMP_DISAGREE;
}

/* Does d conflict with the documents of other: the other side holds the same
 * type from the same country, and none of those numbers is d's or a typo of
 * it? Sets *agree / *near for what it finds on the way. */
static bool doc_conflicts(const struct doc *d, const struct cmp_record *other, bool *agree,
                          bool *near, bool *other_type)
{
    bool group = false, ok = false;

    for (size_t j = 0; j < other->ndoc; j++) {
        const struct doc *e = &other->doc[j];
        bool same_type = strcmp(d->type, e->type) == 0;
        bool countries_known = d->country[0] && e->country[0];
        bool same_country = strcmp(d->country, e->country) == 0;

        if (strcmp(d->number, e->number) == 0) {
            if (same_type && (same_country || !countries_known)) {
                *agree = true;
                ok = true;
            } else {
                *other_type = true;
            }
            continue;
        }
        if (!same_type || !countries_known || !same_country)
            continue;
        group = true;
        if (strlen(d->number) >= 5 && sim_edit_distance(d->number, e->number, 1) <= 1) {
            *near = true;
            ok = true;
        }
    }
    return group && !ok;
}

enum cmp_doc_level cmp_documents(const struct cmp_record *a, const struct cmp_record *b)
{
    bool agree = false, near = false, other = false, conflict = false;

    for (size_t i = 0; i < a->ndoc; i++)
        conflict |= doc_conflicts(&a->doc[i], b, &agree, &near, &other);
    for (size_t i = 0; i < b->ndoc; i++)
        conflict |= doc_conflicts(&b->doc[i], a, &agree, &near, &other);
    if (conflict)
        return CMP_DOC_CONFLICT;
    if (agree)
        return CMP_DOC_AGREE;
    if (near)
        return CMP_DOC_NEAR;
    return other ? CMP_DOC_OTHER_TYPE : CMP_DOC_MISSING;
}

void cmp_addresses(const struct cmp_record *a, const struct cmp_record *b, struct addr_levels *out)
{
    addr_compare(a->addr, a->naddr, b->addr, b->naddr, out);
}

static const char *level_name(const char *const *names, size_t n, int level)
{
    return level >= 0 && (size_t)level < n ? names[level] : "?";
}

#define LEVEL_NAME(names, level) level_name(names, sizeof(names) / sizeof(names[0]), level)

const char *cmp_given_level_name(int level)
{
    static const char *const n[] = {"MISSING", "EXACT",   "NICKNAME", "PHONETIC",
                                    "SIMILAR", "PARTIAL", "CONFLICT", "DIFFERENT"};
    return LEVEL_NAME(n, level);
}

const char *cmp_surname_level_name(int level)
{
    static const char *const n[] = {"MISSING",   "BOTH_EXACT", "BOTH_FUZZY", "SWAPPED",
                                    "ONE_EXACT", "ONE_FUZZY",  "CONFLICT",   "DIFFERENT"};
    return LEVEL_NAME(n, level);
}

const char *cmp_level_name(int level)
{
    static const char *const n[] = {"MISSING", "AGREE", "DISAGREE"};
    return LEVEL_NAME(n, level);
}

const char *cmp_doc_level_name(int level)
{
    static const char *const n[] = {"MISSING", "AGREE", "NEAR", "OTHER_TYPE", "CONFLICT"};
    return LEVEL_NAME(n, level);
}
