/*
 * The matcher forgives names written in each other's field, so the split
 * of a free-text name need not be right, only reasonable.
 */
#include "match_query.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "match/normalize.h"

/* "María José Muñoz de la Cruz": the last two surnames (with the particles
 * before them) are surnames, the rest given names; two words are a given
 * name and a surname; one word is a surname. The matcher forgives names
 * written in each other's field, so the guess need not be right. */
void mquery_split_name(const char *name, char *given, char *first, char *second, size_t cap)
{
    char words[16][MQUERY_NAME_MAX + 1];
    bool particle[16];
    size_t n = 0, real = 0, start[2] = {0, 0}, seen = 0, want;
    const char *p = name;

    given[0] = first[0] = second[0] = '\0';
    while (*p && n < 16) {
        size_t len;
        char folded[NORM_TOKEN_MAX];

        while (*p == ' ' || *p == '\t')
            p++;
        len = strcspn(p, " \t");
        if (len == 0)
            break;
        snprintf(words[n], sizeof(words[n]), "%.*s", (int)len, p);
        norm_fold(words[n], folded, sizeof(folded));
        particle[n] = norm_is_particle(folded);
        if (!particle[n])
            real++;
        n++;
        p += len;
    }
    /* The word indexes where the surnames start (particles before them
     * belong to them). */
    want = real >= 3 ? 2 : real >= 1 ? 1 : 0;
    for (size_t i = n; i-- > 0 && seen < want;) {
        size_t st = i;

        if (particle[i])
            continue;
        while (st > 0 && particle[st - 1])
            st--;
        start[want - 1 - seen] = st;
        seen++;
        i = st;
    }
    for (size_t i = 0; i < n; i++) {
        char *dst = want == 0                    ? given
                    : i < start[0]               ? given
                    : want == 2 && i >= start[1] ? second
                                                 : first;

        if (dst[0] != '\0')
            strncat(dst, " ", cap - strlen(dst) - 1);
        strncat(dst, words[i], cap - strlen(dst) - 1);
    }
}

void mquery_build(struct mquery *q, const Ritra__SearchPersonsRequest *m)
{
    memset(q, 0, sizeof(*q));
    ritra__person__init(&q->person);
    if (m->name != NULL && *m->name) {
        mquery_split_name(m->name, q->given, q->first, q->second, sizeof(q->given));
    } else {
        /* "Muñoz de la Cruz": the last surname with its particles is the
         * second one. A placeholder given name lets the split do it. */
        char tmp[MQUERY_NAME_MAX + 3], unused[MQUERY_NAME_MAX + 3];

        if (m->surnames != NULL && *m->surnames) {
            snprintf(tmp, sizeof(tmp), "x %s", m->surnames);
            mquery_split_name(tmp, unused, q->first, q->second, sizeof(q->first));
        }
        snprintf(q->given, sizeof(q->given), "%s", m->given_names ? m->given_names : "");
    }
    q->person.prs_firstname = q->given;
    q->person.first_surname = q->first;
    q->person.second_surname = q->second;
    q->person.prs_birthdate = m->birth_date ? m->birth_date : "";
    if (m->document_number != NULL && *m->document_number) {
        ritra__identity_document__init(&q->doc);
        q->doc.number = m->document_number;
        q->doc.type = m->document_type ? m->document_type : "";
        q->doc.issuing_country = "";
        q->docs[0] = &q->doc;
        q->person.documents = q->docs;
        q->person.n_documents = 1;
    }
    if (m->citizenship != NULL && *m->citizenship) {
        q->citizenship[0] = m->citizenship;
        q->person.prs_citizenship = q->citizenship;
        q->person.n_prs_citizenship = 1;
    }
}
