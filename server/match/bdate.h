/*
 * Birth dates as the case format writes them: YYYY, YYYY-MM or YYYY-MM-DD,
 * the precision being the format. Pure functions.
 */
#ifndef RITRA_MATCH_BDATE_H
#define RITRA_MATCH_BDATE_H

struct bdate {
    int year;  /* 0: unknown */
    int month; /* 0: unknown */
    int day;   /* 0: unknown */
};

/* Birth dates; precision is the format ("1994" knows only the year). */
enum bdate_level {
    BDATE_MISSING,       /* one side unknown */
    BDATE_EXACT,         /* full dates equal */
    BDATE_SWAPPED,       /* day and month exchanged */
    BDATE_YEAR_PM1,      /* year one apart, the rest equal */
    BDATE_TYPO,          /* one digit or one component differs */
    BDATE_YEAR_MONTH,    /* equal to month precision, day unknown on one side */
    BDATE_YEAR_ONLY,     /* equal to year precision (or 1 January placeholders) */
    BDATE_YEAR_ONLY_PM1, /* year-precision dates one year apart */
    BDATE_DIFFERENT,     /* irreconcilable, less than BDATE_FAR_YEARS apart */
    BDATE_FAR,           /* irreconcilable, a generation apart */
    BDATE_NLEVELS
};

#define BDATE_FAR_YEARS 12

/* Parses YYYY, YYYY-MM, YYYY-MM-DD or YYYYMMDD; out-of-range parts make the
 * date unknown. Returns 0, or -1 with *out zeroed. */
int bdate_parse(const char *s, struct bdate *out);

/* Level of two parsed dates. */
enum bdate_level bdate_compare(const struct bdate *a, const struct bdate *b);

/* The level's name for explanations ("SWAPPED"). */
const char *bdate_level_name(int level);

#endif
