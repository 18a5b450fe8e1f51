/*
 * Colombian-style synthetic persons. Each generated person (the truth) is
 * observed by one or more agencies; every observation is a record, and
 * duplicates carry the corruptions seen in real case files: accents lost,
 * names spelled by ear (b/v, s/z/c, ll/y, g/j, h), nicknames, compound names
 * cut short, surnames missing or swapped, day and month exchanged, a year
 * off, only the year known, document typos, missing fields.
 *
 * Hard negatives are people of their own: siblings (same two surnames),
 * twins (and the same birth date), a parent and child with one full name a
 * generation apart, and namesakes of the commonest names.
 */
#include "colgen.h"
#include "colgen_names.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies with truncation at cap (snprintf("%s") on overlapping sizes makes
 * gcc warn about every use). */
static void scopy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);

    if (cap == 0)
        return;
    if (n >= cap)
        n = cap - 1;
    memmove(dst, src, n);
    dst[n] = '\0';
}

struct rng {
    uint64_t s;
};

static uint64_t rnext(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int rint_(struct rng *r, int n)
{
    return n > 0 ? (int)(rnext(r) % (uint64_t)n) : 0;
}

static bool chance(struct rng *r, double p)
{
    return (double)(rnext(r) >> 11) / 9007199254740992.0 < p;
}

static const char *pick(struct rng *r, const struct wname *t, size_t n)
{
    int total = 0, x;

    for (size_t i = 0; i < n; i++)
        total += t[i].weight;
    x = rint_(r, total);
    for (size_t i = 0; i < n; i++) {
        if (x < t[i].weight)
            return t[i].name;
        x -= t[i].weight;
    }
    return t[0].name;
}

#define PICK(r, t) pick(r, colgen_##t, colgen_n_##t)

/* The long tail: about a quarter of Colombians carry a surname outside the
 * hundred commonest. Built from syllables, so nearly unique. */
static void tail_surname(struct rng *r, char *out, size_t cap)
{
    static const char *const a[] = {"Ar",  "Bel", "Car", "Dor", "Es",  "Fon", "Gal",  "Hin",
                                    "Ir",  "Lan", "Mal", "Nar", "Ol",  "Pul", "Quir", "Sal",
                                    "Tam", "Ur",  "Val", "Zam", "Cas", "Mon", "Ber",  "Gua"};
    static const char *const b[] = {"be", "ca", "de", "ga", "la", "ma",
                                    "ne", "ri", "so", "ta", "ve"};
    static const char *const c[] = {"ez", "ero", "ano", "illo", "eda", "ales", "ura",
                                    "iz", "ón",  "ino", "ares", "ada", "ueta"};

    /* one draw per statement: argument evaluation order is unspecified, and
     * the same seed must give the same data whatever the compiler */
    int x = rint_(r, 24), y = rint_(r, 11), z = rint_(r, 13);

    snprintf(out, cap, "%s%s%s", a[x], b[y], c[z]);
}

struct truth {
    char sex;
    char given[64];
    char s1[64], s2[64];
    int y, m, d;
    char doc_type[24], doc_country[4], doc[24];
    char cit[4];
    char phone[24];
};

static void new_surname(struct rng *r, char *out, size_t cap)
{
    if (chance(r, 0.22))
        tail_surname(r, out, cap);
    else
        snprintf(out, cap, "%s", PICK(r, surnames));
}

static void new_given(struct rng *r, char sex, char *out, size_t cap)
{
    const char *a = sex == 'F' ? PICK(r, female) : PICK(r, male), *b;

    if (!chance(r, strcmp(a, "María") == 0 || strcmp(a, "Juan") == 0 ? 0.85 : 0.35)) {
        snprintf(out, cap, "%s", a);
        return;
    }
    do
        b = sex == 'F' ? PICK(r, female) : PICK(r, male);
    while (strcmp(a, b) == 0);
    if (sex == 'F' && chance(r, 0.08))
        b = chance(r, 0.5) ? "del Carmen" : "de los Ángeles";
    snprintf(out, cap, "%s %s", a, b);
}

/* True if every word of a is in b or every word of b in a: "Alejandra" and
 * "Alejandra Catalina" could be one person, so siblings never get such pairs. */
static bool names_nested(const char *a, const char *b)
{
    const char *x = a, *y = b;

    for (int pass = 0; pass < 2; pass++, x = b, y = a) {
        bool all = true;

        for (const char *p = x; *p && all;) {
            size_t n = strcspn(p, " ");
            bool found = false;

            for (const char *q = y; *q && !found;) {
                size_t m = strcspn(q, " ");

                found = m == n && strncmp(p, q, n) == 0;
                q += m + (q[m] == ' ');
            }
            all = found;
            p += n + (p[n] == ' ');
        }
        if (all)
            return true;
    }
    return false;
}

static void new_doc(struct rng *r, struct truth *t)
{
    if (strcmp(t->cit, "VE") == 0) {
        snprintf(t->doc_type, sizeof(t->doc_type), chance(r, 0.5) ? "NationalId" : "Passport");
        snprintf(t->doc_country, sizeof(t->doc_country), "VE");
        snprintf(t->doc, sizeof(t->doc), "%d", 5000000 + rint_(r, 25000000));
    } else {
        snprintf(t->doc_type, sizeof(t->doc_type), "NationalId");
        snprintf(t->doc_country, sizeof(t->doc_country), "%s", t->cit);
        snprintf(t->doc, sizeof(t->doc), "%lld", 1000000000LL + rint_(r, 120000000));
    }
}

static void new_phone(struct rng *r, char *out, size_t cap)
{
    int operator_code = rint_(r, 30), line = rint_(r, 10000000);

    snprintf(out, cap, "+573%02d%07d", operator_code, line);
}

static void new_date(struct rng *r, int y0, int y1, struct truth *t)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    t->y = y0 + rint_(r, y1 - y0 + 1);
    t->m = 1 + rint_(r, 12);
    t->d = 1 + rint_(r, mdays[t->m - 1]);
}

static void new_person(struct rng *r, struct truth *t)
{
    memset(t, 0, sizeof(*t));
    t->sex = chance(r, 0.6) ? 'F' : 'M'; /* most identified victims are women */
    new_given(r, t->sex, t->given, sizeof(t->given));
    new_surname(r, t->s1, sizeof(t->s1));
    new_surname(r, t->s2, sizeof(t->s2));
    new_date(r, 1960, 2012, t);
    snprintf(t->cit, sizeof(t->cit), "%s", chance(r, 0.75) ? "CO" : chance(r, 0.85) ? "VE" : "EC");
    new_doc(r, t);
    new_phone(r, t->phone, sizeof(t->phone));
}

/* ---- corruptions, on UTF-8 text that only ever holds Spanish letters */

static void strip_accents(char *s)
{
    static const char *const from[] = {"á", "é", "í", "ó", "ú", "ü", "ñ",
                                       "Á", "É", "Í", "Ó", "Ú", "Ñ"};
    static const char to[] = "aeiouunAEIOUN";
    char out[128];
    size_t o = 0;

    for (const char *p = s; *p && o + 1 < sizeof(out);) {
        size_t k;

        for (k = 0; k < 13; k++)
            if (strncmp(p, from[k], 2) == 0)
                break;
        out[o++] = k < 13 ? to[k] : *p;
        p += k < 13 ? 2 : 1;
    }
    out[o] = '\0';
    memcpy(s, out, o + 1);
}

static void upper(char *s)
{
    for (unsigned char *p = (unsigned char *)s; *p; p++) {
        if (*p >= 'a' && *p <= 'z')
            *p = (unsigned char)(*p - 32);
        else if (*p == 0xc3 && p[1] >= 0xa0 && p[1] <= 0xbe)
            *++p -= 0x20;
    }
}

/* Replaces the first occurrence of from (at a word start if initial). */
static bool replace(char *s, size_t cap, const char *from, const char *to, bool initial)
{
    char *hit = strstr(s, from), buf[128];

    if (hit == NULL || (initial && hit != s && hit[-1] != ' '))
        return false;
    snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(hit - s), s, to, hit + strlen(from));
    scopy(s, cap, buf);
    return true;
}

/* A name written by ear: one Spanish spelling equivalence applied. */
static bool by_ear(struct rng *r, char *s, size_t cap)
{
    static const char *const rules[][2] = {
        {"v", "b"},    {"b", "v"},  {"z", "s"},   {"s", "z"},   {"ce", "se"}, {"ci", "si"},
        {"ll", "y"},   {"y", "ll"}, {"ge", "je"}, {"gi", "ji"}, {"je", "ge"}, {"H", ""},
        {"Jo", "Jho"}, {"X", "J"},  {"qu", "k"},  {"Z", "S"},   {"V", "B"},   {"B", "V"},
        {"ch", "sh"},  {"Y", "LL"}, {"th", "t"},  {"ph", "f"},  {"C", "K"},   {"y", "i"},
    };
    int start = rint_(r, (int)(sizeof(rules) / sizeof(rules[0])));

    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        const char *const *rule = rules[(start + i) % (sizeof(rules) / sizeof(rules[0]))];

        if (replace(s, cap, rule[0], rule[1], rule[0][0] >= 'A' && rule[0][0] <= 'Z'))
            return true;
    }
    return false;
}

/* One keyboard slip on an ASCII letter: substitution, deletion, insertion or
 * transposition. */
static void typo(struct rng *r, char *s, size_t cap)
{
    size_t len = strlen(s), pos[128], n = 0, at;
    int op = rint_(r, 4);

    for (size_t i = 1; i < len && n < 128; i++)
        if (s[i] >= 'a' && s[i] <= 'z')
            pos[n++] = i;
    if (n < 2)
        return;
    at = pos[rint_(r, (int)n)];
    if (op == 0) {
        s[at] = (char)('a' + rint_(r, 26));
    } else if (op == 1) {
        memmove(s + at, s + at + 1, len - at);
    } else if (op == 2 && len + 2 < cap) {
        memmove(s + at + 1, s + at, len - at + 1);
        s[at] = (char)('a' + rint_(r, 26));
    } else if (at + 1 < len && s[at + 1] >= 'a' && s[at + 1] <= 'z') {
        char c = s[at];
        s[at] = s[at + 1];
        s[at + 1] = c;
    }
}

static bool nickname(struct rng *r, char *given, size_t cap)
{
    int start = rint_(r, (int)colgen_n_nicks);

    for (size_t i = 0; i < colgen_n_nicks; i++) {
        size_t k = (start + i) % colgen_n_nicks;
        size_t l = strlen(colgen_nicks[k].name);

        if (strncmp(given, colgen_nicks[k].name, l) == 0 && (given[l] == '\0' || given[l] == ' ')) {
            char buf[128];

            snprintf(buf, sizeof(buf), "%s%s", colgen_nicks[k].nick, given + l);
            scopy(given, cap, buf);
            return true;
        }
    }
    return false;
}

static void fill_doc(struct eval_person *e, const struct truth *t, const char *number)
{
    snprintf(e->doc_type, sizeof(e->doc_type), "%s", t->doc_type);
    snprintf(e->doc_country, sizeof(e->doc_country), "%s", t->doc_country);
    snprintf(e->doc_number, sizeof(e->doc_number), "%s", number);
}

/* Observes t as one agency would record it; dup adds corruptions. */
static void observe(struct rng *r, const struct truth *t, bool dup, struct eval_person *e)
{
    char given[64], s1[64], s2[64], doc[24];
    int y = t->y, m = t->m, d = t->d, prec, k = dup ? 1 + rint_(r, 3) : 0;

    snprintf(given, sizeof(given), "%s", t->given);
    snprintf(s1, sizeof(s1), "%s", t->s1);
    snprintf(s2, sizeof(s2), "%s", t->s2);
    snprintf(doc, sizeof(doc), "%s", t->doc);
    prec = chance(r, 0.80) ? 3 : chance(r, 0.15) ? 2 : chance(r, 0.7) ? 1 : 0;

    for (int i = 0; i < k; i++) {
        switch (rint_(r, 16)) {
        case 0: /* spelled by ear */
        case 1: {
            char *which = chance(r, 0.5) ? given : chance(r, 0.5) ? s1 : s2;
            if (!by_ear(r, which, 64))
                typo(r, which, 64);
            break;
        }
        case 2:
            typo(r, chance(r, 0.5) ? given : chance(r, 0.5) ? s1 : s2, 64);
            break;
        case 3:
            if (!nickname(r, given, sizeof(given)))
                typo(r, given, sizeof(given));
            break;
        case 4: /* compound cut short */
            if (strchr(given, ' '))
                *strchr(given, ' ') = '\0';
            break;
        case 5:
            s2[0] = '\0';
            break;
        case 6: {
            char tmp[64];
            memcpy(tmp, s1, sizeof(tmp));
            memcpy(s1, s2, sizeof(tmp));
            memcpy(s2, tmp, sizeof(tmp));
            break;
        }
        case 7: /* particle dropped, or both surnames in the first field */
            if (!replace(s1, sizeof(s1), "de la ", "", false) &&
                !replace(s1, sizeof(s1), "del ", "", false)) {
                char both[128];
                snprintf(both, sizeof(both), "%s %s", s1, s2);
                scopy(s1, sizeof(s1), both);
                s2[0] = '\0';
            }
            break;
        case 8:
            if (d <= 12 && d != m) {
                int x = d;
                d = m;
                m = x;
            }
            break;
        case 9:
            y += chance(r, 0.5) ? 1 : -1;
            break;
        case 10:
            prec = prec > 1 ? 1 : 0;
            break;
        case 11: /* a digit of the document mistyped */
        {
            size_t l = strlen(doc), at = (size_t)rint_(r, (int)l);
            if (chance(r, 0.5) && at + 1 < l) {
                char c = doc[at];
                doc[at] = doc[at + 1];
                doc[at + 1] = c;
            } else {
                doc[at] = (char)('0' + (doc[at] - '0' + 1 + rint_(r, 9)) % 10);
            }
            break;
        }
        case 12:
            d = d < 28 ? d + 1 : d - 1; /* a day off */
            break;
        case 13: /* only the second given name kept */
            if (strchr(given, ' '))
                memmove(given, strchr(given, ' ') + 1, strlen(strchr(given, ' ')));
            else
                typo(r, s1, sizeof(s1));
            break;
        case 14: /* year digits transposed (1985 written 1958), or a name by ear */
            if (chance(r, 0.3))
                y = y / 100 * 100 + (y % 10) * 10 + (y / 10) % 10;
            else if (!by_ear(r, chance(r, 0.5) ? given : s1, 64))
                typo(r, s2, sizeof(s2));
            break;
        default: /* the birth date was not collected */
            prec = 0;
            break;
        }
    }
    if (!chance(r, 0.5))
        strip_accents(given), strip_accents(s1), strip_accents(s2);
    if (chance(r, 0.25))
        upper(given), upper(s1), upper(s2);

    /* some registries keep the second given name apart */
    if (strchr(given, ' ') && chance(r, 0.25)) {
        char *sp = strchr(given, ' ');
        snprintf(e->middle, sizeof(e->middle), "%s", sp + 1);
        *sp = '\0';
    }
    snprintf(e->given, sizeof(e->given), "%s", given);
    snprintf(e->surname1, sizeof(e->surname1), "%s", s1);
    snprintf(e->surname2, sizeof(e->surname2), "%s", s2);
    if (chance(r, 0.95))
        snprintf(e->sex, sizeof(e->sex), "%s", t->sex == 'F' ? "Female" : "Male");
    if (prec == 3)
        snprintf(e->birthdate, sizeof(e->birthdate), "%04d-%02d-%02d", y, m, d);
    else if (prec == 2)
        snprintf(e->birthdate, sizeof(e->birthdate), "%04d-%02d", y, m);
    else if (prec == 1)
        snprintf(e->birthdate, sizeof(e->birthdate), "%04d", y);
    if (chance(r, 0.85))
        snprintf(e->citizenship, sizeof(e->citizenship), "%s", t->cit);
    /* Victims often arrive without papers: half the records carry none. */
    if (chance(r, 0.5)) {
        if (chance(r, 0.2) && strlen(doc) > 6) {
            char dotted[40]; /* 1.023.456.789 as printed on the card */
            size_t l = strlen(doc), o = 0;
            for (size_t i = 0; i < l && o + 2 < sizeof(dotted); i++) {
                dotted[o++] = doc[i];
                if ((l - i - 1) % 3 == 0 && i + 1 < l)
                    dotted[o++] = '.';
            }
            dotted[o] = '\0';
            fill_doc(e, t, dotted);
        } else {
            fill_doc(e, t, doc);
        }
    }
    if (chance(r, 0.4))
        snprintf(e->phone, sizeof(e->phone), "%s", t->phone);
}

/* ---- people and their records */

struct out {
    struct eval_person *v;
    size_t n, cap;
};

static int emit_person(struct rng *r, struct out *o, const struct truth *t, long entity,
                       const char *kind)
{
    int ndup = chance(r, 0.45) ? 0 : chance(r, 0.64) ? 1 : chance(r, 0.75) ? 2 : 3;

    for (int i = 0; i <= ndup; i++) {
        struct eval_person *e;

        if (o->n == o->cap) {
            size_t cap = o->cap ? o->cap * 2 : 1024;
            struct eval_person *v = realloc(o->v, cap * sizeof(*v));

            if (v == NULL)
                return -1;
            o->v = v;
            o->cap = cap;
        }
        e = &o->v[o->n++];
        memset(e, 0, sizeof(*e));
        e->entity = entity;
        snprintf(e->kind, sizeof(e->kind), "%s", kind);
        if (i == 0)
            snprintf(e->id, sizeof(e->id), "col-%ld-org", entity);
        else
            snprintf(e->id, sizeof(e->id), "col-%ld-dup-%d", entity, i - 1);
        observe(r, t, i > 0, e);
    }
    return 0;
}

long colgen_generate(uint64_t seed, size_t n_base, struct eval_person **out)
{
    struct rng r = {seed};
    struct out o = {0};
    long entity = 0;

    for (size_t i = 0; i < n_base; i++) {
        struct truth t, rel;

        new_person(&r, &t);
        if (emit_person(&r, &o, &t, entity++, "base") < 0)
            goto oom;
        rel = t;
        if (chance(&r, 0.12)) { /* a sibling: same parents, another name */
            rel.sex = chance(&r, 0.5) ? 'F' : 'M';
            do
                new_given(&r, rel.sex, rel.given, sizeof(rel.given));
            while (names_nested(rel.given, t.given));
            new_date(&r, t.y - 8, t.y + 8, &rel);
            new_doc(&r, &rel);
            if (!chance(&r, 0.3))
                new_phone(&r, rel.phone, sizeof(rel.phone));
            if (emit_person(&r, &o, &rel, entity++, "sibling") < 0)
                goto oom;
        } else if (chance(&r, 0.03)) { /* a twin; cédulas issued together */
            rel.sex = chance(&r, 0.5) ? 'F' : 'M';
            do {
                new_given(&r, rel.sex, rel.given, sizeof(rel.given));
                if (strchr(t.given, ' ') && rel.sex == t.sex && chance(&r, 0.4)) {
                    char first[64];
                    snprintf(first, sizeof(first), "%.*s", (int)strcspn(t.given, " "), t.given);
                    char both[160];
                    snprintf(both, sizeof(both), "%s %s", first,
                             rel.sex == 'F' ? PICK(&r, female) : PICK(&r, male));
                    scopy(rel.given, sizeof(rel.given), both);
                }
            } while (names_nested(rel.given, t.given));
            if (chance(&r, 0.5))
                snprintf(rel.doc, sizeof(rel.doc), "%lld", strtoll(t.doc, NULL, 10) + 1);
            else
                new_doc(&r, &rel);
            if (emit_person(&r, &o, &rel, entity++, "twin") < 0)
                goto oom;
        } else if (chance(&r, 0.04)) { /* parent and child, one name */
            rel.y = t.y - 20 - rint_(&r, 16);
            new_date(&r, rel.y, rel.y, &rel);
            new_doc(&r, &rel);
            if (emit_person(&r, &o, &rel, entity++, "parent") < 0)
                goto oom;
        } else if (chance(&r, 0.06)) {
            /* two namesakes: one of the commonest full names, nothing else shared */
            struct truth other;

            new_person(&r, &rel);
            rel.given[strcspn(rel.given, " ")] = '\0';
            snprintf(rel.s1, sizeof(rel.s1), "%s", colgen_surnames[rint_(&r, 15)].name);
            snprintf(rel.s2, sizeof(rel.s2), "%s", colgen_surnames[rint_(&r, 15)].name);
            new_person(&r, &other);
            other.sex = rel.sex;
            memcpy(other.given, rel.given, sizeof(other.given));
            memcpy(other.s1, rel.s1, sizeof(other.s1));
            memcpy(other.s2, rel.s2, sizeof(other.s2));
            if (emit_person(&r, &o, &rel, entity++, "namesake") < 0 ||
                emit_person(&r, &o, &other, entity++, "namesake") < 0)
                goto oom;
        }
    }
    *out = o.v;
    return (long)o.n;
oom:
    free(o.v);
    return -1;
}
