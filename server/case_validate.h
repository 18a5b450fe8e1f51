/*
 * The rules a submitted case must satisfy before anything is stored. Every
 * violation is reported with the exact path of the field (e.g.
 * "case.persons[2].prs_Birthdate") so an integrator can fix a record from
 * the reply alone. The limits below are the documented maximum case size
 * (docs/case-format.md); changing one changes the protocol contract.
 */
#ifndef RITRA_CASE_VALIDATE_H
#define RITRA_CASE_VALIDATE_H

#include <stdbool.h>
#include <time.h>

#include "ritra.pb-c.h"
#include "validate.h"

/* Counts of repeated fields. */
#define CASE_MAX_PERSONS         200
#define CASE_MAX_EVENTS          100
#define CASE_MAX_COMMENTS        200
#define CASE_MAX_PICKLIST_VALUES 32 /* any repeated picklist not listed below */
#define CASE_MAX_VULNERABILITIES 16
#define CASE_MAX_ALIASES         20
#define CASE_MAX_CITIZENSHIPS    5
#define CASE_MAX_DOCUMENTS       10
#define CASE_MAX_PHONES          10
#define CASE_MAX_ADDRESSES       10

/* Sizes of text fields, in bytes of UTF-8. */
#define CASE_MAX_EXTERNAL_REF        128
#define CASE_MAX_PERSON_REF          64
#define CASE_MAX_NAME                100 /* each name part and each alias */
#define CASE_MAX_DOCUMENT_NUMBER     64
#define CASE_MAX_PLACE_FIELD         200 /* address and event place fields */
#define CASE_MAX_ORGANISATION        200
#define CASE_MAX_EMAIL               254
#define CASE_MAX_SUMMARY             20000
#define CASE_MAX_EVENT_DESCRIPTION   10000
#define CASE_MAX_COMMENT             10000
#define CASE_MAX_CLOSURE_REASON      4000
#define CASE_MAX_HANDLING_CONDITIONS 2000
#define CASE_MAX_REFERRAL_DETAILS    4000
#define CASE_MAX_ROLE_DETAILS        4000

/* Other bounds. */
#define CASE_MAX_AGE  120  /* vic_AgeWhenTrafficked, years */
#define CASE_MIN_YEAR 1900 /* earliest year of any date */

/* Checks a submitted case against every rule; each violation is added to fe
 * under prefix (e.g. "case" gives "case.persons[0].role"; NULL or "" gives
 * "persons[0].role"). Server-set fields are ignored. now is the server's
 * clock, for "not in the future". Returns true iff no error was added; once
 * fe is full further errors are only counted (fe->dropped). Never allocates. */
bool case_validate(const Ritra__Case *c, const char *prefix, struct field_errors *fe, time_t now);

/* True iff s is a real calendar date "YYYY-MM-DD" (or, with allow_partial,
 * "YYYY" or "YYYY-MM"), year >= CASE_MIN_YEAR, whose earliest day is not
 * after today's date anywhere on Earth (UTC+14) at now. On false, *why (if
 * why is not NULL) gets a short static English reason. */
bool case_date_valid(const char *s, bool allow_partial, time_t now, const char **why);

#endif
