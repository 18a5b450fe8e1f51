/*
 * What the server shows of the matcher's work: person records decoded from
 * their stored bytes, explanations as text and as FieldAgreement lists, and
 * the access facts every matching-related row carries, decided again here
 * and compared with the database's decision (fail closed on a difference).
 * Shared by the matcher (matcher.c) and the search and review operations.
 */
#ifndef RITRA_MATCH_VIEW_H
#define RITRA_MATCH_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "agency.h"
#include "match/from_proto.h"
#include "match/score.h"
#include "policy.h"
#include "ritra.pb-c.h"

/* A stored person record, decoded and prepared for comparison. */
struct mview_record {
    Ritra__Person *person;
    struct match_proto mp;
    struct cmp_record *rec;
};

/* Decodes pb (a packed ritra.Person) into r. Returns 0, or -1 when the bytes
 * are corrupt or memory ran out (r is then empty). */
int mview_record_init(struct mview_record *r, const uint8_t *pb, size_t len);
/* Prepares an already decoded person (borrowed: it must outlive r). */
int mview_record_init_person(struct mview_record *r, const Ritra__Person *p);
/* Safe on an empty or cleared r. */
void mview_record_clear(struct mview_record *r);

/* The wire name of a field: given, surname, birth_date, sex, citizenship,
 * document, phone, street, place. */
const char *mview_field_name(enum score_field f);

/* The stored explanation: "given=EXACT=5.10;birth_date=SWAPPED=10.30;..."
 * for every field both sides had. Returns the length needed. */
size_t mview_explain(const struct score_result *res, char *buf, size_t cap);

/* A reply's agreements from a stored explanation. detailed: every field
 * with its level and weight; otherwise only the names of the fields that
 * agreed (positive weight), the matching reason of a hit. Allocates; free
 * with mview_agreements_free. Returns 0, or -1 when out of memory. */
int mview_agreements(const char *text, bool detailed, Ritra__FieldAgreement ***out, size_t *n);
void mview_agreements_free(Ritra__FieldAgreement **a, size_t n);

/* The fields of the matching reason, "given+surname+birth_date", from a
 * stored explanation (agreeing fields only). Returns the length needed. */
size_t mview_reason(const char *text, char *buf, size_t cap);

/* A case's access facts as the ritra_case_facts composite carries them.
 * Pointers borrow the PGresult. */
struct mview_facts {
    const char *case_id;
    int owner_agency_id;
    const char *owner_code;
    const char *owner_name;
    const char *contact;
    const char *handling_code;
    bool h3_allow_hits;
    int direct, by_kind, kind_default;
    int db_level;
};

/* The select list that expands a ritra_case_facts value x into the
 * MVIEW_FACTS_COLUMNS columns mview_facts_read expects. */
#define MVIEW_FACTS(x)                                                                             \
    "(" x ").case_id, (" x ").owner_agency_id, (" x ").owner_code, (" x ").owner_name, (" x        \
    ").contact, (" x ").handling_code, (" x ").h3_allow_hits, (" x ").direct, (" x                 \
    ").by_kind, (" x ").kind_default, (" x ").level"
#define MVIEW_FACTS_COLUMNS 11

/* Reads the facts from columns col.. of row. */
void mview_facts_read(const PGresult *res, int row, int col, struct mview_facts *f);

/* Which rule made the database's level. */
enum mview_rule {
    MVIEW_CASE,    /* policy_case_level */
    MVIEW_SEARCH,  /* policy_search_level */
    MVIEW_RELATED, /* policy_related_level */
};

/* Decides the viewer's level from the facts and compares it with the
 * database's. Returns 0 with *out set, or -1 (logged) when they differ. */
int mview_check_level(const struct agency *viewer, const struct mview_facts *f,
                      enum mview_rule rule, enum policy_level *out);

/* A PersonRecord for the viewer at level: at HIT only the case's hit (with
 * reason), from RESTRICTED up the role, person_ref and the person as the
 * case's rendering for the viewer shows it (person may be NULL: then only
 * role and person_ref). Borrows every pointer; view and hit are storage the
 * record points into. */
void mview_fill_record(Ritra__PersonRecord *out, Ritra__Person *view, Ritra__CaseHit *hit,
                       const struct agency *viewer, const struct mview_facts *f,
                       enum policy_level level, const char *person_id, const char *identity_id,
                       const char *role, const char *person_ref, const Ritra__Person *person,
                       const char *reason);

/* True when the viewer at level sees the identifying fields of person
 * (owner; FULL with the victim's consent; RESTRICTED and FULL for others
 * than victims). */
bool mview_identified(const struct agency *viewer, const struct mview_facts *f,
                      enum policy_level level, const Ritra__Person *person);

#endif
