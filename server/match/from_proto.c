/*
 * Ritra__Person → struct match_person. Pointers only: no string is copied,
 * so filling is cheap enough to do for every candidate of a search.
 */
#include "from_proto.h"

#include <stdlib.h>
#include <string.h>

int match_proto_fill(struct match_proto *mp, const Ritra__Person *p)
{
    struct match_person *mperson = &mp->person;

    memset(mp, 0, sizeof(*mp));
    if (p->n_documents > 0 && (mp->docs = calloc(p->n_documents, sizeof(*mp->docs))) == NULL)
        goto oom;
    if (p->n_addresses > 0 && (mp->addrs = calloc(p->n_addresses, sizeof(*mp->addrs))) == NULL)
        goto oom;
    mperson->given = p->prs_firstname;
    mperson->middle = p->prs_middlename;
    mperson->first_surname = p->first_surname;
    mperson->second_surname = p->second_surname;
    mperson->sex = p->sex;
    mperson->birthdate = p->prs_birthdate;
    mperson->aliases = (const char *const *)p->aliases;
    mperson->n_aliases = p->n_aliases;
    mperson->citizenship = (const char *const *)p->prs_citizenship;
    mperson->n_citizenship = p->n_prs_citizenship;
    mperson->phones = (const char *const *)p->phones;
    mperson->n_phones = p->n_phones;
    /* A decoded message may hold NULL entries only if built by hand; skip
     * them rather than trust every producer. */
    for (size_t i = 0; i < p->n_documents; i++) {
        const Ritra__IdentityDocument *d = p->documents[i];

        if (d == NULL)
            continue;
        mp->docs[mperson->n_documents++] =
            (struct match_document){d->type, d->number, d->issuing_country};
    }
    mperson->documents = mp->docs;
    for (size_t i = 0; i < p->n_addresses; i++) {
        const Ritra__Address *a = p->addresses[i];

        if (a == NULL)
            continue;
        mp->addrs[mperson->n_addresses++] =
            (struct match_address){a->street, a->city, a->state, a->postal_code, a->country};
    }
    mperson->addresses = mp->addrs;
    return 0;
oom:
    match_proto_clear(mp);
    return -1;
}

void match_proto_clear(struct match_proto *mp)
{
    free(mp->docs);
    free(mp->addrs);
    memset(mp, 0, sizeof(*mp));
}
