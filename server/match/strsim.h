/*
 * String similarity for folded names: Jaro-Winkler, edit distance, and the
 * matcher's notion of "a typo apart".
 */
#ifndef RITRA_MATCH_STRSIM_H
#define RITRA_MATCH_STRSIM_H

#include <stdbool.h>

#define SIM_MAX_LEN 64 /* bytes looked at; longer strings are compared on their prefix */

/* Jaro-Winkler similarity of two byte strings, 0..1 (1 for two empty ones). */
double sim_jaro_winkler(const char *a, const char *b);

/* Optimal-string-alignment distance (insertions, deletions, substitutions,
 * adjacent transpositions), computed up to limit (0..SIM_MAX_LEN): returns
 * limit + 1 when the distance is larger. */
int sim_edit_distance(const char *a, const char *b, int limit);

/* A typo apart: one edit for words of four letters or more, two for words of
 * seven or more that stay close by Jaro-Winkler. Short words ("ana", "eva")
 * collide too easily to forgive anything. */
bool sim_typo(const char *a, const char *b);

#endif
