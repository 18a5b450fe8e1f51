/*
 * jsontext: strict JSON text parsing on json-c.
 */
#include "jsontext.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* json-c recurses per level; this bounds its stack use. */
#define JSONTEXT_MAX_DEPTH 64

static int parse_fail(char *why, size_t why_size, const char *text, size_t at, const char *what)
{
    size_t line = 1, col = 1;

    for (size_t i = 0; i < at; i++) {
        if (text[i] == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            col++; /* characters, not bytes */
        }
    }
    snprintf(why, why_size, "line %zu, column %zu: %s", line, col, what);
    return -1;
}

static int hex4(const char *s, size_t avail, unsigned *out)
{
    char buf[5], *end;

    if (avail < 4)
        return -1;
    memcpy(buf, s, 4);
    buf[4] = '\0';
    *out = (unsigned)strtoul(buf, &end, 16);
    return end == buf + 4 && strchr(buf, '-') == NULL && strchr(buf, '+') == NULL ? 0 : -1;
}

/* Inside a string at text[*i] (just after the opening quote): moves *i onto
 * the closing quote. json-c lets raw control characters through and turns
 * an unpaired surrogate escape into U+FFFD; both are refused here. */
static int scan_string(const char *text, size_t len, size_t *i, char *why, size_t why_size)
{
    for (; *i < len; (*i)++) {
        unsigned char ch = (unsigned char)text[*i];
        unsigned hi, lo;

        if (ch == '"')
            return 0;
        if (ch < 0x20)
            return parse_fail(why, why_size, text, *i, "control character in a string");
        if (ch != '\\')
            continue;
        if (++*i >= len)
            break;
        if (text[*i] != 'u')
            continue; /* json-c checks the other escapes */
        if (hex4(text + *i + 1, len - *i - 1, &hi) < 0)
            return parse_fail(why, why_size, text, *i - 1, "bad \\u escape");
        *i += 4;
        if (hi >= 0xDC00 && hi <= 0xDFFF)
            return parse_fail(why, why_size, text, *i - 5, "unpaired surrogate escape");
        if (hi < 0xD800 || hi > 0xDBFF)
            continue;
        if (len - *i < 3 || text[*i + 1] != '\\' || text[*i + 2] != 'u' ||
            hex4(text + *i + 3, len - *i - 3, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
            return parse_fail(why, why_size, text, *i - 5, "unpaired surrogate escape");
        *i += 6;
    }
    return 0; /* unterminated: json-c reports it */
}

/* At a number's first character text[*i]: moves *i onto its last one.
 * json-c reads integers with strtoll/strtoull and keeps the clamped value
 * on overflow (99999999999999999999 would quietly become 2^64-1), so
 * integers beyond 64 bits are refused here. */
static int scan_number(const char *text, size_t len, size_t *i, char *why, size_t why_size)
{
    static const char umax[] = "18446744073709551615", imin[] = "9223372036854775808";
    size_t start = *i, lead, digits, j = *i;
    int neg = text[j] == '-';

    j += (size_t)neg;
    for (lead = j; lead < len && text[lead] == '0'; lead++)
        ;
    for (; j < len && text[j] >= '0' && text[j] <= '9'; j++)
        ;
    digits = j - lead;
    if (j < len && (text[j] == '.' || text[j] == 'e' || text[j] == 'E')) {
        /* A fraction or exponent: a double, which json-c keeps exactly as
         * written; consumers check that it is finite. */
        while (j < len && strchr("0123456789.eE+-", text[j]) != NULL)
            j++;
    } else if (digits > 20 - (size_t)neg ||
               (digits == 20 - (size_t)neg && memcmp(text + lead, neg ? imin : umax, digits) > 0)) {
        return parse_fail(why, why_size, text, start, "integer out of the 64-bit range");
    }
    *i = j - 1;
    return 0;
}

/* What json-c's strict mode still lets through: single-quoted strings,
 * NaN and Infinity, raw control characters and unpaired surrogates in
 * strings, and integers it would clamp. Grammar is left to json-c. */
static int check_tokens(const char *text, size_t len, char *why, size_t why_size)
{
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        size_t w;

        if (strchr(" \t\r\n{}[],:", ch) != NULL && ch != '\0')
            continue;
        if (ch == '"') {
            i++;
            if (scan_string(text, len, &i, why, why_size) < 0)
                return -1;
        } else if (ch == '-' || (ch >= '0' && ch <= '9')) {
            if (scan_number(text, len, &i, why, why_size) < 0)
                return -1;
        } else if (ch >= 'a' && ch <= 'z') {
            for (w = i; w < len &&
                        ((text[w] >= 'a' && text[w] <= 'z') || (text[w] >= 'A' && text[w] <= 'Z'));
                 w++)
                ;
            if (!((w - i == 4 &&
                   (memcmp(text + i, "true", 4) == 0 || memcmp(text + i, "null", 4) == 0)) ||
                  (w - i == 5 && memcmp(text + i, "false", 5) == 0)))
                return parse_fail(why, why_size, text, i, "unexpected word");
            i = w - 1;
        } else {
            return parse_fail(why, why_size, text, i, "unexpected character");
        }
    }
    return 0;
}

struct json_object *jsontext_parse(const char *text, size_t len, char *why, size_t why_size)
{
    struct json_tokener *tok;
    struct json_object *obj = NULL;
    enum json_tokener_error jerr;
    size_t end;

    why[0] = '\0';
    if (len > INT_MAX - 1) {
        snprintf(why, why_size, "input larger than 2 GiB");
        return NULL;
    }
    if (check_tokens(text, len, why, why_size) < 0)
        return NULL;
    /* Deep enough for any sane document; consumers with a tighter limit
     * (pbjson) enforce it themselves and can name the path. */
    tok = json_tokener_new_ex(JSONTEXT_MAX_DEPTH);
    if (tok == NULL) {
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    obj = json_tokener_parse_ex(tok, text, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (jerr == json_tokener_continue) {
        /* A top-level number is only known to be complete at the end. */
        obj = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
        if (jerr == json_tokener_continue)
            jerr = json_tokener_error_parse_eof;
        end = len;
    }
    if (jerr != json_tokener_success) {
        parse_fail(why, why_size, text, end < len ? end : len, json_tokener_error_desc(jerr));
        goto fail;
    }
    for (; end < len; end++) {
        if (strchr(" \t\r\n", text[end]) == NULL || text[end] == '\0') {
            parse_fail(why, why_size, text, end, "unexpected data after the JSON value");
            goto fail;
        }
    }
    json_tokener_free(tok);
    return obj;
fail:
    json_object_put(obj);
    json_tokener_free(tok);
    return NULL;
}

int jsontext_utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        uint32_t cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            n = 1, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
            n = 2, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
            n = 3, cp = c & 0x07;
        else
            return 0;
        if (len - i <= n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        i += n + 1;
    }
    return 1;
}
