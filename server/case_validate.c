#include "case_validate.h"

#include "picklist.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Paths fit the field_error slot (see append()); quoted values are cut to fit a reason. */
#define PATH_LEN  sizeof(((struct field_error *)0)->path)
#define QUOTE_LEN 52

/* The earliest time zone is UTC+14: a date is only certainly in the future
 * once it has not yet begun there, so agencies east of UTC can record
 * today's date before UTC midnight. */
#define EARLIEST_TZ_OFFSET (14 * 3600)

static const char *nz(const char *s)
{
    return s ? s : "";
}

static bool present(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* Appends s at buf[o], never past PATH_LEN - 1 bytes; a cut backs off to a
 * UTF-8 character boundary, because the path travels in a protobuf string.
 * Only an absurdly long caller prefix is ever cut. */
static size_t append(char *buf, size_t o, const char *s)
{
    size_t n = strlen(s);

    if (o + n > PATH_LEN - 1) {
        n = PATH_LEN - 1 - o;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(buf + o, s, n);
    buf[o + n] = '\0';
    return o + n;
}

/* buf = "base.field" ("field" when base is empty); buf must not be base. */
static const char *join(char *buf, const char *base, const char *field)
{
    size_t o = append(buf, 0, base);

    if (o > 0)
        o = append(buf, o, ".");
    append(buf, o, field);
    return buf;
}

/* buf = "base.field[i]". */
static const char *join_idx(char *buf, const char *base, const char *field, size_t i)
{
    char idx[24];

    snprintf(idx, sizeof(idx), "[%zu]", i);
    join(buf, base, field);
    append(buf, strlen(buf), idx);
    return buf;
}

/* A client value echoed in a reason must not break the reply: the Response
 * is protobuf, whose strings must be UTF-8. So the value is cut on a
 * character boundary, and control bytes, quotes and invalid UTF-8 are
 * escaped as \xNN / \" whatever the client sent. */
static const char *quote(char *out, size_t n, const char *v)
{
    size_t o = 0;

    v = nz(v);
    for (size_t i = 0; v[i] != '\0';) {
        unsigned char c = (unsigned char)v[i];
        char tmp[8];
        size_t tl = 1, adv = 1;

        if (c == '"' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            tl = 2;
        } else if (c >= 0x20 && c < 0x7f) {
            tmp[0] = (char)c;
        } else {
            size_t sl = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
            if (sl > 1 && strnlen(v + i, sl) == sl && utf8_valid(v + i, sl)) {
                memcpy(tmp, v + i, sl);
                tl = adv = sl;
            } else {
                snprintf(tmp, sizeof(tmp), "\\x%02x", c);
                tl = 4;
            }
        }
        if (o + tl + 4 > n) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(out + o, tmp, tl);
        o += tl;
        i += adv;
    }
    out[o] = '\0';
    return out;
}

/* ---- dates ---------------------------------------------------------- */

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && leap(y) ? 29 : dim[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), so no timegm()/TZ dependency. */
static int64_t days_from_civil(int y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool case_date_valid(const char *s, bool allow_partial, time_t now, const char **why)
{
    const char *unused;
    size_t len = s ? strlen(s) : 0;
    int y, m = 1, d = 1;

    if (why == NULL)
        why = &unused;
    *why = allow_partial ? "not a date (YYYY, YYYY-MM or YYYY-MM-DD)" : "not a date (YYYY-MM-DD)";
    if (len != 10 && !(allow_partial && (len == 4 || len == 7)))
        return false;
    if (!digits(s, 4, &y))
        return false;
    if (len >= 7 && (s[4] != '-' || !digits(s + 5, 2, &m)))
        return false;
    if (len == 10 && (s[7] != '-' || !digits(s + 8, 2, &d)))
        return false;
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) {
        *why = "not a calendar date";
        return false;
    }
    if (y < CASE_MIN_YEAR) {
        *why = "year before 1900";
        return false;
    }
    /* A partial date denotes a span; it is acceptable if the span has begun. */
    if (days_from_civil(y, m, d) * 86400 - EARLIEST_TZ_OFFSET > (int64_t)now) {
        *why = "date in the future";
        return false;
    }
    return true;
}

/* ---- field checks --------------------------------------------------- */

static void check_date(struct field_errors *fe, const char *path, const char *s, bool partial,
                       bool required, time_t now)
{
    const char *why;

    if (!present(s)) {
        if (required)
            fe_add(fe, path, "required");
        return;
    }
    if (!case_date_valid(s, partial, now, &why))
        fe_add(fe, path, "%s", why);
}

static bool check_pick(struct field_errors *fe, const char *path, enum picklist which,
                       const char *v, bool required)
{
    char q[QUOTE_LEN];

    if (!present(v)) {
        if (required)
            fe_add(fe, path, "required");
        return !required;
    }
    if (!picklist_valid(which, v)) {
        fe_add(fe, path, "not a %s value: \"%s\"", picklist_name(which), quote(q, sizeof(q), v));
        return false;
    }
    return true;
}

static bool check_count(struct field_errors *fe, const char *path, size_t n, size_t max,
                        const char *what)
{
    if (n > max) {
        fe_add(fe, path, "more than %zu %s", max, what);
        return false;
    }
    return true;
}

/* An array the caller built by hand may claim elements it does not have;
 * protobuf-c never produces that, but a NULL must not crash the server. */
static bool check_array(struct field_errors *fe, const char *path, const void *arr, size_t n)
{
    if (n > 0 && arr == NULL) {
        fe_add(fe, path, "missing values");
        return false;
    }
    return true;
}

static bool has_value(char *const *v, size_t n, const char *want)
{
    if (v == NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(nz(v[i]), want) == 0)
            return true;
    return false;
}

/* A multiselect picklist: each value valid, none repeated, at most max.
 * False when the list as a whole was refused (too long, missing), so that
 * rules depending on its contents are not judged from it. */
static bool check_pick_list(struct field_errors *fe, const char *base, const char *field,
                            enum picklist which, char *const *v, size_t n, size_t max)
{
    char path[PATH_LEN], q[QUOTE_LEN];

    join(path, base, field);
    if (!check_count(fe, path, n, max, "values") || !check_array(fe, path, v, n))
        return false;
    for (size_t i = 0; i < n; i++) {
        join_idx(path, base, field, i);
        if (!present(v[i])) {
            fe_add(fe, path, "empty value");
            continue;
        }
        if (!check_pick(fe, path, which, v[i], true))
            continue;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(nz(v[j]), v[i]) == 0) {
                fe_add(fe, path, "duplicate value \"%s\"", quote(q, sizeof(q), v[i]));
                break;
            }
        }
    }
    return true;
}

static void check_country(struct field_errors *fe, const char *path, const char *code,
                          bool required)
{
    char q[QUOTE_LEN];

    if (!present(code)) {
        if (required)
            fe_add(fe, path, "required");
        return;
    }
    if (!picklist_country_valid(code))
        fe_add(fe, path, "not an ISO 3166-1 alpha-2 country code: \"%s\"",
               quote(q, sizeof(q), code));
}

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
    char path[PATH_LEN];

    join(path, base, field);
    if (validate_text(fe, path, s, CASE_MAX_NAME, false, false) && present(s) && !has_letter(s))
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

/* ---- sub-messages --------------------------------------------------- */

static void check_event(struct field_errors *fe, const char *base, const Ritra__TraffickingEvent *e,
                        time_t now)
{
    char path[PATH_LEN];

    check_pick(fe, join(path, base, "hte_Type"), PICKLIST_HTE_TYPE, e->hte_type, true);
    check_date(fe, join(path, base, "hte_Date"), e->hte_date, true, false, now);
    check_country(fe, join(path, base, "hte_Country"), e->hte_country, false);
    validate_text(fe, join(path, base, "hte_State"), e->hte_state, CASE_MAX_PLACE_FIELD, false,
                  false);
    validate_text(fe, join(path, base, "hte_City"), e->hte_city, CASE_MAX_PLACE_FIELD, false,
                  false);
    validate_text(fe, join(path, base, "hte_Street"), e->hte_street, CASE_MAX_PLACE_FIELD, false,
                  false);
    validate_text(fe, join(path, base, "hte_PostalCode"), e->hte_postalcode, CASE_MAX_PLACE_FIELD,
                  false, false);
    if (e->location != NULL) {
        /* written as !(in range) so that NaN fails too */
        if (!(isfinite(e->location->latitude) && e->location->latitude >= -90.0 &&
              e->location->latitude <= 90.0))
            fe_add(fe, join(path, base, "location.latitude"), "not a latitude (-90..90)");
        if (!(isfinite(e->location->longitude) && e->location->longitude >= -180.0 &&
              e->location->longitude <= 180.0))
            fe_add(fe, join(path, base, "location.longitude"), "not a longitude (-180..180)");
    }
    validate_text(fe, join(path, base, "hte_Description"), e->hte_description,
                  CASE_MAX_EVENT_DESCRIPTION, false, true);
}

static void check_comment(struct field_errors *fe, const char *base, const Ritra__CaseComment *cc,
                          time_t now)
{
    char path[PATH_LEN];

    validate_text(fe, join(path, base, "cco_CaseComment"), cc->cco_casecomment, CASE_MAX_COMMENT,
                  true, true);
    check_date(fe, join(path, base, "date"), cc->date, false, false, now);
}

static void check_referral(struct field_errors *fe, const char *base, const Ritra__Referral *r,
                           time_t now)
{
    char path[PATH_LEN];

    validate_text(fe, join(path, base, "cas_ReferringOrganisation"), r->cas_referringorganisation,
                  CASE_MAX_ORGANISATION, false, false);
    check_date(fe, join(path, base, "cas_IncomingReferralDate"), r->cas_incomingreferraldate, false,
               false, now);
    check_pick(fe, join(path, base, "cas_ReasonForIncomingReferral"),
               PICKLIST_REASON_FOR_INCOMING_REFERRAL, r->cas_reasonforincomingreferral, false);
    validate_text(fe, join(path, base, "cas_IncomingReferralDetails"),
                  r->cas_incomingreferraldetails, CASE_MAX_REFERRAL_DETAILS, false, true);
    validate_text(fe, join(path, base, "cas_ReferredOrganisation"), r->cas_referredorganisation,
                  CASE_MAX_ORGANISATION, false, false);
    check_date(fe, join(path, base, "cas_OutgoingReferralDate"), r->cas_outgoingreferraldate, false,
               false, now);
    check_pick(fe, join(path, base, "cas_ReasonForOutgoingReferral"),
               PICKLIST_REASON_FOR_OUTGOING_REFERRAL, r->cas_reasonforoutgoingreferral, false);
    validate_text(fe, join(path, base, "cas_OutgoingReferralDetails"),
                  r->cas_outgoingreferraldetails, CASE_MAX_REFERRAL_DETAILS, false, true);
}

static void check_documents(struct field_errors *fe, const char *base, const Ritra__Person *p)
{
    char path[PATH_LEN], sub[PATH_LEN];

    join(path, base, "documents");
    if (!check_count(fe, path, p->n_documents, CASE_MAX_DOCUMENTS, "documents") ||
        !check_array(fe, path, p->documents, p->n_documents))
        return;
    for (size_t i = 0; i < p->n_documents; i++) {
        const Ritra__IdentityDocument *d = p->documents[i];
        bool ok = true;

        join_idx(path, base, "documents", i);
        if (d == NULL) {
            fe_add(fe, path, "missing");
            continue;
        }
        ok &= check_pick(fe, join(sub, path, "type"), PICKLIST_DOCUMENT_TYPE, d->type, true);
        ok &= check_docnum(fe, join(sub, path, "number"), d->number);
        check_country(fe, join(sub, path, "issuing_country"), d->issuing_country, true);
        ok &= picklist_country_valid(d->issuing_country);
        if (!ok)
            continue;
        for (size_t j = 0; j < i; j++) {
            const Ritra__IdentityDocument *o = p->documents[j];
            if (o != NULL && strcmp(nz(o->type), d->type) == 0 &&
                strcmp(nz(o->issuing_country), d->issuing_country) == 0 &&
                docnum_same(nz(o->number), d->number)) {
                fe_add(fe, path, "duplicate of documents[%zu] (same type, issuing_country, number)",
                       j);
                break;
            }
        }
    }
}

static void check_contacts(struct field_errors *fe, const char *base, const Ritra__Person *p)
{
    char path[PATH_LEN], sub[PATH_LEN];

    join(path, base, "phones");
    if (check_count(fe, path, p->n_phones, CASE_MAX_PHONES, "phones") &&
        check_array(fe, path, p->phones, p->n_phones)) {
        for (size_t i = 0; i < p->n_phones; i++)
            if (!e164_valid(p->phones[i]))
                fe_add(fe, join_idx(path, base, "phones", i),
                       "not an E.164 phone number (+ and 7-15 digits)");
    }

    join(path, base, "addresses");
    if (check_count(fe, path, p->n_addresses, CASE_MAX_ADDRESSES, "addresses") &&
        check_array(fe, path, p->addresses, p->n_addresses)) {
        for (size_t i = 0; i < p->n_addresses; i++) {
            const Ritra__Address *a = p->addresses[i];

            join_idx(path, base, "addresses", i);
            if (a == NULL || !(present(a->street) || present(a->city) || present(a->state) ||
                               present(a->postal_code) || present(a->country))) {
                fe_add(fe, path, "an address needs at least one field");
                continue;
            }
            validate_text(fe, join(sub, path, "street"), a->street, CASE_MAX_PLACE_FIELD, false,
                          false);
            validate_text(fe, join(sub, path, "city"), a->city, CASE_MAX_PLACE_FIELD, false, false);
            validate_text(fe, join(sub, path, "state"), a->state, CASE_MAX_PLACE_FIELD, false,
                          false);
            validate_text(fe, join(sub, path, "postal_code"), a->postal_code, CASE_MAX_PLACE_FIELD,
                          false, false);
            check_country(fe, join(sub, path, "country"), a->country, false);
        }
    }

    join(path, base, "prs_Email");
    if (validate_text(fe, path, p->prs_email, CASE_MAX_EMAIL, false, false) &&
        present(p->prs_email) && !email_plausible(p->prs_email))
        fe_add(fe, path, "not an e-mail address (local@domain.tld)");
}

static void check_consent(struct field_errors *fe, const char *base, const Ritra__Consent *c,
                          time_t now)
{
    char path[PATH_LEN];

    check_pick_list(fe, base, "scope", PICKLIST_CONSENT_SCOPE, c->scope, c->n_scope,
                    CASE_MAX_PICKLIST_VALUES);
    if (c->con_consent && c->n_scope == 0)
        fe_add(fe, join(path, base, "scope"), "at least one value when con_Consent is true");
    if (!c->con_consent && c->n_scope > 0)
        fe_add(fe, join(path, base, "scope"), "must be empty when con_Consent is false");
    /* The date of a refusal may be recorded too; only a consent needs one. */
    check_date(fe, join(path, base, "date"), c->date, false, c->con_consent, now);
}

static void check_victim(struct field_errors *fe, const char *base, const Ritra__VictimContext *v,
                         time_t now)
{
    char path[PATH_LEN];

    check_pick(fe, join(path, base, "vic_TraffickingStatus"), PICKLIST_TRAFFICKING_STATUS,
               v->vic_traffickingstatus, false);
    check_pick(fe, join(path, base, "vic_TraffickingStatusDecisionMakingOrg"),
               PICKLIST_TRAFFICKING_STATUS_DECISION_MAKING_ORG,
               v->vic_traffickingstatusdecisionmakingorg, false);
    check_pick(fe, join(path, base, "vic_RelationshipToTrafficker"),
               PICKLIST_RELATIONSHIP_TO_TRAFFICKER, v->vic_relationshiptotrafficker, false);
    if (v->vic_agewhentrafficked != NULL &&
        (v->vic_agewhentrafficked->value < 0 || v->vic_agewhentrafficked->value > CASE_MAX_AGE))
        fe_add(fe, join(path, base, "vic_AgeWhenTrafficked.value"), "not an age (0..%d)",
               CASE_MAX_AGE);
    check_pick_list(fe, base, "vic_Vulnerabilities", PICKLIST_VULNERABILITIES,
                    v->vic_vulnerabilities, v->n_vic_vulnerabilities, CASE_MAX_VULNERABILITIES);
    if (v->consent != NULL)
        check_consent(fe, join(path, base, "consent"), v->consent, now);
}

static void check_perpetrator(struct field_errors *fe, const char *base,
                              const Ritra__PerpetratorContext *pc)
{
    char path[PATH_LEN];

    check_pick_list(fe, base, "per_RoleInProcess", PICKLIST_ROLE_IN_PROCESS, pc->per_roleinprocess,
                    pc->n_per_roleinprocess, CASE_MAX_PICKLIST_VALUES);
    validate_text(fe, join(path, base, "per_RoleDetails"), pc->per_roledetails,
                  CASE_MAX_ROLE_DETAILS, false, true);
}

static void check_person(struct field_errors *fe, const char *base, const Ritra__Person *p,
                         time_t now)
{
    char path[PATH_LEN], q[QUOTE_LEN];
    bool role_ok;

    validate_text(fe, join(path, base, "person_ref"), p->person_ref, CASE_MAX_PERSON_REF, true,
                  false);
    role_ok = check_pick(fe, join(path, base, "role"), PICKLIST_ROLE, p->role, true);

    if (!present(p->prs_firstname) && !present(p->first_surname) && p->n_aliases == 0)
        fe_add(fe, base, "a person needs a name or an alias");
    check_name(fe, base, "prs_FirstName", p->prs_firstname);
    check_name(fe, base, "prs_MiddleName", p->prs_middlename);
    check_name(fe, base, "first_surname", p->first_surname);
    check_name(fe, base, "second_surname", p->second_surname);

    join(path, base, "aliases");
    if (check_count(fe, path, p->n_aliases, CASE_MAX_ALIASES, "aliases") &&
        check_array(fe, path, p->aliases, p->n_aliases)) {
        for (size_t i = 0; i < p->n_aliases; i++) {
            join_idx(path, base, "aliases", i);
            if (!validate_text(fe, path, p->aliases[i], CASE_MAX_NAME, true, false))
                continue;
            for (size_t j = 0; j < i; j++) {
                if (strcmp(nz(p->aliases[j]), p->aliases[i]) == 0) {
                    fe_add(fe, path, "duplicate value \"%s\"", quote(q, sizeof(q), p->aliases[i]));
                    break;
                }
            }
        }
    }

    check_pick(fe, join(path, base, "sex"), PICKLIST_SEX, p->sex, false);
    check_pick(fe, join(path, base, "prs_Gender"), PICKLIST_GENDER, p->prs_gender, false);
    check_date(fe, join(path, base, "prs_Birthdate"), p->prs_birthdate, true, false, now);

    join(path, base, "prs_Citizenship");
    if (check_count(fe, path, p->n_prs_citizenship, CASE_MAX_CITIZENSHIPS, "citizenships") &&
        check_array(fe, path, p->prs_citizenship, p->n_prs_citizenship)) {
        for (size_t i = 0; i < p->n_prs_citizenship; i++) {
            const char *cc = p->prs_citizenship[i];

            join_idx(path, base, "prs_Citizenship", i);
            if (!picklist_country_valid(cc)) {
                fe_add(fe, path, "not an ISO 3166-1 alpha-2 country code: \"%s\"",
                       quote(q, sizeof(q), cc));
                continue;
            }
            if (has_value(p->prs_citizenship, i, cc))
                fe_add(fe, path, "duplicate value \"%s\"", cc);
        }
    }

    check_documents(fe, base, p);
    check_contacts(fe, base, p);

    /* A context on the wrong role would be stored but never shown as what
     * it claims to be; refuse it rather than validate its contents. */
    if (p->victim != NULL) {
        join(path, base, "victim");
        if (role_ok && strcmp(p->role, "Victim") != 0)
            fe_add(fe, path, "only for role Victim");
        else
            check_victim(fe, path, p->victim, now);
    }
    if (p->perpetrator != NULL) {
        join(path, base, "perpetrator");
        if (role_ok && strcmp(p->role, "Suspect") != 0)
            fe_add(fe, path, "only for role Suspect");
        else
            check_perpetrator(fe, path, p->perpetrator);
    }
}

static void check_persons(struct field_errors *fe, const char *base, const Ritra__Case *c,
                          time_t now)
{
    char path[PATH_LEN], sub[PATH_LEN], q[QUOTE_LEN];

    join(path, base, "persons");
    if (c->n_persons == 0) {
        fe_add(fe, path, "at least one person required");
        return;
    }
    if (!check_count(fe, path, c->n_persons, CASE_MAX_PERSONS, "persons") ||
        !check_array(fe, path, c->persons, c->n_persons))
        return;
    for (size_t i = 0; i < c->n_persons; i++) {
        const Ritra__Person *p = c->persons[i];

        join_idx(path, base, "persons", i);
        if (p == NULL) {
            fe_add(fe, path, "missing");
            continue;
        }
        check_person(fe, path, p, now);
        if (!present(p->person_ref))
            continue;
        /* O(n^2) over at most CASE_MAX_PERSONS refs: 20k compares, no allocation */
        for (size_t j = 0; j < i; j++) {
            if (c->persons[j] != NULL &&
                strcmp(nz(c->persons[j]->person_ref), p->person_ref) == 0) {
                fe_add(fe, join(sub, path, "person_ref"), "duplicate person_ref \"%s\"",
                       quote(q, sizeof(q), p->person_ref));
                break;
            }
        }
    }
}

bool case_validate(const Ritra__Case *c, const char *prefix, struct field_errors *fe, time_t now)
{
    size_t before = fe->count + fe->dropped;
    char path[PATH_LEN], sub[PATH_LEN];
    const char *base = nz(prefix);
    bool toe_ok;

    if (c == NULL) {
        fe_add(fe, base[0] ? base : "case", "required");
        return false;
    }

    /* case_id, owner_agency, version, created_at, updated_at: server-set. */
    validate_text(fe, join(path, base, "external_ref"), c->external_ref, CASE_MAX_EXTERNAL_REF,
                  true, false);
    check_pick(fe, join(path, base, "cas_Status"), PICKLIST_CAS_STATUS, c->cas_status, true);
    validate_text(fe, join(path, base, "cas_ReasonForCaseClosure"), c->cas_reasonforcaseclosure,
                  CASE_MAX_CLOSURE_REASON, false, true);
    check_pick(fe, join(path, base, "handling_code"), PICKLIST_HANDLING_CODE, c->handling_code,
               true);
    join(path, base, "handling_conditions");
    if (strcmp(nz(c->handling_code), "H3") == 0 && !present(c->handling_conditions))
        fe_add(fe, path, "required for H3");
    else
        validate_text(fe, path, c->handling_conditions, CASE_MAX_HANDLING_CONDITIONS, false, true);
    check_pick(fe, join(path, base, "source_reliability"), PICKLIST_SOURCE_RELIABILITY,
               c->source_reliability, true);
    check_pick(fe, join(path, base, "information_accuracy"), PICKLIST_INFORMATION_ACCURACY,
               c->information_accuracy, true);

    /* The two dependent fields below are only judged against a list that
     * was itself accepted as a whole; otherwise one fault gives three errors. */
    toe_ok = check_pick_list(fe, base, "vic_TypeOfExploitation", PICKLIST_TYPE_OF_EXPLOITATION,
                             c->vic_typeofexploitation, c->n_vic_typeofexploitation,
                             CASE_MAX_PICKLIST_VALUES);
    join(path, base, "vic_ForcedLabourIndustry");
    if (check_pick(fe, path, PICKLIST_FORCED_LABOUR_INDUSTRY, c->vic_forcedlabourindustry, false) &&
        toe_ok && present(c->vic_forcedlabourindustry) &&
        !has_value(c->vic_typeofexploitation, c->n_vic_typeofexploitation, "ForcedLabour") &&
        !has_value(c->vic_typeofexploitation, c->n_vic_typeofexploitation, "ChildLabour"))
        fe_add(fe, path, "only with ForcedLabour or ChildLabour");
    check_pick_list(fe, base, "vic_TypeOfSexExploitation", PICKLIST_TYPE_OF_SEX_EXPLOITATION,
                    c->vic_typeofsexexploitation, c->n_vic_typeofsexexploitation,
                    CASE_MAX_PICKLIST_VALUES);
    if (toe_ok && c->n_vic_typeofsexexploitation > 0 &&
        !has_value(c->vic_typeofexploitation, c->n_vic_typeofexploitation, "SexualExploitation"))
        fe_add(fe, join(path, base, "vic_TypeOfSexExploitation"), "only with SexualExploitation");
    check_pick_list(fe, base, "vic_MethodOfRecruitment", PICKLIST_METHOD_OF_RECRUITMENT,
                    c->vic_methodofrecruitment, c->n_vic_methodofrecruitment,
                    CASE_MAX_PICKLIST_VALUES);
    check_pick_list(fe, base, "vic_MethodsOfControl", PICKLIST_METHODS_OF_CONTROL,
                    c->vic_methodsofcontrol, c->n_vic_methodsofcontrol, CASE_MAX_PICKLIST_VALUES);

    validate_text(fe, join(path, base, "summary"), c->summary, CASE_MAX_SUMMARY, false, true);

    join(path, base, "events");
    if (check_count(fe, path, c->n_events, CASE_MAX_EVENTS, "events") &&
        check_array(fe, path, c->events, c->n_events)) {
        for (size_t i = 0; i < c->n_events; i++) {
            join_idx(sub, base, "events", i);
            if (c->events[i] == NULL)
                fe_add(fe, sub, "missing");
            else
                check_event(fe, sub, c->events[i], now);
        }
    }

    join(path, base, "comments");
    if (check_count(fe, path, c->n_comments, CASE_MAX_COMMENTS, "comments") &&
        check_array(fe, path, c->comments, c->n_comments)) {
        for (size_t i = 0; i < c->n_comments; i++) {
            join_idx(sub, base, "comments", i);
            if (c->comments[i] == NULL)
                fe_add(fe, sub, "missing");
            else
                check_comment(fe, sub, c->comments[i], now);
        }
    }

    if (c->referral != NULL)
        check_referral(fe, join(path, base, "referral"), c->referral, now);

    check_persons(fe, base, c, now);

    return fe->count + fe->dropped == before;
}
