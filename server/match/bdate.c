/*
 * Birth dates with their precision, and the agreement levels that tell the
 * usual errors (day and month exchanged, a year off, a digit mistyped) from
 * two different dates.
 */
#include "bdate.h"

#include "strsim.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bdate_parse(const char *s, struct bdate *out)
{
    int v[3] = {0, 0, 0}, width[3] = {4, 2, 2}, part = 0;
    const char *p = s ? s : "";
    bool compact = strlen(p) == 8 && strspn(p, "0123456789") == 8;

    memset(out, 0, sizeof(*out));
    while (*p && part < 3) {
        for (int i = 0; i < width[part]; i++, p++) {
            if (*p < '0' || *p > '9')
                return -1;
            v[part] = v[part] * 10 + (*p - '0');
        }
        part++;
        if (*p == '-' && !compact)
            p++;
        else if (*p && !compact)
            return -1;
    }
    if (*p || part == 0 || v[0] < 1800 || v[0] > 2200 || (part > 1 && (v[1] < 1 || v[1] > 12)) ||
        (part > 2 && (v[2] < 1 || v[2] > 31)))
        return -1;
    out->year = v[0];
    out->month = v[1];
    out->day = v[2];
    return 0;
}

/* 1 January is what many registries write when only the year is known. */
static int precision(const struct bdate *d)
{
    if (d->year == 0)
        return 0;
    if (d->month == 0 || (d->month == 1 && d->day == 1))
        return 1;
    return d->day == 0 ? 2 : 3;
}

/* One digit apart as written (YYYYMM or YYYYMMDD): a slip of the hand. */
static bool one_digit_apart(const struct bdate *a, const struct bdate *b, bool with_day)
{
    char sa[16], sb[16];

    snprintf(sa, sizeof(sa), "%04d%02d%02d", a->year, a->month, with_day ? a->day : 0);
    snprintf(sb, sizeof(sb), "%04d%02d%02d", b->year, b->month, with_day ? b->day : 0);
    return sim_edit_distance(sa, sb, 1) <= 1;
}

enum bdate_level bdate_compare(const struct bdate *a, const struct bdate *b)
{
    int pa = precision(a), pb = precision(b), p = pa < pb ? pa : pb;
    int dy = abs(a->year - b->year);

    if (p == 0)
        return BDATE_MISSING;
    /* A generation apart is never forgiven as a typo, however close the
     * digits: 1975 and 1995 are a parent and a child as often as a slip. */
    if (dy >= BDATE_FAR_YEARS)
        return BDATE_FAR;
    if (p == 1)
        return dy == 0 ? BDATE_YEAR_ONLY : dy == 1 ? BDATE_YEAR_ONLY_PM1 : BDATE_DIFFERENT;
    if (p == 2) {
        if (a->month == b->month && dy <= 1)
            return dy == 0 ? BDATE_YEAR_MONTH : BDATE_YEAR_PM1;
        return one_digit_apart(a, b, false) ? BDATE_TYPO : BDATE_DIFFERENT;
    }
    if (dy == 0 && a->month == b->month && a->day == b->day)
        return BDATE_EXACT;
    if (dy == 0 && a->month == b->day && a->day == b->month)
        return BDATE_SWAPPED;
    if (dy == 1 && a->month == b->month && a->day == b->day)
        return BDATE_YEAR_PM1;
    if (one_digit_apart(a, b, true) || (dy == 0 && (a->month == b->month || a->day == b->day)))
        return BDATE_TYPO;
    return BDATE_DIFFERENT;
}

static const char *const level_names[] = {
    "MISSING",    "EXACT",     "SWAPPED",       "YEAR_PM1",  "TYPO",
    "YEAR_MONTH", "YEAR_ONLY", "YEAR_ONLY_PM1", "DIFFERENT", "FAR",
};

const char *bdate_level_name(int level)
{
    return level >= 0 && level < BDATE_NLEVELS ? level_names[level] : "?";
}
