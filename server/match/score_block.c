/*
 * Blocking keys: two records are scored only if they share a key. Each key
 * family survives a different corruption, so that a true duplicate shares at
 * least one key even when its date, a surname or the document is wrong:
 *
 *   doc  type, country, number          any error in the names or date
 *   dn   number alone                   a type or country recorded wrongly
 *   dh/dt  type, first/last half of it  a typo in the document number
 *   ph   surname sound, birth year      given-name changes, date typos
 *   ph2  given and surname sounds       no usable date (sorted pair, so a
 *                                       given name in the surname field meets)
 *   ss   both surname sounds            no date, compound given name cut
 *   md   surname sound, day and month   a wrong year
 *   fs   three letters of the surname, year   phonetic key broken by a typo
 *   gs   two letters of the given name, three of the surname
 *   si   surname sound, given initial
 *   dob  year, day and month sorted     surname changed or misspelt
 *   tel  phone number                   names and date both poor
 *   ad/as  house number with postal code / street word
 *
 * The blocks of common keys (ss:RODRIGES:GOMES, a shelter's address) grow
 * with the registry: callers skip blocks above a size they choose.
 */
#include "score.h"

#include "phonetic.h"

#include <stdio.h>
#include <string.h>

struct keyset {
    char (*keys)[SCORE_KEY_MAX];
    size_t n, max;
};

static void key_add(struct keyset *ks, const char *kind, const char *a, const char *b)
{
    char k[SCORE_KEY_MAX];

    if (a[0] == '\0' || b[0] == '\0')
        return;
    snprintf(k, sizeof(k), "%s:%s:%s", kind, a, b);
    for (size_t i = 0; i < ks->n; i++)
        if (strcmp(ks->keys[i], k) == 0)
            return;
    if (ks->n < ks->max)
        memcpy(ks->keys[ks->n++], k, sizeof(k));
}

/* Adds kind:x:y with x and y in sorted order. */
static void key_add_sorted(struct keyset *ks, const char *kind, const char *x, const char *y)
{
    if (strcmp(x, y) <= 0)
        key_add(ks, kind, x, y);
    else
        key_add(ks, kind, y, x);
}

/* The key of a given-name token: a nickname keys as the name it stands for,
 * so that Pepe and José meet. */
static void given_key(const char *tok, char *out, size_t cap)
{
    const char *canon[1];
    char first[NORM_TOKEN_MAX];

    if (norm_nicknames(tok, canon, 1) == 1) {
        snprintf(first, sizeof(first), "%.*s", (int)strcspn(canon[0], " "), canon[0]);
        tok = first;
    }
    phon_key(tok, out, cap);
}

static void document_keys(struct keyset *ks, const struct match_person *p)
{
    for (size_t i = 0; i < p->n_documents; i++) {
        char type[24], country[8], number[40], tc[40], half[24];
        size_t len, h;

        norm_code(p->documents[i].type, type, sizeof(type));
        norm_code(p->documents[i].country, country, sizeof(country));
        len = norm_document(p->documents[i].number, number, sizeof(number));
        if (len < 4)
            continue;
        snprintf(tc, sizeof(tc), "%s:%s", type, country);
        key_add(ks, "doc", tc, number);
        key_add(ks, "dn", number, "-"); /* the number alone: a search by number */
        if (len < 7)
            continue;
        h = (len + 1) / 2;
        snprintf(half, sizeof(half), "%.*s", (int)h, number);
        key_add(ks, "dh", type, half);
        key_add(ks, "dt", type, number + len - h);
    }
}

static void address_keys(struct keyset *ks, const struct match_person *p)
{
    for (size_t i = 0; i < p->n_addresses && i < 2; i++) {
        struct addr_norm an;
        const char *number = NULL, *word = NULL;
        char w4[8];

        addr_normalize(&p->addresses[i], &an);
        for (size_t k = 0; k < an.nstreet; k++) {
            bool digits = strspn(an.street[k], "0123456789") == strlen(an.street[k]);

            if (digits && number == NULL)
                number = an.street[k];
            else if (!digits && word == NULL)
                word = an.street[k];
        }
        if (number && an.postcode[0])
            key_add(ks, "ad", number, an.postcode);
        if (number && word) {
            snprintf(w4, sizeof(w4), "%.4s", word);
            key_add(ks, "as", w4, number);
        }
    }
}

size_t score_blocking_keys(const struct match_person *p, char keys[][SCORE_KEY_MAX], size_t max)
{
    struct keyset ks = {keys, 0, max};
    struct norm_tokens g = {0}, s = {0};
    struct bdate d;
    char year[16] = "", dm[16] = "", gk[2][PHON_KEY_MAX] = {"", ""};
    char sk[2][PHON_KEY_MAX] = {"", ""}, pre[8] = "", gp[4] = "", gi[2] = "";
    size_t ns = 0;

    document_keys(&ks, p);
    norm_name_tokens(p->given, NORM_GIVEN, &g);
    norm_name_tokens(p->middle, NORM_GIVEN, &g);
    norm_name_tokens(p->first_surname, NORM_SURNAME, &s);
    norm_name_tokens(p->second_surname, NORM_SURNAME, &s);
    if (bdate_parse(p->birthdate, &d) == 0)
        snprintf(year, sizeof(year), "%04d", d.year);
    /* 1 January is a placeholder shared by too many to make a useful block */
    if (d.day > 0 && !(d.month == 1 && d.day == 1))
        snprintf(dm, sizeof(dm), "%02d%02d", d.month < d.day ? d.month : d.day,
                 d.month < d.day ? d.day : d.month);
    for (size_t i = 0; i < g.n && i < 2; i++)
        given_key(g.tok[i], gk[i], sizeof(gk[i]));
    for (size_t i = 0; i < s.n && ns < 2; i++)
        if (phon_key(s.tok[i], sk[ns], sizeof(sk[ns])) > 0)
            ns++;
    if (s.n > 0)
        snprintf(pre, sizeof(pre), "%.3s", s.tok[0]);
    if (g.n > 0) {
        snprintf(gp, sizeof(gp), "%.2s", g.tok[0]);
        gi[0] = g.tok[0][0];
        gi[1] = '\0';
    }

    for (size_t i = 0; i < ns; i++) {
        key_add(&ks, "ph", sk[i], year);
        key_add(&ks, "md", sk[i], dm);
        for (size_t j = 0; j < 2; j++)
            if (gk[j][0])
                key_add_sorted(&ks, "ph2", gk[j], sk[i]);
    }
    if (ns == 2)
        key_add_sorted(&ks, "ss", sk[0], sk[1]);
    key_add(&ks, "fs", pre, year);
    key_add(&ks, "gs", gp, pre);
    key_add(&ks, "si", sk[0], gi);
    key_add(&ks, "dob", year, dm);
    for (size_t i = 0; i < p->n_phones && i < 2; i++) {
        char ph[16];

        if (norm_phone(p->phones[i], ph, sizeof(ph)) > 0)
            key_add(&ks, "tel", ph, "-");
    }
    address_keys(&ks, p);
    return ks.n;
}
