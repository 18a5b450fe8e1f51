/*
 * A realistic case for tests: every field of the record set, Colombian
 * names with accents and particles, a victim with consent and a suspect.
 * Everything lives inside struct case_fixture (no heap), so a test can
 * mutate any field and build as many as it likes.
 */
#ifndef RITRA_CASE_FIXTURE_H
#define RITRA_CASE_FIXTURE_H

#include "ritra.pb-c.h"

struct case_fixture {
    Ritra__Case c;
    Ritra__Person victim, suspect, *persons[2];
    Ritra__VictimContext vctx;
    Ritra__Consent consent;
    Ritra__Int32Value age;
    Ritra__PerpetratorContext pctx;
    Ritra__IdentityDocument doc, pass, *docs[2];
    Ritra__Address addr, *addrs[1];
    Ritra__TraffickingEvent ev[2], *evs[2];
    Ritra__GeoPoint geo;
    Ritra__CaseComment com[2], *coms[2];
    Ritra__Referral referral;
    char ext[64], summary[256];
    char *types[2], *sex_types[1], *recruit[2], *control[2];
    char *aliases[2], *cit[2], *phones[2], *vuln[2], *scope[1], *roles[2];
};

/* Fills f; ext_ref names the case; variant changes the summary so two
 * fixtures with different variants differ in content. */
void case_fixture_init(struct case_fixture *f, const char *ext_ref, int variant);

/* A SubmitCase request for f (req and sub are the caller's storage). */
void case_fixture_request(struct case_fixture *f, Ritra__Request *req,
                          Ritra__SubmitCaseRequest *sub, int64_t expected_version);

#endif
