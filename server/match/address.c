/*
 * Address normalisation and comparison. Street-type words (street, calle,
 * carrera...) are dropped before comparing because agencies abbreviate them
 * differently ("Cra", "Kr", "Carrera") and they say nothing about identity.
 */
#include "address.h"

#include "strsim.h"

#include <stdbool.h>
#include <string.h>

static const char *const street_words[] = {
    "street", "st",          "road",  "rd",      "avenue", "ave",      "av",   "avenida",
    "calle",  "cll",         "cl",    "carrera", "cra",    "kr",       "cr",   "diagonal",
    "dg",     "transversal", "tv",    "place",   "pl",     "crescent", "cres", "circuit",
    "cct",    "close",       "court", "ct",      "drive",  "dr",       "lane", "ln",
    "way",    "parade",      "pde",   "highway", "hwy",    "terrace",  "tce",  "boulevard",
    "blvd",   "no",          "nro",   "numero",  "num",    "n",        NULL,
};

static bool street_word(const char *t)
{
    for (size_t i = 0; street_words[i]; i++)
        if (strcmp(t, street_words[i]) == 0)
            return true;
    return false;
}

void addr_normalize(const struct match_address *in, struct addr_norm *out)
{
    char folded[256];
    const char *p = folded;

    memset(out, 0, sizeof(*out));
    norm_fold(in->street, folded, sizeof(folded));
    while (*p && out->nstreet < ADDR_MAX_TOKENS) {
        size_t n = strcspn(p, " ");

        if (n < NORM_TOKEN_MAX) {
            memcpy(out->street[out->nstreet], p, n);
            out->street[out->nstreet][n] = '\0';
            if (!street_word(out->street[out->nstreet]))
                out->nstreet++;
        }
        p += n;
        while (*p == ' ')
            p++;
    }
    norm_fold(in->city, out->city, sizeof(out->city));
    norm_code(in->postal_code, out->postcode, sizeof(out->postcode));
    norm_code(in->country, out->country, sizeof(out->country));
}

static bool is_number(const char *t)
{
    return strspn(t, "0123456789") == strlen(t);
}

static enum addr_street_level street_level(const struct addr_norm *a, const struct addr_norm *b)
{
    bool ub[ADDR_MAX_TOKENS] = {false};
    size_t k = 0, exact = 0, words = 0, mn;

    if (a->nstreet == 0 || b->nstreet == 0)
        return ADDR_STREET_MISSING;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < a->nstreet; i++) {
            for (size_t j = 0; j < b->nstreet; j++) {
                bool same = strcmp(a->street[i], b->street[j]) == 0;

                if (ub[j] || (pass == 0 && !same))
                    continue;
                /* house numbers must be exact: 12 and 21 are different doors */
                if (pass == 1 &&
                    (same || is_number(a->street[i]) || !sim_typo(a->street[i], b->street[j])))
                    continue;
                ub[j] = true;
                k++;
                exact += pass == 0;
                words += !is_number(a->street[i]);
                break;
            }
        }
    mn = a->nstreet < b->nstreet ? a->nstreet : b->nstreet;
    if (exact == a->nstreet && exact == b->nstreet)
        return ADDR_STREET_EXACT;
    if (k == mn && k >= 2)
        return ADDR_STREET_SIMILAR;
    return words > 0 ? ADDR_STREET_PARTIAL : ADDR_STREET_DIFFERENT;
}

static enum addr_place_level place_level(const struct addr_norm *a, const struct addr_norm *b)
{
    bool pc = a->postcode[0] && strcmp(a->postcode, b->postcode) == 0;
    bool city =
        a->city[0] && b->city[0] && (strcmp(a->city, b->city) == 0 || sim_typo(a->city, b->city));

    if (pc && city)
        return ADDR_PLACE_BOTH;
    if (pc)
        return ADDR_PLACE_POSTCODE;
    if (city)
        return ADDR_PLACE_CITY;
    if ((a->postcode[0] && b->postcode[0]) || (a->city[0] && b->city[0]))
        return ADDR_PLACE_DIFFERENT;
    return ADDR_PLACE_MISSING;
}

/* Levels are ordered best first after MISSING; DIFFERENT beats MISSING only
 * in the sense that it is known. */
static int better(int cur, int cand, int missing)
{
    if (cur == missing)
        return cand;
    if (cand == missing)
        return cur;
    return cand < cur ? cand : cur;
}

void addr_compare(const struct addr_norm *a, size_t na, const struct addr_norm *b, size_t nb,
                  struct addr_levels *out)
{
    out->street = ADDR_STREET_MISSING;
    out->place = ADDR_PLACE_MISSING;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++) {
            /* the same street name in two countries is two streets */
            if (a[i].country[0] && b[j].country[0] && strcmp(a[i].country, b[j].country) != 0) {
                out->place = better(out->place, ADDR_PLACE_DIFFERENT, ADDR_PLACE_MISSING);
                continue;
            }
            out->street = better(out->street, street_level(&a[i], &b[j]), ADDR_STREET_MISSING);
            out->place = better(out->place, place_level(&a[i], &b[j]), ADDR_PLACE_MISSING);
        }
}

const char *addr_street_level_name(int level)
{
    static const char *const n[] = {"MISSING", "EXACT", "SIMILAR", "PARTIAL", "DIFFERENT"};

    return level >= 0 && level < ADDR_STREET_NLEVELS ? n[level] : "?";
}

const char *addr_place_level_name(int level)
{
    static const char *const n[] = {"MISSING", "BOTH", "POSTCODE", "CITY", "DIFFERENT"};

    return level >= 0 && level < ADDR_PLACE_NLEVELS ? n[level] : "?";
}
