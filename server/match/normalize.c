/*
 * Folding and tokenising of Spanish and Latin-American names.
 *
 * Comparison happens on a folded ASCII form because the same person arrives
 * written by different hands: "MUÑOZ", "Muñoz", "Munoz", "Mun~oz". ñ is folded
 * to n on purpose: keyboards and old registries without ñ write n, and the
 * phonetic key (phonetic.c) keeps the n/ni/ny sounds together anyway.
 */
#include "normalize.h"

#include <string.h>

/* Base letters of U+00C0..U+00FF; "" drops the character (× ÷), multi-letter
 * strings are ligatures and thorn. */
static const char *const latin1[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
    "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
    "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "y",
};

/* Base letters of U+0100..U+017F (Latin Extended-A), one per code point;
 * '2' marks the two ligatures handled in fold_cp(). */
static const char latin_ext_a[] = "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii22jjkkk"
                                  "llllllllllnnnnnnnnnoooooo22rrrrrrssssssssttttttuuuuuuuuuuuu"
                                  "wwyyyzzzzzzs";

/* Decodes one UTF-8 sequence at s (len bytes left). Returns its length and
 * the code point in *cp, or 1 with *cp = -1 for a malformed byte, so that the
 * caller skips exactly one byte and resynchronises. */
static size_t utf8_next(const unsigned char *s, size_t len, long *cp)
{
    size_t n, i;
    long v;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2;
        v = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3;
        v = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4;
        v = s[0] & 0x07;
    } else {
        *cp = -1;
        return 1;
    }
    if (len < n) {
        *cp = -1;
        return 1;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *cp = -1;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3f);
    }
    /* Overlongs, surrogates and values past U+10FFFF are not characters. */
    if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10ffff)) ||
        (v >= 0xd800 && v <= 0xdfff)) {
        *cp = -1;
        return 1;
    }
    *cp = v;
    return n;
}

/* The folded form of one code point: letters, a space (separator), or "". */
static const char *fold_cp(long cp, char buf[2])
{
    if (cp < 0)
        return "";
    if (cp < 0x80) {
        if (cp >= 'A' && cp <= 'Z')
            cp += 'a' - 'A';
        if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) {
            buf[0] = (char)cp;
            buf[1] = '\0';
            return buf;
        }
        /* O'Brien, D'Alessandro: the apostrophe joins, it does not split. */
        if (cp == '\'' || cp == '`')
            return "";
        return " ";
    }
    if (cp >= 0xc0 && cp <= 0xff)
        return latin1[cp - 0xc0];
    if (cp >= 0x100 && cp <= 0x17f) {
        if (cp == 0x132 || cp == 0x133)
            return "ij";
        if (cp == 0x152 || cp == 0x153)
            return "oe";
        buf[0] = latin_ext_a[cp - 0x100];
        buf[1] = '\0';
        return buf;
    }
    /* Combining marks: "María" typed in decomposed form (NFD). */
    if (cp >= 0x300 && cp <= 0x36f)
        return "";
    /* Typographic apostrophes and the modifier letter used for them. */
    if (cp == 0x2019 || cp == 0x2018 || cp == 0x2bc || cp == 0xb4)
        return "";
    /* No-break space, dashes and other punctuation separate words; other
     * scripts have no ASCII form here and are dropped. */
    if (cp == 0xa0 || (cp >= 0x2000 && cp <= 0x206f) || (cp >= 0xa1 && cp <= 0xbf))
        return " ";
    return "";
}

size_t norm_fold(const char *in, char *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)(in ? in : "");
    size_t len = strlen((const char *)s), i = 0, o = 0;
    bool space = true; /* swallows leading and repeated separators */

    if (cap == 0)
        return 0;
    while (i < len) {
        long cp;
        char buf[2];
        const char *f;
        size_t flen;

        i += utf8_next(s + i, len - i, &cp);
        f = fold_cp(cp, buf);
        if (f[0] == ' ') {
            if (!space && o + 1 < cap)
                out[o++] = ' ';
            space = true;
            continue;
        }
        flen = strlen(f);
        if (flen == 0)
            continue;
        if (o + flen >= cap)
            break;
        memcpy(out + o, f, flen);
        o += flen;
        space = false;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    return o;
}

/* Spanish connectors, found in given names ("María del Carmen", "María de
 * los Ángeles") and surnames ("de la Cruz", "Ortega y Gasset") alike. */
static const char *const connectors[] = {
    "de", "del", "la", "las", "los", "y", "e", "vda", "viuda", NULL,
};

/* Particles of Portuguese, Italian, Dutch and German surnames; in a given
 * name "Di" or "Van" may be the name itself. */
static const char *const foreign[] = {
    "da", "das", "do", "dos", "di", "du", "van", "von", "der", "den", NULL,
};

static bool in_list(const char *const *list, const char *folded)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(folded, list[i]) == 0)
            return true;
    return false;
}

bool norm_is_particle(const char *folded)
{
    return in_list(connectors, folded) || in_list(foreign, folded);
}

static bool dropped(const char *folded, enum norm_part part)
{
    return in_list(connectors, folded) || (part == NORM_SURNAME && in_list(foreign, folded));
}

size_t norm_name_tokens(const char *utf8, enum norm_part part, struct norm_tokens *out)
{
    char folded[256];
    char tmp[NORM_MAX_TOKENS][NORM_TOKEN_MAX];
    size_t ntmp = 0, kept = 0, start = out->n;
    const char *p;

    norm_fold(utf8, folded, sizeof(folded));
    p = folded;
    while (*p && ntmp < NORM_MAX_TOKENS) {
        size_t n = strcspn(p, " ");
        size_t keep = n < NORM_TOKEN_MAX - 1 ? n : NORM_TOKEN_MAX - 1;

        memcpy(tmp[ntmp], p, keep);
        tmp[ntmp][keep] = '\0';
        ntmp++;
        p += n;
        while (*p == ' ')
            p++;
    }
    for (size_t i = 0; i < ntmp; i++)
        if (!dropped(tmp[i], part))
            kept++;
    for (size_t i = 0; i < ntmp && out->n < NORM_MAX_TOKENS; i++) {
        /* A name made only of particles ("La", "De") is kept as written. */
        if (kept > 0 && dropped(tmp[i], part))
            continue;
        memcpy(out->tok[out->n], tmp[i], NORM_TOKEN_MAX);
        out->n++;
    }
    return out->n - start;
}

/* Hypocorisms in everyday use in Spain and Latin America (Colombia, Mexico,
 * Venezuela, the Andes). A nickname may stand for several names (beto) and
 * for a compound name (majo = María José): one row per meaning. Sorted by
 * nickname (strcmp order), for the binary search below: the lookup runs
 * for every given-name token of every candidate the matcher prepares, and
 * a linear scan was a fifth of its time. norm_nicknames_sorted() lets the
 * unit tests hold the order. */
static const struct {
    const char *nick;
    const char *canon;
} nicknames[] = {
    {"ale", "alejandra"},       {"ale", "alejandro"},
    {"alejo", "alejandro"},     {"andy", "andres"},
    {"bea", "beatriz"},         {"beto", "alberto"},
    {"beto", "roberto"},        {"beto", "humberto"},
    {"beto", "norberto"},       {"cami", "camilo"},
    {"cami", "camila"},         {"caro", "carolina"},
    {"cata", "catalina"},       {"chabela", "isabel"},
    {"chalo", "gonzalo"},       {"charo", "rosario"},
    {"chava", "salvador"},      {"chayo", "rosario"},
    {"checo", "sergio"},        {"chela", "graciela"},
    {"chelo", "consuelo"},      {"chema", "jose maria"},
    {"chente", "vicente"},      {"cheo", "jose"},
    {"chepa", "josefa"},        {"chepe", "jose"},
    {"chucho", "jesus"},        {"chuy", "jesus"},
    {"coco", "socorro"},        {"concha", "concepcion"},
    {"conchi", "concepcion"},   {"conchita", "concepcion"},
    {"curro", "francisco"},     {"dani", "daniel"},
    {"dani", "daniela"},        {"edu", "eduardo"},
    {"fabi", "fabiola"},        {"fede", "federico"},
    {"fercho", "fernando"},     {"fina", "josefina"},
    {"fito", "adolfo"},         {"fito", "rodolfo"},
    {"gabi", "gabriela"},       {"gaby", "gabriela"},
    {"goyo", "gregorio"},       {"guille", "guillermo"},
    {"isa", "isabel"},          {"josema", "jose maria"},
    {"juanca", "juan carlos"},  {"juancho", "juan"},
    {"juanda", "juan david"},   {"juanes", "juan esteban"},
    {"juanjo", "juan jose"},    {"juanma", "juan manuel"},
    {"juanpa", "juan pablo"},   {"juanse", "juan sebastian"},
    {"juli", "juliana"},        {"kike", "enrique"},
    {"kiko", "francisco"},      {"kiko", "enrique"},
    {"lalo", "eduardo"},        {"lencho", "lorenzo"},
    {"lola", "dolores"},        {"loli", "dolores"},
    {"lucho", "luis"},          {"luisfer", "luis fernando"},
    {"lupe", "guadalupe"},      {"lupita", "guadalupe"},
    {"mafe", "maria fernanda"}, {"maite", "maria teresa"},
    {"majo", "maria jose"},     {"male", "maria alejandra"},
    {"malu", "maria luisa"},    {"manolo", "manuel"},
    {"manu", "manuel"},         {"mapi", "maria pilar"},
    {"mari", "maria"},          {"mariajo", "maria jose"},
    {"maruja", "maria"},        {"mayte", "maria teresa"},
    {"meche", "mercedes"},      {"memo", "guillermo"},
    {"migue", "miguel"},        {"moncho", "ramon"},
    {"mundo", "raimundo"},      {"nacho", "ignacio"},
    {"nando", "fernando"},      {"nati", "natalia"},
    {"nico", "nicolas"},        {"paca", "francisca"},
    {"pacho", "francisco"},     {"paco", "francisco"},
    {"pancha", "francisca"},    {"pancho", "francisco"},
    {"paquita", "francisca"},   {"pato", "patricio"},
    {"pato", "patricia"},       {"pepa", "josefa"},
    {"pepe", "jose"},           {"pepita", "josefa"},
    {"pepito", "jose"},         {"pili", "pilar"},
    {"pipe", "felipe"},         {"polo", "leopoldo"},
    {"poncho", "alfonso"},      {"quique", "enrique"},
    {"rafa", "rafael"},         {"richi", "ricardo"},
    {"rigo", "rigoberto"},      {"rodo", "rodolfo"},
    {"santi", "santiago"},      {"sebas", "sebastian"},
    {"sofi", "sofia"},          {"susi", "susana"},
    {"tavo", "gustavo"},        {"tere", "teresa"},
    {"tito", "alberto"},        {"tona", "antonia"},
    {"toni", "antonio"},        {"tono", "antonio"},
    {"tony", "antonio"},        {"trini", "trinidad"},
    {"vale", "valentina"},      {"vicky", "victoria"},
    {"yoli", "yolanda"},
};

#define N_NICKNAMES (sizeof(nicknames) / sizeof(nicknames[0]))

size_t norm_nicknames(const char *folded, const char **canon, size_t max)
{
    size_t lo = 0, hi = N_NICKNAMES, n = 0;

    while (lo < hi) { /* the first row whose nickname is not below folded */
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(nicknames[mid].nick, folded) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < N_NICKNAMES && n < max && strcmp(nicknames[i].nick, folded) == 0; i++)
        if (strcmp(folded, nicknames[i].canon) != 0)
            canon[n++] = nicknames[i].canon;
    return n;
}

bool norm_nicknames_sorted(void)
{
    for (size_t i = 1; i < N_NICKNAMES; i++)
        if (strcmp(nicknames[i - 1].nick, nicknames[i].nick) > 0)
            return false;
    return true;
}

bool norm_gender_variant(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    if (la > lb) {
        const char *t = a;
        size_t tl = la;

        a = b;
        b = t;
        la = lb;
        lb = tl;
    }
    if (la < 3)
        return false;
    /* mario/maria, francisco/francisca, vicente/vicenta */
    if (la == lb) {
        char x = a[la - 1], y = b[lb - 1];

        return strncmp(a, b, la - 1) == 0 && x != y &&
               ((x == 'a' && (y == 'o' || y == 'e')) || (y == 'a' && (x == 'o' || x == 'e')));
    }
    /* daniel/daniela, juan/juana, luis/luisa */
    return lb == la + 1 && b[la] == 'a' && strncmp(a, b, la) == 0 &&
           strchr("aeiou", a[la - 1]) == NULL;
}

size_t norm_document(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    bool digits_only = true;

    if (cap == 0)
        return 0;
    for (const char *p = in ? in : ""; *p && o + 1 < cap; p++) {
        char c = *p;

        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c >= 'A' && c <= 'Z')
            digits_only = false;
        else if (!(c >= '0' && c <= '9'))
            continue;
        out[o++] = c;
    }
    out[o] = '\0';
    /* Registries that pad numeric identifiers to a fixed width write the same
     * cédula as 0012345678 and 12345678. */
    if (digits_only) {
        size_t z = 0;

        while (z + 1 < o && out[z] == '0')
            z++;
        memmove(out, out + z, o - z + 1);
        o -= z;
    }
    return o;
}

size_t norm_code(const char *in, char *out, size_t cap)
{
    size_t o = 0;

    if (cap == 0)
        return 0;
    for (const char *p = in ? in : ""; *p && o + 1 < cap; p++) {
        char c = *p;

        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            out[o++] = c;
    }
    out[o] = '\0';
    return o;
}

size_t norm_phone(const char *in, char *out, size_t cap)
{
    char digits[64];
    size_t n = 0, from;

    if (cap == 0)
        return 0;
    for (const char *p = in ? in : ""; *p && n < sizeof(digits); p++)
        if (*p >= '0' && *p <= '9')
            digits[n++] = *p;
    out[0] = '\0';
    if (n < 7)
        return 0;
    from = n > 10 ? n - 10 : 0;
    if (n - from >= cap)
        from = n - (cap - 1);
    memcpy(out, digits + from, n - from);
    out[n - from] = '\0';
    return n - from;
}
