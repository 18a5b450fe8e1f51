/*
 * Reading the FEBRL datasets and writing any dataset as CSV.
 */
#ifndef RITRA_EVAL_FEBRL_H
#define RITRA_EVAL_FEBRL_H

#include <stddef.h>

#include "colgen.h"

/* Loads a FEBRL CSV (", " separated, header first): given_name → given,
 * surname → surname1, date_of_birth → birthdate (YYYYMMDD), soc_sec_id → a
 * NationalId issued by AU, street number and address lines → street, suburb
 * → city, postcode. The entity is N of rec-N-org / rec-N-dup-K. Stores a
 * malloc'd array in *out; returns the count, or -1 (unreadable, no memory). */
long febrl_load(const char *path, struct eval_person **out);

/* Writes records as a ", "-separated CSV with a header. Returns 0 or -1. */
int febrl_write_csv(const char *path, const struct eval_person *e, size_t n);

#endif
