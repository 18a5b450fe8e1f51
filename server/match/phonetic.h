/*
 * A phonetic key for Spanish and Latin-American names.
 *
 * PostgreSQL's soundex/metaphone are built for English and work on bytes,
 * not UTF-8; this key encodes the spelling variants a Spanish speaker
 * produces when writing a name heard aloud (b/v, s/z/c, ll/y, g/j, silent h,
 * qu/k/c). docs/matching.md lists the rules with examples.
 */
#ifndef RITRA_MATCH_PHONETIC_H
#define RITRA_MATCH_PHONETIC_H

#include <stddef.h>

#define PHON_KEY_MAX 32 /* bytes of a key including the NUL; longer keys are cut */

/* Key of one folded token (lowercase ASCII as norm_fold() writes; other
 * bytes are skipped). Writes an uppercase key into out (cap > 0), returns
 * its length: 0 when the token holds no letters. */
size_t phon_key(const char *folded, char *out, size_t cap);

/* Key of arbitrary UTF-8 text: folded, each word keyed, keys joined by one
 * space (particles kept). Returns the length written (cap > 0). */
size_t phon_key_text(const char *utf8, char *out, size_t cap);

#endif
