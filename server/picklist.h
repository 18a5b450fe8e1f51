/*
 * The closed vocabularies a case may use. HTCDS v2.0 lists keep HTCDS's
 * value names byte for byte (including its spelling "Unaquainted"), so
 * that a ritra case reads as HTCDS; the lists HTCDS lacks are ours and are
 * named after the proto field that carries them. Values are case-sensitive.
 */
#ifndef RITRA_PICKLIST_H
#define RITRA_PICKLIST_H

#include <stdbool.h>
#include <stddef.h>

enum picklist {
    /* HTCDS v2.0 */
    PICKLIST_CAS_STATUS, /* HTCDS values plus our Withdrawn */
    PICKLIST_TYPE_OF_EXPLOITATION,
    PICKLIST_FORCED_LABOUR_INDUSTRY,
    PICKLIST_TYPE_OF_SEX_EXPLOITATION,
    PICKLIST_METHOD_OF_RECRUITMENT,
    PICKLIST_METHODS_OF_CONTROL,
    PICKLIST_HTE_TYPE,
    PICKLIST_GENDER,
    PICKLIST_TRAFFICKING_STATUS,
    PICKLIST_TRAFFICKING_STATUS_DECISION_MAKING_ORG,
    PICKLIST_RELATIONSHIP_TO_TRAFFICKER,
    PICKLIST_VULNERABILITIES,
    PICKLIST_ROLE_IN_PROCESS,
    PICKLIST_REASON_FOR_INCOMING_REFERRAL, /* same values as the outgoing one */
    PICKLIST_REASON_FOR_OUTGOING_REFERRAL,
    /* ritra's own */
    PICKLIST_ROLE,
    PICKLIST_SEX,
    PICKLIST_HANDLING_CODE,
    PICKLIST_SOURCE_RELIABILITY,
    PICKLIST_INFORMATION_ACCURACY,
    PICKLIST_DOCUMENT_TYPE,
    PICKLIST_CONSENT_SCOPE,
    PICKLIST_COUNT
};

/* True iff value (may be NULL: false) is exactly one of the list's values;
 * false for an out-of-range which. */
bool picklist_valid(enum picklist which, const char *value);

/* The list's name as used in messages and docs: the HTCDS field name, or
 * our proto field name ("role", "IdentityDocument.type"); "?" if out of range. */
const char *picklist_name(enum picklist which);

/* Number of values in the list; 0 for an out-of-range which. */
size_t picklist_size(enum picklist which);

/* The i-th value in documented order (static storage), or NULL past the end. */
const char *picklist_value(enum picklist which, size_t i);

/* True iff code is an officially assigned ISO 3166-1 alpha-2 code, exactly
 * two uppercase letters ("CO"; "co" and "COL" are false). NULL: false. */
bool picklist_country_valid(const char *code);

/* Number of officially assigned ISO 3166-1 alpha-2 codes (249). */
size_t picklist_country_count(void);

/* The i-th country code in ascending order (static storage), or NULL past the end. */
const char *picklist_country(size_t i);

#endif
