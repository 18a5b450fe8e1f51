/*
 * Internal to case validation: the rules for the persons of a case, called
 * by case_validate(). The public API is case_validate.h.
 */
#ifndef RITRA_PERSON_VALIDATE_H
#define RITRA_PERSON_VALIDATE_H

#include <time.h>

#include "ritra.pb-c.h"
#include "validate.h"

/* Checks c->persons (at least one, at most CASE_MAX_PERSONS, person_ref
 * unique, every person against its rules), adding each violation to fe
 * under base (e.g. "case" gives "case.persons[0].role"). Never allocates. */
void person_validate_all(struct field_errors *fe, const char *base, const Ritra__Case *c,
                         time_t now);

#endif
