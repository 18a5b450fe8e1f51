/*
 * The building blocks of case validation shared by case_validate.c and
 * person_validate.c: field paths, quoting of client values, and the checks
 * that apply to any field (dates, picklists, counts, country codes).
 */
#include "case_validate_int.h"

#include "case_validate.h"

#include <stdio.h>
#include <string.h>

const char *cv_nz(const char *s)
{
    return s ? s : "";
}

bool cv_present(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* Appends s at buf[o], never past CV_PATH_LEN - 1 bytes; a cut backs off to a
 * UTF-8 character boundary, because the path travels in a protobuf string.
 * Only an absurdly long caller prefix is ever cut. */
static size_t append(char *buf, size_t o, const char *s)
{
    size_t n = strlen(s);

    if (o + n > CV_PATH_LEN - 1) {
        n = CV_PATH_LEN - 1 - o;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(buf + o, s, n);
    buf[o + n] = '\0';
    return o + n;
}

/* buf = "base.field" ("field" when base is empty); buf must not be base. */
const char *cv_join(char *buf, const char *base, const char *field)
{
    size_t o = append(buf, 0, base);

    if (o > 0)
        o = append(buf, o, ".");
    append(buf, o, field);
    return buf;
}

/* buf = "base.field[i]". */
const char *cv_join_idx(char *buf, const char *base, const char *field, size_t i)
{
    char idx[24];

    snprintf(idx, sizeof(idx), "[%zu]", i);
    cv_join(buf, base, field);
    append(buf, strlen(buf), idx);
    return buf;
}

/* A client value echoed in a reason must not break the reply: the Response
 * is protobuf, whose strings must be UTF-8. So the value is cut on a
 * character boundary, and control bytes, quotes and invalid UTF-8 are
 * escaped as \xNN / \" whatever the client sent. */
const char *cv_quote(char *out, size_t n, const char *v)
{
    size_t o = 0;

    v = cv_nz(v);
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

void cv_check_date(struct field_errors *fe, const char *path, const char *s, bool partial,
                   bool required, time_t now)
{
    const char *why;

    if (!cv_present(s)) {
        if (required)
            fe_add(fe, path, "required");
        return;
    }
    if (!case_date_valid(s, partial, now, &why))
        fe_add(fe, path, "%s", why);
}

bool cv_check_pick(struct field_errors *fe, const char *path, enum picklist which, const char *v,
                   bool required)
{
    char q[CV_QUOTE_LEN];

    if (!cv_present(v)) {
        if (required)
            fe_add(fe, path, "required");
        return !required;
    }
    if (!picklist_valid(which, v)) {
        fe_add(fe, path, "not a %s value: \"%s\"", picklist_name(which), cv_quote(q, sizeof(q), v));
        return false;
    }
    return true;
}

bool cv_check_count(struct field_errors *fe, const char *path, size_t n, size_t max,
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
bool cv_check_array(struct field_errors *fe, const char *path, const void *arr, size_t n)
{
    if (n > 0 && arr == NULL) {
        fe_add(fe, path, "missing values");
        return false;
    }
    return true;
}

bool cv_has_value(char *const *v, size_t n, const char *want)
{
    if (v == NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(cv_nz(v[i]), want) == 0)
            return true;
    return false;
}

/* A multiselect picklist: each value valid, none repeated, at most max.
 * False when the list as a whole was refused (too long, missing), so that
 * rules depending on its contents are not judged from it. */
bool cv_check_pick_list(struct field_errors *fe, const char *base, const char *field,
                        enum picklist which, char *const *v, size_t n, size_t max)
{
    char path[CV_PATH_LEN], q[CV_QUOTE_LEN];

    cv_join(path, base, field);
    if (!cv_check_count(fe, path, n, max, "values") || !cv_check_array(fe, path, v, n))
        return false;
    for (size_t i = 0; i < n; i++) {
        cv_join_idx(path, base, field, i);
        if (!cv_present(v[i])) {
            fe_add(fe, path, "empty value");
            continue;
        }
        if (!cv_check_pick(fe, path, which, v[i], true))
            continue;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cv_nz(v[j]), v[i]) == 0) {
                fe_add(fe, path, "duplicate value \"%s\"", cv_quote(q, sizeof(q), v[i]));
                break;
            }
        }
    }
    return true;
}

void cv_check_country(struct field_errors *fe, const char *path, const char *code, bool required)
{
    char q[CV_QUOTE_LEN];

    if (!cv_present(code)) {
        if (required)
            fe_add(fe, path, "required");
        return;
    }
    if (!picklist_country_valid(code))
        fe_add(fe, path, "not an ISO 3166-1 alpha-2 country code: \"%s\"",
               cv_quote(q, sizeof(q), code));
}
