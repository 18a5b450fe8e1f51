/*
 * FEBRL: synthetic Australian person records with known duplicates (see
 * /work/shared/data/febrl/README.md for provenance and licences).
 */
#include "febrl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void field(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s ? s : "");
}

long febrl_load(const char *path, struct eval_person **out)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    struct eval_person *v = NULL;
    size_t n = 0, cap = 0;

    if (f == NULL)
        return -1;
    if (fgets(line, sizeof(line), f) == NULL) { /* header */
        fclose(f);
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        char *fld[16], *p = line;
        size_t nf = 0;
        struct eval_person *e;
        const char *num;

        line[strcspn(line, "\r\n")] = '\0';
        while (nf < 16) {
            char *sep = strstr(p, ", ");

            fld[nf++] = p;
            if (sep == NULL)
                break;
            *sep = '\0';
            p = sep + 2;
        }
        if (nf < 11 || strncmp(fld[0], "rec-", 4) != 0)
            continue;
        if (n == cap) {
            struct eval_person *nv = realloc(v, (cap = cap ? cap * 2 : 1024) * sizeof(*nv));

            if (nv == NULL) {
                free(v);
                fclose(f);
                return -1;
            }
            v = nv;
        }
        e = &v[n++];
        memset(e, 0, sizeof(*e));
        e->entity = strtol(fld[0] + 4, NULL, 10);
        field(e->id, sizeof(e->id), fld[0]);
        field(e->kind, sizeof(e->kind), "febrl");
        field(e->given, sizeof(e->given), fld[1]);
        field(e->surname1, sizeof(e->surname1), fld[2]);
        field(e->birthdate, sizeof(e->birthdate), fld[nf - 2]);
        snprintf(e->street, sizeof(e->street), "%s %s %s", fld[3], fld[4], fld[5]);
        field(e->city, sizeof(e->city), fld[6]);
        field(e->postcode, sizeof(e->postcode), fld[7]);
        field(e->addr_country, sizeof(e->addr_country), "AU");
        num = fld[nf - 1];
        if (*num) {
            field(e->doc_type, sizeof(e->doc_type), "NationalId");
            field(e->doc_country, sizeof(e->doc_country), "AU");
            field(e->doc_number, sizeof(e->doc_number), num);
        }
    }
    fclose(f);
    *out = v;
    return (long)n;
}

int febrl_write_csv(const char *path, const struct eval_person *e, size_t n)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return -1;
    fprintf(f, "rec_id, kind, given, middle, surname1, surname2, sex, birthdate, citizenship, "
               "doc_type, doc_country, doc_number, phone\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s\n", e[i].id, e[i].kind,
                e[i].given, e[i].middle, e[i].surname1, e[i].surname2, e[i].sex, e[i].birthdate,
                e[i].citizenship, e[i].doc_type, e[i].doc_country, e[i].doc_number, e[i].phone);
    return fclose(f);
}
