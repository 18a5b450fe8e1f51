/*
 * The matcher's view of a decoded protobuf Person. The only file of the
 * match module that knows the wire format.
 */
#ifndef RITRA_MATCH_FROM_PROTO_H
#define RITRA_MATCH_FROM_PROTO_H

#include "compare.h"
#include "ritra.pb-c.h"

/* A match_person and the arrays it points to. Its strings are borrowed from
 * the Ritra__Person, which must outlive it. */
struct match_proto {
    struct match_person person;
    struct match_document *docs;
    struct match_address *addrs;
};

/* Fills mp from p. Returns 0, or -1 when out of memory (mp is then empty and
 * needs no clearing). */
int match_proto_fill(struct match_proto *mp, const Ritra__Person *p);

/* Frees what match_proto_fill allocated; safe on a zeroed or cleared mp. */
void match_proto_clear(struct match_proto *mp);

#endif
