/*
 * Operations: one file each, one entry point each. An operation validates
 * its own fields, does its work (usually one database transaction) and
 * answers the request exactly once.
 */
#ifndef RITRA_OPS_H
#define RITRA_OPS_H

struct request;

/* Server version and the agency as the registry sees it right now. */
void op_ping(struct request *r);

#endif
