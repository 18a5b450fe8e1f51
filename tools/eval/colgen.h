/*
 * A deterministic generator of Colombian-style person records with known
 * duplicates and hard negatives (siblings, twins, parent and child with one
 * name, namesakes), for the offline matcher evaluation.
 */
#ifndef RITRA_EVAL_COLGEN_H
#define RITRA_EVAL_COLGEN_H

#include <stddef.h>
#include <stdint.h>

/* One record as an agency would submit it; entity is the ground truth. */
struct eval_person {
    long entity;
    char id[40];   /* "rec-12-org" (FEBRL) or "col-12-dup-1" */
    char kind[12]; /* generator: base, sibling, twin, parent, namesake */
    char given[64];
    char middle[64];
    char surname1[64];
    char surname2[64];
    char sex[12];
    char birthdate[16];
    char citizenship[4];
    char doc_type[24];
    char doc_number[40];
    char doc_country[4];
    char phone[24];
    char street[96];
    char city[48];
    char postcode[12];
    char addr_country[4];
};

/* Generates records for n_base people (plus the hard negatives derived from
 * them and every duplicate), the same for the same seed. Stores a malloc'd
 * array in *out. Returns the number of records, or -1 when out of memory. */
long colgen_generate(uint64_t seed, size_t n_base, struct eval_person **out);

#endif
