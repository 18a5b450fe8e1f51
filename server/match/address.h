/*
 * Postal addresses: normalised street tokens, place (city, postal code) and
 * their agreement levels. A person's address is weaker evidence than a name
 * (people move; shelters house many), so it is compared coarsely.
 */
#ifndef RITRA_MATCH_ADDRESS_H
#define RITRA_MATCH_ADDRESS_H

#include <stddef.h>

#include "normalize.h"

#define ADDR_MAX_TOKENS 8

/* One address as the matcher's caller has it (all strings may be NULL). */
struct match_address {
    const char *street; /* "Calle 45 # 23-10", "6 tullaroop street willaroo" */
    const char *city;
    const char *state;
    const char *postal_code;
    const char *country; /* ISO 3166-1 alpha-2 */
};

struct addr_norm {
    size_t nstreet;
    char street[ADDR_MAX_TOKENS][NORM_TOKEN_MAX]; /* folded, street-type words dropped */
    char city[64];                                /* folded */
    char postcode[16];                            /* letters and digits */
    char country[8];                              /* lowercase code */
};

enum addr_street_level {
    ADDR_STREET_MISSING,   /* no street on one side */
    ADDR_STREET_EXACT,     /* same words and number */
    ADDR_STREET_SIMILAR,   /* one side's words all found on the other, typos allowed */
    ADDR_STREET_PARTIAL,   /* the street name agrees, not the rest */
    ADDR_STREET_DIFFERENT, /* nothing in common */
    ADDR_STREET_NLEVELS
};

enum addr_place_level {
    ADDR_PLACE_MISSING,   /* nothing comparable */
    ADDR_PLACE_BOTH,      /* postal code and city agree */
    ADDR_PLACE_POSTCODE,  /* postal code agrees */
    ADDR_PLACE_CITY,      /* city agrees */
    ADDR_PLACE_DIFFERENT, /* both known, neither agrees */
    ADDR_PLACE_NLEVELS
};

struct addr_levels {
    enum addr_street_level street;
    enum addr_place_level place;
};

/* Normalises one address into *out. */
void addr_normalize(const struct match_address *in, struct addr_norm *out);

/* Best street and place agreement over every pair of a's and b's addresses
 * (the two best may come from different pairs). */
void addr_compare(const struct addr_norm *a, size_t na, const struct addr_norm *b, size_t nb,
                  struct addr_levels *out);

const char *addr_street_level_name(int level);
const char *addr_place_level_name(int level);

#endif
