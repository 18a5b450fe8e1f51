/* People for the match module's unit tests, built field by field; unset
 * strings stay NULL, which every comparator must accept. */
#ifndef RITRA_TEST_MATCH_PEOPLE_H
#define RITRA_TEST_MATCH_PEOPLE_H

#include <string.h>

#include "compare.h"

struct person {
    struct match_person p;
    struct match_document doc[2];
    const char *phone[2];
    const char *cit[2];
    struct match_address addr[1];
};

static inline void person(struct person *x, const char *given, const char *s1, const char *s2,
                          const char *birthdate)
{
    memset(x, 0, sizeof(*x));
    x->p.given = given;
    x->p.first_surname = s1;
    x->p.second_surname = s2;
    x->p.birthdate = birthdate;
    x->p.documents = x->doc;
    x->p.phones = x->phone;
    x->p.citizenship = x->cit;
    x->p.addresses = x->addr;
}

static inline void with_doc(struct person *x, const char *type, const char *number,
                            const char *country)
{
    x->doc[x->p.n_documents++] = (struct match_document){type, number, country};
}

static inline void with_phone(struct person *x, const char *phone)
{
    x->phone[x->p.n_phones++] = phone;
}

static inline void with_address(struct person *x, const char *street, const char *city)
{
    x->addr[0] = (struct match_address){street, city, NULL, NULL, "CO"};
    x->p.n_addresses = 1;
}

#endif
