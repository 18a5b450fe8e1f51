/*
 * Chaining and signing the audit trail. Every server runs the chainer
 * periodically (ritra_audit_chain, serialised among chainers only by an
 * advisory lock, never holding up requests) and signs the chain head it
 * reaches with the configured Ed25519 key, so that a verifier holding only
 * the public key and earlier checkpoints detects any change to the trail.
 */
#ifndef RITRA_AUDIT_CHAIN_H
#define RITRA_AUDIT_CHAIN_H

#include <stddef.h>

#include "db.h"

struct audit_chain;

/* key_path may be NULL: entries are still chained, but not signed (a
 * warning is logged at start). Returns NULL with a reason in err when the
 * key cannot be read or is not Ed25519. */
struct audit_chain *audit_chain_new(struct db_pool *db, const char *key_path, int interval_ms,
                                    char *err, size_t errlen);
void audit_chain_free(struct audit_chain *ac);

/* The checkpoint message that is signed, for the signer and verifiers:
 * "ritra-checkpoint-v1\n<seq>\n<hash hex>\n". Returns its length. */
size_t audit_checkpoint_message(long long seq, const char *hash_hex, char *out, size_t outlen);

#endif
