/*
 * Name tables of the Colombian generator (colgen.c).
 */
#ifndef RITRA_EVAL_COLGEN_NAMES_H
#define RITRA_EVAL_COLGEN_NAMES_H

#include <stddef.h>

struct wname {
    const char *name;
    int weight; /* relative frequency */
};

struct colgen_nick {
    const char *name, *nick;
};

/* Surnames, commonest first (the first fifteen make the namesakes). */
extern const struct wname colgen_surnames[];
extern const size_t colgen_n_surnames;
extern const struct wname colgen_male[];
extern const size_t colgen_n_male;
extern const struct wname colgen_female[];
extern const size_t colgen_n_female;
extern const struct colgen_nick colgen_nicks[];
extern const size_t colgen_n_nicks;

#endif
