/*
 * The Spanish phonetic key. Rules, applied left to right on the folded
 * token (ñ is already n, accents are gone):
 *
 *   vowels            kept (Spanish vowels are written as they sound)
 *   b, v              B          Vargas = Bargas
 *   w                 U          Edwin = Eduin, Wilson = Uilson
 *   c + e/i, s, z     S          Cecilia = Sesilia, Gómez = Gomes
 *   c (other), k, q   K          Cárdenas = Kardenas, Quintero = Kintero
 *   qu, gu + e/i      K, G       the u is silent: Rodríguez = Rodriges
 *   ch                C          its own sound: Chávez is not Cávez
 *   g + e/i, j        J          Giménez = Jiménez
 *   x (initial)       J          Ximena = Jimena, Xavier = Javier
 *   x (elsewhere)     KS         Alexis = Aleksis
 *   h                 dropped    Hernández = Ernández, Jhon = Jon
 *   ll, y + vowel     Y          Yepes = Llepes
 *   y (otherwise)     I          Ruy = Rui, Jhonny = Jhonni
 *   ph, th            F, T       Stephany = Stefany, Kathe = Kate
 *   n + b/v/p         M          Ambrosio = Anbrosio
 *   ni/ny + vowel     N          Peña written Penia or Penya
 *   d (final)         dropped    Trinidad = Trinida
 *   es + consonant    S          (initial) Esteban = Steban, Estiven = Stiven
 *   doubled symbols   one        Jhonny = Jony, Isaac = Isak
 */
#include "phonetic.h"

#include "normalize.h"

#include <stdbool.h>
#include <string.h>

static bool is_vowel(char c)
{
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

static bool is_letter(char c)
{
    return c >= 'a' && c <= 'z';
}

/* Appends one symbol unless it repeats the previous one (doubled letters
 * and rules that produce the same sound twice collapse). */
static void emit(char *out, size_t cap, size_t *o, char sym)
{
    if (*o > 0 && out[*o - 1] == sym)
        return;
    if (*o + 1 >= cap)
        return;
    out[(*o)++] = sym;
}

size_t phon_key(const char *folded, char *out, size_t cap)
{
    char s[64];
    size_t n = 0, o = 0, i = 0;

    if (cap == 0)
        return 0;
    for (const char *p = folded ? folded : ""; *p && n + 1 < sizeof(s); p++)
        if (is_letter(*p))
            s[n++] = *p;
    s[n] = '\0';
    /* Spanish speakers cannot start a word with s + consonant: they hear and
     * write "Estiven" for Steven, so the e is not part of the name's sound. */
    if (n > 3 && s[0] == 'e' && s[1] == 's' && !is_vowel(s[2]))
        i = 1;
    for (; i < n; i++) {
        char c = s[i], nx = s[i + 1], nx2 = nx ? s[i + 2] : '\0';

        switch (c) {
        case 'a':
        case 'e':
        case 'i':
        case 'o':
        case 'u':
            emit(out, cap, &o, (char)(c - 'a' + 'A'));
            break;
        case 'b':
        case 'v':
            emit(out, cap, &o, 'B');
            break;
        case 'w':
            emit(out, cap, &o, 'U');
            break;
        case 'c':
            if (nx == 'h') {
                emit(out, cap, &o, 'C');
                i++;
            } else if (nx == 'e' || nx == 'i') {
                emit(out, cap, &o, 'S');
            } else {
                emit(out, cap, &o, 'K');
            }
            break;
        case 'd':
            if (i + 1 < n || n <= 3)
                emit(out, cap, &o, 'D');
            break;
        case 'g':
            if (nx == 'e' || nx == 'i') {
                emit(out, cap, &o, 'J');
            } else if (nx == 'u' && (nx2 == 'e' || nx2 == 'i')) {
                emit(out, cap, &o, 'G');
                i++;
            } else {
                emit(out, cap, &o, 'G');
            }
            break;
        case 'h':
            break;
        case 'l':
            if (nx == 'l') {
                emit(out, cap, &o, 'Y');
                i++;
            } else {
                emit(out, cap, &o, 'L');
            }
            break;
        case 'n':
            if (nx == 'b' || nx == 'v' || nx == 'p') {
                emit(out, cap, &o, 'M');
            } else {
                emit(out, cap, &o, 'N');
                if ((nx == 'i' || nx == 'y') && is_vowel(nx2) && nx2 != 'i')
                    i++;
            }
            break;
        case 'p':
            if (nx == 'h') {
                emit(out, cap, &o, 'F');
                i++;
            } else {
                emit(out, cap, &o, 'P');
            }
            break;
        case 'q':
            emit(out, cap, &o, 'K');
            if (nx == 'u')
                i++;
            break;
        case 't':
            emit(out, cap, &o, 'T');
            if (nx == 'h')
                i++;
            break;
        case 'x':
            if (i == 0) {
                emit(out, cap, &o, 'J');
            } else {
                emit(out, cap, &o, 'K');
                emit(out, cap, &o, 'S');
            }
            break;
        case 'y':
            emit(out, cap, &o, is_vowel(nx) ? 'Y' : 'I');
            break;
        case 'z':
            emit(out, cap, &o, 'S');
            break;
        default: /* f j k m r s */
            emit(out, cap, &o, (char)(c - 'a' + 'A'));
            break;
        }
    }
    out[o] = '\0';
    return o;
}

size_t phon_key_text(const char *utf8, char *out, size_t cap)
{
    char folded[256];
    const char *p = folded;
    size_t o = 0;

    if (cap == 0)
        return 0;
    out[0] = '\0';
    norm_fold(utf8, folded, sizeof(folded));
    while (*p) {
        char word[64], key[PHON_KEY_MAX];
        size_t n = strcspn(p, " "), k;

        if (n >= sizeof(word))
            n = sizeof(word) - 1;
        memcpy(word, p, n);
        word[n] = '\0';
        p += strcspn(p, " ");
        while (*p == ' ')
            p++;
        k = phon_key(word, key, sizeof(key));
        if (k == 0)
            continue;
        if (o > 0 && o + 1 < cap)
            out[o++] = ' ';
        if (o + k >= cap)
            k = cap - 1 - o;
        memcpy(out + o, key, k);
        o += k;
        out[o] = '\0';
    }
    return o;
}
