/*
 * The matcher: links every person record to an identity, promptly after
 * the submission that created or changed it (docs/matching.md, "In the
 * server"). A trigger queues each changed person in the submitting
 * transaction; the matcher takes the queue in batches on the event loop,
 * scores the records sharing a blocking key, and applies MATCH links,
 * review candidates and new identities in one transaction under the lock
 * that review decisions also take. Nothing here blocks.
 */
#ifndef RITRA_MATCHER_H
#define RITRA_MATCHER_H

#include "config.h"
#include "db.h"
#include "match/score.h"

struct matcher;

/* Starts the queue timer. Never returns NULL. */
struct matcher *matcher_new(struct db_pool *db, const struct config *cfg);
void matcher_free(struct matcher *m);

/* Looks at the queue soon (after a submission). NULL-safe. */
void matcher_kick(struct matcher *m);

/* The scoring configuration and name frequencies, for search. The table
 * may be empty until the first round loaded it. */
const struct score_config *matcher_score_config(const struct matcher *m);
const struct score_freq *matcher_freq(const struct matcher *m);

#endif
