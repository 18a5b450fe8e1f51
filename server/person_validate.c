/*
 * The rules for the persons of a case: names, identity documents, contacts
 * (E.164 phones, addresses, e-mail), consent, and the victim and
 * perpetrator contexts that belong to one role each.
 */
#include "person_validate.h"

#include "case_validate.h"
#include "case_validate_int.h"

#include <stdint.h>
#include <string.h>

/* Decodes one code point of already-validated UTF-8 and advances *p. */
static uint32_t next_cp(const unsigned char **p)
{
    const unsigned char *s = *p;
    uint32_t cp;
    size_t n;

    if (s[0] < 0x80) {
        *p = s + 1;
        return s[0];
    }
    n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
    cp = s[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++)
        cp = (cp << 6) | (s[i] & 0x3f);
    *p = s + n;
    return cp;
}

/* Coarse "is a letter" without a Unicode database: enough to refuse names
 * made only of digits, punctuation, symbols or emoji, while accepting
 * every alphabet (accented Latin, Greek, Cyrillic, Arabic, CJK, ...). */
static bool is_letter(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z');
    if (cp < 0xc0)
        return cp == 0xaa || cp == 0xb5 || cp == 0xba;
    if (cp == 0xd7 || cp == 0xf7)
        return false;
    if (cp <= 0x2af)
        return true;
    if (cp < 0x370) /* modifiers and lone combining marks */
        return false;
    if ((cp >= 0x2000 && cp <= 0x2bff) ||   /* punctuation, symbols, arrows, boxes */
        (cp >= 0x3000 && cp <= 0x303f) ||   /* CJK punctuation */
        (cp >= 0xd800 && cp <= 0xf8ff) ||   /* surrogates, private use */
        (cp >= 0xfe00 && cp <= 0xfe0f) ||   /* variation selectors */
        (cp >= 0xff00 && cp <= 0xff20) ||   /* fullwidth punctuation and digits */
        (cp >= 0xfff0 && cp <= 0xffff) ||   /* specials */
        (cp >= 0x1f000 && cp <= 0x1faff) || /* emoji and pictographs */
        cp >= 0xe0000)                      /* tags, private use planes */
        return false;
    return true;
}

static bool has_letter(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p != '\0')
        if (is_letter(next_cp(&p)))
            return true;
    return false;
}

static void check_name(struct field_errors *fe, const char *base, const char *field, const char *s)
{
    char path[CV_PATH_LEN];

    cv_join(path, base, field);
    if (validate_text(fe, path, s, CASE_MAX_NAME, false, false) && cv_present(s) && !has_letter(s))
        fe_add(fe, path, "must contain a letter");
}

/* E.164: '+', a non-zero country-code digit, 7..15 digits in all. */
static bool e164_valid(const char *s)
{
    size_t n = 0;

    if (s == NULL || s[0] != '+' || s[1] < '1' || s[1] > '9')
        return false;
    for (s++; *s != '\0'; s++, n++)
        if (*s < '0' || *s > '9')
            return false;
    return n >= 7 && n <= 15;
}

/* Deliberately loose: one '@', a non-empty local part, a dotted domain,
 * no spaces. Deliverability is not ours to judge; typos like a missing
 * domain are. */
static bool email_plausible(const char *s)
{
    const char *at = strchr(s, '@');
    const char *dom;
    size_t dlen;

    if (at == NULL || at == s || strchr(at + 1, '@') != NULL || strchr(s, ' ') != NULL)
        return false;
    dom = at + 1;
    dlen = strlen(dom);
    return dlen >= 3 && strchr(dom, '.') != NULL && dom[0] != '.' && dom[dlen - 1] != '.' &&
           strstr(dom, "..") == NULL;
}

static bool docnum_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ' ' ||
           c == '.' || c == '/' || c == '-';
}

static bool docnum_alnum(char c)
{
    return docnum_char(c) && c != ' ' && c != '.' && c != '/' && c != '-';
}

static bool check_docnum(struct field_errors *fe, const char *path, const char *s)
{
    bool alnum = false;

    if (!validate_text(fe, path, s, CASE_MAX_DOCUMENT_NUMBER, true, false))
        return false;
    for (const char *c = s; *c != '\0'; c++) {
        if (!docnum_char(*c)) {
            fe_add(fe, path, "only letters, digits, space, '.', '/' and '-' allowed");
            return false;
        }
        alnum |= docnum_alnum(*c);
    }
    if (!alnum) {
        fe_add(fe, path, "needs a letter or digit");
        return false;
    }
    return true;
}

/* Two document numbers are the same document if they differ only in
 * separators or letter case ("1.020.304" and "1020304"): agencies format
 * the same identity card differently. */
static bool docnum_same(const char *a, const char *b)
{
    for (;;) {
        while (*a != '\0' && !docnum_alnum(*a))
            a++;
        while (*b != '\0' && !docnum_alnum(*b))
            b++;
        if (*a == '\0' || *b == '\0')
            return *a == *b;
        if ((*a | 0x20) != (*b | 0x20))
            return false;
        a++;
        b++;
    }
}

static void check_documents(struct field_errors *fe, const char *base, const Ritra__Person *p)
{
    char path[CV_PATH_LEN], sub[CV_PATH_LEN];

    cv_join(path, base, "documents");
    if (!cv_check_count(fe, path, p->n_documents, CASE_MAX_DOCUMENTS, "documents") ||
        !cv_check_array(fe, path, p->documents, p->n_documents))
        return;
    for (size_t i = 0; i < p->n_documents; i++) {
        const Ritra__IdentityDocument *d = p->documents[i];
        bool ok = true;

        cv_join_idx(path, base, "documents", i);
        if (d == NULL) {
            fe_add(fe, path, "missing");
            continue;
        }
        ok &= cv_check_pick(fe, cv_join(sub, path, "type"), PICKLIST_DOCUMENT_TYPE, d->type, true);
        ok &= check_docnum(fe, cv_join(sub, path, "number"), d->number);
        cv_check_country(fe, cv_join(sub, path, "issuing_country"), d->issuing_country, true);
        ok &= picklist_country_valid(d->issuing_country);
        if (!ok)
            continue;
        for (size_t j = 0; j < i; j++) {
            const Ritra__IdentityDocument *o = p->documents[j];
            if (o != NULL && strcmp(cv_nz(o->type), d->type) == 0 &&
                strcmp(cv_nz(o->issuing_country), d->issuing_country) == 0 &&
                docnum_same(cv_nz(o->number), d->number)) {
                fe_add(fe, path, "duplicate of documents[%zu] (same type, issuing_country, number)",
                       j);
                break;
            }
        }
    }
}

static void check_contacts(struct field_errors *fe, const char *base, const Ritra__Person *p)
{
    char path[CV_PATH_LEN], sub[CV_PATH_LEN];

    cv_join(path, base, "phones");
    if (cv_check_count(fe, path, p->n_phones, CASE_MAX_PHONES, "phones") &&
        cv_check_array(fe, path, p->phones, p->n_phones)) {
        for (size_t i = 0; i < p->n_phones; i++)
            if (!e164_valid(p->phones[i]))
                fe_add(fe, cv_join_idx(path, base, "phones", i),
                       "not an E.164 phone number (+ and 7-15 digits)");
    }

    cv_join(path, base, "addresses");
    if (cv_check_count(fe, path, p->n_addresses, CASE_MAX_ADDRESSES, "addresses") &&
        cv_check_array(fe, path, p->addresses, p->n_addresses)) {
        for (size_t i = 0; i < p->n_addresses; i++) {
            const Ritra__Address *a = p->addresses[i];

            cv_join_idx(path, base, "addresses", i);
            if (a == NULL ||
                !(cv_present(a->street) || cv_present(a->city) || cv_present(a->state) ||
                  cv_present(a->postal_code) || cv_present(a->country))) {
                fe_add(fe, path, "an address needs at least one field");
                continue;
            }
            validate_text(fe, cv_join(sub, path, "street"), a->street, CASE_MAX_PLACE_FIELD, false,
                          false);
            validate_text(fe, cv_join(sub, path, "city"), a->city, CASE_MAX_PLACE_FIELD, false,
                          false);
            validate_text(fe, cv_join(sub, path, "state"), a->state, CASE_MAX_PLACE_FIELD, false,
                          false);
            validate_text(fe, cv_join(sub, path, "postal_code"), a->postal_code,
                          CASE_MAX_PLACE_FIELD, false, false);
            cv_check_country(fe, cv_join(sub, path, "country"), a->country, false);
        }
    }

    cv_join(path, base, "prs_Email");
    if (validate_text(fe, path, p->prs_email, CASE_MAX_EMAIL, false, false) &&
        cv_present(p->prs_email) && !email_plausible(p->prs_email))
        fe_add(fe, path, "not an e-mail address (local@domain.tld)");
}

static void check_consent(struct field_errors *fe, const char *base, const Ritra__Consent *c,
                          time_t now)
{
    char path[CV_PATH_LEN];

    cv_check_pick_list(fe, base, "scope", PICKLIST_CONSENT_SCOPE, c->scope, c->n_scope,
                       CASE_MAX_PICKLIST_VALUES);
    if (c->con_consent && c->n_scope == 0)
        fe_add(fe, cv_join(path, base, "scope"), "at least one value when con_Consent is true");
    if (!c->con_consent && c->n_scope > 0)
        fe_add(fe, cv_join(path, base, "scope"), "must be empty when con_Consent is false");
    /* The date of a refusal may be recorded too; only a consent needs one. */
    cv_check_date(fe, cv_join(path, base, "date"), c->date, false, c->con_consent, now);
}

static void check_victim(struct field_errors *fe, const char *base, const Ritra__VictimContext *v,
                         time_t now)
{
    char path[CV_PATH_LEN];

    cv_check_pick(fe, cv_join(path, base, "vic_TraffickingStatus"), PICKLIST_TRAFFICKING_STATUS,
                  v->vic_traffickingstatus, false);
    cv_check_pick(fe, cv_join(path, base, "vic_TraffickingStatusDecisionMakingOrg"),
                  PICKLIST_TRAFFICKING_STATUS_DECISION_MAKING_ORG,
                  v->vic_traffickingstatusdecisionmakingorg, false);
    cv_check_pick(fe, cv_join(path, base, "vic_RelationshipToTrafficker"),
                  PICKLIST_RELATIONSHIP_TO_TRAFFICKER, v->vic_relationshiptotrafficker, false);
    if (v->vic_agewhentrafficked != NULL &&
        (v->vic_agewhentrafficked->value < 0 || v->vic_agewhentrafficked->value > CASE_MAX_AGE))
        fe_add(fe, cv_join(path, base, "vic_AgeWhenTrafficked.value"), "not an age (0..%d)",
               CASE_MAX_AGE);
    cv_check_pick_list(fe, base, "vic_Vulnerabilities", PICKLIST_VULNERABILITIES,
                       v->vic_vulnerabilities, v->n_vic_vulnerabilities, CASE_MAX_VULNERABILITIES);
    if (v->consent != NULL)
        check_consent(fe, cv_join(path, base, "consent"), v->consent, now);
}

static void check_perpetrator(struct field_errors *fe, const char *base,
                              const Ritra__PerpetratorContext *pc)
{
    char path[CV_PATH_LEN];

    cv_check_pick_list(fe, base, "per_RoleInProcess", PICKLIST_ROLE_IN_PROCESS,
                       pc->per_roleinprocess, pc->n_per_roleinprocess, CASE_MAX_PICKLIST_VALUES);
    validate_text(fe, cv_join(path, base, "per_RoleDetails"), pc->per_roledetails,
                  CASE_MAX_ROLE_DETAILS, false, true);
}

static void check_person(struct field_errors *fe, const char *base, const Ritra__Person *p,
                         time_t now)
{
    char path[CV_PATH_LEN], q[CV_QUOTE_LEN];
    bool role_ok;

    validate_text(fe, cv_join(path, base, "person_ref"), p->person_ref, CASE_MAX_PERSON_REF, true,
                  false);
    role_ok = cv_check_pick(fe, cv_join(path, base, "role"), PICKLIST_ROLE, p->role, true);

    if (!cv_present(p->prs_firstname) && !cv_present(p->first_surname) && p->n_aliases == 0)
        fe_add(fe, base, "a person needs a name or an alias");
    check_name(fe, base, "prs_FirstName", p->prs_firstname);
    check_name(fe, base, "prs_MiddleName", p->prs_middlename);
    check_name(fe, base, "first_surname", p->first_surname);
    check_name(fe, base, "second_surname", p->second_surname);

    cv_join(path, base, "aliases");
    if (cv_check_count(fe, path, p->n_aliases, CASE_MAX_ALIASES, "aliases") &&
        cv_check_array(fe, path, p->aliases, p->n_aliases)) {
        for (size_t i = 0; i < p->n_aliases; i++) {
            cv_join_idx(path, base, "aliases", i);
            if (!validate_text(fe, path, p->aliases[i], CASE_MAX_NAME, true, false))
                continue;
            for (size_t j = 0; j < i; j++) {
                if (strcmp(cv_nz(p->aliases[j]), p->aliases[i]) == 0) {
                    fe_add(fe, path, "duplicate value \"%s\"",
                           cv_quote(q, sizeof(q), p->aliases[i]));
                    break;
                }
            }
        }
    }

    cv_check_pick(fe, cv_join(path, base, "sex"), PICKLIST_SEX, p->sex, false);
    cv_check_pick(fe, cv_join(path, base, "prs_Gender"), PICKLIST_GENDER, p->prs_gender, false);
    cv_check_date(fe, cv_join(path, base, "prs_Birthdate"), p->prs_birthdate, true, false, now);

    cv_join(path, base, "prs_Citizenship");
    if (cv_check_count(fe, path, p->n_prs_citizenship, CASE_MAX_CITIZENSHIPS, "citizenships") &&
        cv_check_array(fe, path, p->prs_citizenship, p->n_prs_citizenship)) {
        for (size_t i = 0; i < p->n_prs_citizenship; i++) {
            const char *cc = p->prs_citizenship[i];

            cv_join_idx(path, base, "prs_Citizenship", i);
            if (!picklist_country_valid(cc)) {
                fe_add(fe, path, "not an ISO 3166-1 alpha-2 country code: \"%s\"",
                       cv_quote(q, sizeof(q), cc));
                continue;
            }
            if (cv_has_value(p->prs_citizenship, i, cc))
                fe_add(fe, path, "duplicate value \"%s\"", cc);
        }
    }

    check_documents(fe, base, p);
    check_contacts(fe, base, p);

    /* A context on the wrong role would be stored but never shown as what
     * it claims to be; refuse it rather than validate its contents. */
    if (p->victim != NULL) {
        cv_join(path, base, "victim");
        if (role_ok && strcmp(p->role, "Victim") != 0)
            fe_add(fe, path, "only for role Victim");
        else
            check_victim(fe, path, p->victim, now);
    }
    if (p->perpetrator != NULL) {
        cv_join(path, base, "perpetrator");
        if (role_ok && strcmp(p->role, "Suspect") != 0)
            fe_add(fe, path, "only for role Suspect");
        else
            check_perpetrator(fe, path, p->perpetrator);
    }
}

void person_validate_all(struct field_errors *fe, const char *base, const Ritra__Case *c,
                         time_t now)
{
    char path[CV_PATH_LEN], sub[CV_PATH_LEN], q[CV_QUOTE_LEN];

    cv_join(path, base, "persons");
    if (c->n_persons == 0) {
        fe_add(fe, path, "at least one person required");
        return;
    }
    if (!cv_check_count(fe, path, c->n_persons, CASE_MAX_PERSONS, "persons") ||
        !cv_check_array(fe, path, c->persons, c->n_persons))
        return;
    for (size_t i = 0; i < c->n_persons; i++) {
        const Ritra__Person *p = c->persons[i];

        cv_join_idx(path, base, "persons", i);
        if (p == NULL) {
            fe_add(fe, path, "missing");
            continue;
        }
        check_person(fe, path, p, now);
        if (!cv_present(p->person_ref))
            continue;
        /* O(n^2) over at most CASE_MAX_PERSONS refs: 20k compares, no allocation */
        for (size_t j = 0; j < i; j++) {
            if (c->persons[j] != NULL &&
                strcmp(cv_nz(c->persons[j]->person_ref), p->person_ref) == 0) {
                fe_add(fe, cv_join(sub, path, "person_ref"), "duplicate person_ref \"%s\"",
                       cv_quote(q, sizeof(q), p->person_ref));
                break;
            }
        }
    }
}
