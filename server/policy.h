/*
 * Access rules: the only place in the server that decides what an agency
 * sees of a case. PostgreSQL enforces the same rules independently with
 * row-level security (migrations/0003_access.sql); every read compares the
 * two decisions and fails closed when they differ. docs/access.md is the
 * normative description.
 *
 * Pure functions: nothing here touches the network or the database.
 */
#ifndef RITRA_POLICY_H
#define RITRA_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agency.h"
#include "ritra.pb-c.h"

/* Ordered: a higher level sees everything a lower one does. Numbers are
 * stored in the database (grants.level, policy_defaults.level). */
enum policy_level {
    POLICY_NONE = 0,       /* nothing; the case is "not found" */
    POLICY_HIT = 1,        /* existence, owner, contact, handling code */
    POLICY_RESTRICTED = 2, /* content without victim identity or sensitive text */
    POLICY_FULL = 3,       /* content; victim identity only with the victim's consent */
};

/* The facts about a case that visibility depends on. */
struct policy_case {
    int owner_agency_id;
    const char *handling_code; /* "H0".."H3" */
    bool h3_allow_hits;
};

/* What the viewer holds on the case: the best level among its accepted,
 * unexpired grants addressed to it directly and to its kind, and the
 * deployment's default level for its kind (policy_defaults). */
struct policy_grants {
    enum policy_level direct;
    enum policy_level by_kind;
    enum policy_level kind_default;
};

/*
 * The viewer's level on the case:
 *   owner                                   FULL
 *   auditor agencies                        NONE (they read the audit trail, not cases)
 *   otherwise the best of: direct grants; and, unless the case is H3,
 *   grants to the viewer's kind and the kind's default.
 */
enum policy_level policy_case_level(int viewer_agency_id, enum agency_kind viewer_kind,
                                    const struct policy_case *c, const struct policy_grants *g);

/* The level for a case that matched the viewer's search: as above, raised
 * to HIT for police and prosecutors unless the case is H3 and its owner
 * does not allow hits. */
enum policy_level policy_search_level(int viewer_agency_id, enum agency_kind viewer_kind,
                                      const struct policy_case *c, const struct policy_grants *g);

/* The level for a case that shares a person with one of the viewer's own
 * records (related cases, the review queue): as policy_case_level, raised
 * to HIT for every agency but an auditor, unless the case is H3 and its
 * owner does not allow hits. */
enum policy_level policy_related_level(int viewer_agency_id, enum agency_kind viewer_kind,
                                       const struct policy_case *c, const struct policy_grants *g);

/* The stored renderings of a case; each read serves exactly one. */
enum policy_variant {
    POLICY_VARIANT_NONE = 0,   /* nothing to serve (NONE, HIT) */
    POLICY_VARIANT_FULL,       /* as submitted: the owner only */
    POLICY_VARIANT_SHAREABLE,  /* FULL for others: unconsented victims' identity removed */
    POLICY_VARIANT_RESTRICTED, /* RESTRICTED: all victims' identity, sensitive text removed */
};

/* Which rendering a viewer at level gets; is_owner selects FULL. */
enum policy_variant policy_variant_for(enum policy_level level, bool is_owner);

/* "full", "shareable", "restricted" (the database's names), or "" for NONE. */
const char *policy_variant_name(enum policy_variant v);

/* "NONE", "HIT", "RESTRICTED", "FULL". */
const char *policy_level_name(enum policy_level level);

/* Parses "HIT", "RESTRICTED", "FULL" (not NONE: nobody grants nothing).
 * Returns false for anything else. */
bool policy_level_parse(const char *s, enum policy_level *out);

/*
 * Packs the variant v of case c into a fresh buffer (caller frees).
 * Removed fields are emptied, never replaced by markers, so a redacted
 * record is a valid Case. Returns 0, or -1 on out-of-memory.
 *
 * Victim-identifying fields of a person with role Victim: prs_FirstName,
 * prs_MiddleName, first_surname, second_surname, aliases, prs_Birthdate,
 * documents, phones, addresses, prs_Email. SHAREABLE removes them for each
 * victim without consent (victim.consent.con_Consent with scope
 * ShareWithAgencies); RESTRICTED removes them for every victim, and also
 * the summary if summary_sensitive, every comment marked sensitive, and
 * hte_Description of events marked description_sensitive.
 */
int policy_render(const Ritra__Case *c, enum policy_variant v, uint8_t **out, size_t *out_len);

/* out = a shallow copy of p as the rendering v shows it: the same fields
 * policy_render removes are emptied. v NONE empties every identifying field. */
void policy_person_view(const Ritra__Person *p, enum policy_variant v, Ritra__Person *out);

/* True when the rendering v shows p's identifying fields (names, birth
 * date, documents...): then match explanations about p may be shown too. */
bool policy_person_identified(const Ritra__Person *p, enum policy_variant v);

/* True when the victim consented to sharing with agencies. */
bool policy_victim_consents(const Ritra__Person *p);

/* What may a viewer at my_level do with a share of level want?
 * The owner may share at any level to any non-auditor agency; a recipient
 * may share onward at most its own level, never for H2 or H3 cases, and
 * never at a level it does not hold. Returns NULL if allowed, else the
 * reason (a static string) for PERMISSION_DENIED. */
const char *policy_may_share(bool is_owner, enum policy_level my_level, const char *handling_code,
                             enum policy_level want, enum agency_kind grantee_kind);

/* The obligation a handling code puts on recipients, for replies ("" for H0). */
const char *policy_handling_notice(const char *handling_code);

#endif
