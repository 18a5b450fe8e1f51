/*
 * Name, document and phone normalisation for the person matcher.
 *
 * Everything here is a pure function of its input: no allocation, no global
 * state, fixed-size outputs. Input is expected to be valid UTF-8 (the request
 * validator checks it) but malformed bytes are skipped, never trusted.
 */
#ifndef RITRA_MATCH_NORMALIZE_H
#define RITRA_MATCH_NORMALIZE_H

#include <stdbool.h>
#include <stddef.h>

#define NORM_MAX_TOKENS 8  /* tokens kept per name part; the rest are ignored */
#define NORM_TOKEN_MAX  32 /* bytes per token including the NUL; longer ones are cut */

/* Which part of a name a text belongs to: Spanish connectors (de, del, la,
 * y...) are dropped from both, foreign surname particles (da, van, von...)
 * only from surnames. */
enum norm_part {
    NORM_GIVEN,
    NORM_SURNAME,
};

struct norm_tokens {
    size_t n;
    char tok[NORM_MAX_TOKENS][NORM_TOKEN_MAX];
};

/* Folds UTF-8 text to lowercase ASCII letters, digits and single spaces:
 * accents and diaeresis removed, ñ→n, ç→c, æ→ae, ß→ss, combining marks
 * dropped, apostrophes deleted, other punctuation turned into spaces, other
 * scripts dropped. NULL reads as "". Writes at most cap-1 bytes and a NUL
 * (cap > 0); returns the length written. */
size_t norm_fold(const char *in, char *out, size_t cap);

/* True if the folded token is a name particle or connector (de, del, la,
 * los, las, y, e, da, do, dos, van, von...). */
bool norm_is_particle(const char *folded);

/* Tokens of a name: folded, particles removed as part says (unless the name
 * is nothing but particles, then they are kept). Appends to out (which the caller
 * zeroes first); returns the number of tokens appended. */
size_t norm_name_tokens(const char *utf8, enum norm_part part, struct norm_tokens *out);

/* Canonical full names a folded given-name token abbreviates ("pepe" →
 * "jose"; "beto" → "alberto", "roberto"; "majo" → "maria jose"). Stores up to
 * max pointers to static strings in canon; returns how many (0: not a known
 * nickname). */
size_t norm_nicknames(const char *folded, const char **canon, size_t max);

/* True if the nickname table is in the order norm_nicknames' search needs. */
bool norm_nicknames_sorted(void);

/* True if two folded tokens are the masculine and feminine forms of one
 * name (daniel/daniela, mario/maria): a typo-distance that is a different
 * person. */
bool norm_gender_variant(const char *a, const char *b);

/* Document number: ASCII letters uppercased and digits kept, everything else
 * (dots, dashes, spaces) dropped; leading zeros of an all-digit number are
 * dropped. Returns the length written into out (cap > 0). */
size_t norm_document(const char *in, char *out, size_t cap);

/* A code (document type, country): ASCII letters and digits, lowercased.
 * Returns the length written (cap > 0). */
size_t norm_code(const char *in, char *out, size_t cap);

/* Phone: its last 10 digits (country prefixes vary between agencies), or ""
 * when it holds fewer than 7 digits. Returns the length written (cap > 0). */
size_t norm_phone(const char *in, char *out, size_t cap);

#endif
