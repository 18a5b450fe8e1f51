/*
 * String similarity. Names are short, so the quadratic algorithms are the
 * fast ones here; both work on at most SIM_MAX_LEN bytes, on the stack.
 */
#include "strsim.h"

#include <string.h>

double sim_jaro_winkler(const char *a, const char *b)
{
    size_t la = strnlen(a, SIM_MAX_LEN), lb = strnlen(b, SIM_MAX_LEN), range, m = 0, t = 0, k = 0,
           l;
    bool ma[SIM_MAX_LEN] = {false}, mb[SIM_MAX_LEN] = {false};
    double jaro;

    if (la == 0 || lb == 0)
        return la == lb ? 1.0 : 0.0;
    range = (la > lb ? la : lb) / 2;
    range = range > 0 ? range - 1 : 0;
    for (size_t i = 0; i < la; i++) {
        size_t lo = i > range ? i - range : 0, hi = i + range + 1 < lb ? i + range + 1 : lb;

        for (size_t j = lo; j < hi; j++) {
            if (!mb[j] && a[i] == b[j]) {
                ma[i] = mb[j] = true;
                m++;
                break;
            }
        }
    }
    if (m == 0)
        return 0.0;
    for (size_t i = 0; i < la; i++) {
        if (!ma[i])
            continue;
        while (!mb[k])
            k++;
        if (a[i] != b[k])
            t++;
        k++;
    }
    jaro = ((double)m / la + (double)m / lb + (m - t / 2.0) / m) / 3.0;
    for (l = 0; l < 4 && l < la && l < lb && a[l] == b[l]; l++)
        ;
    return jaro + l * 0.1 * (1.0 - jaro);
}

int sim_edit_distance(const char *a, const char *b, int limit)
{
    int la = (int)strnlen(a, SIM_MAX_LEN), lb = (int)strnlen(b, SIM_MAX_LEN);
    int rows[3][SIM_MAX_LEN + 1], *pp, *p, *c;

    if (la - lb > limit || lb - la > limit)
        return limit + 1;
    for (int j = 0; j <= lb; j++)
        rows[1][j] = j;
    pp = rows[0];
    p = rows[1];
    c = rows[2];
    for (int i = 1; i <= la; i++) {
        int best;

        c[0] = i;
        best = c[0];
        for (int j = 1; j <= lb; j++) {
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int v = p[j] + 1;

            if (c[j - 1] + 1 < v)
                v = c[j - 1] + 1;
            if (p[j - 1] + cost < v)
                v = p[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            c[j] = v;
            if (v < best)
                best = v;
        }
        if (best > limit)
            return limit + 1;
        int *tmp = pp;
        pp = p;
        p = c;
        c = tmp;
    }
    return p[lb] > limit ? limit + 1 : p[lb];
}

bool sim_typo(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), mn = la < lb ? la : lb;
    int d;

    if (mn < 4)
        return false;
    d = sim_edit_distance(a, b, 2);
    if (d <= 1)
        return true;
    return d == 2 && mn >= 7 && sim_jaro_winkler(a, b) >= 0.92;
}
