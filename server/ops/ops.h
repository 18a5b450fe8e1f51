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

/* Cases (ops/case_submit.c, ops/case_read.c, ops/case_close.c, ops/sync.c). */
void op_submit_case(struct request *r);
void op_submit_cases(struct request *r);
void op_get_case(struct request *r);
void op_list_cases(struct request *r);
void op_close_case(struct request *r);
void op_sync_pull(struct request *r);

/* Sharing (ops/share.c). */
void op_share_case(struct request *r);
void op_respond_to_share(struct request *r);
void op_revoke_share(struct request *r);
void op_list_shares(struct request *r);

/* Search and matching (ops/search.c, ops/case_read.c, ops/matches.c). */
void op_search_persons(struct request *r);
void op_search_cases(struct request *r);
void op_list_matches(struct request *r);
void op_decide_match(struct request *r);
void op_merge_identities(struct request *r);
void op_unmerge_person(struct request *r);
void op_case_matches(struct request *r);

/* Audit (ops/audit_pull.c). */
void op_audit_pull(struct request *r);

#endif
