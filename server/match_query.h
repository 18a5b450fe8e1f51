/*
 * A SearchPersons query as a person the matcher can compare: free-text
 * names split into given names and surnames, the birth date, a document
 * and a citizenship. Pure: no allocation, everything lives in struct
 * mquery, whose person borrows the request's strings.
 */
#ifndef RITRA_MATCH_QUERY_H
#define RITRA_MATCH_QUERY_H

#include <stddef.h>

#include "ritra.pb-c.h"

#define MQUERY_NAME_MAX 200 /* bytes of SearchPersonsRequest.name */

struct mquery {
    Ritra__Person person;
    Ritra__IdentityDocument doc, *docs[1];
    char *citizenship[1];
    char given[MQUERY_NAME_MAX + 3], first[MQUERY_NAME_MAX + 3], second[MQUERY_NAME_MAX + 3];
};

/* Splits a full name: the last two surnames (each with the particles
 * before it: "de la Cruz") are surnames and the rest given names; with two
 * words, a given name and a surname; one word is a surname. Words beyond
 * the sixteenth are ignored. Each output holds at most cap - 1 bytes. */
void mquery_split_name(const char *name, char *given, char *first, char *second, size_t cap);

/* Fills q from m (validated or not: nothing here trusts it). q must
 * outlive nothing but m. */
void mquery_build(struct mquery *q, const Ritra__SearchPersonsRequest *m);

#endif
