/*
 * Internal to case validation (case_validate.c, person_validate.c): the
 * field paths and the generic field checks both files build their rules
 * from. Each check adds its errors to fe under path and never allocates.
 * Not for use outside case validation; the public API is case_validate.h.
 */
#ifndef RITRA_CASE_VALIDATE_INT_H
#define RITRA_CASE_VALIDATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "picklist.h"
#include "validate.h"

/* Paths fit the field_error slot (see cv_join()); quoted values are cut to fit a reason. */
#define CV_PATH_LEN  sizeof(((struct field_error *)0)->path)
#define CV_QUOTE_LEN 52

/* s, or "" for NULL. */
const char *cv_nz(const char *s);

/* True iff s is neither NULL nor empty. */
bool cv_present(const char *s);

/* buf (CV_PATH_LEN bytes) = "base.field" ("field" when base is empty); buf
 * must not be base. Returns buf. */
const char *cv_join(char *buf, const char *base, const char *field);

/* buf (CV_PATH_LEN bytes) = "base.field[i]". Returns buf. */
const char *cv_join_idx(char *buf, const char *base, const char *field, size_t i);

/* out (n bytes) = v made safe to echo in a reason: escaped, valid UTF-8,
 * cut with "..." to fit. Returns out. */
const char *cv_quote(char *out, size_t n, const char *v);

/* A date (see case_date_valid()); an absent one is an error iff required. */
void cv_check_date(struct field_errors *fe, const char *path, const char *s, bool partial,
                   bool required, time_t now);

/* A value of picklist which; true iff v is valid, or absent and not required. */
bool cv_check_pick(struct field_errors *fe, const char *path, enum picklist which, const char *v,
                   bool required);

/* True iff n <= max; what names the elements in the error ("persons"). */
bool cv_check_count(struct field_errors *fe, const char *path, size_t n, size_t max,
                    const char *what);

/* True unless arr claims n > 0 elements but is NULL. */
bool cv_check_array(struct field_errors *fe, const char *path, const void *arr, size_t n);

/* True iff one of the n strings of v (NULL entries read as "") equals want. */
bool cv_has_value(char *const *v, size_t n, const char *want);

/* The multiselect picklist base.field: each value valid, none repeated, at
 * most max. False when the list as a whole was refused (too long, missing). */
bool cv_check_pick_list(struct field_errors *fe, const char *base, const char *field,
                        enum picklist which, char *const *v, size_t n, size_t max);

/* An ISO 3166-1 alpha-2 country code; an absent one is an error iff required. */
void cv_check_country(struct field_errors *fe, const char *path, const char *code, bool required);

#endif
