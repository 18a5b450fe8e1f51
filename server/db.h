/*
 * A small pool of PostgreSQL connections driven by libpq's asynchronous API
 * on the server's event loop: nothing here ever blocks.
 *
 * The unit of work is a transaction: a list of statements sent as one
 * pipeline and closed by a Sync, so the statements run in one implicit
 * transaction that commits at the Sync, or rolls back as a whole if any of
 * them fails. A transaction's callback runs only after PostgreSQL has
 * answered the Sync, i.e. after the commit: a reply built in the callback
 * never acknowledges an uncommitted write.
 */
#ifndef RITRA_DB_H
#define RITRA_DB_H

#include <event2/event.h>
#include <libpq-fe.h>

struct db_pool;
struct db_txn;

enum db_outcome {
    DB_OK = 0,
    DB_SQL_ERROR,    /* PostgreSQL refused a statement; nothing was committed */
    DB_UNAVAILABLE,  /* no connection, or it was lost (a commit may or may not have happened) */
    DB_TIMEOUT,      /* no answer within db_timeout; the connection was dropped */
    DB_RETRY,        /* serialization failure or deadlock (SQLSTATE class 40): retry it */
    DB_UNAUTHORIZED, /* the acting agency may not act any more (SQLSTATE 28000) */
    DB_DENIED,       /* row-level security or a privilege refused it (SQLSTATE 42501) */
};

typedef void (*db_done_fn)(struct db_txn *txn, enum db_outcome outcome, void *arg);

/* Starts size connections in the background. ready_fn (may be NULL) is
 * called once, when the first connection is up. Never returns NULL. */
struct db_pool *db_pool_new(struct event_base *base, const char *conninfo, int size, int timeout_ms,
                            void (*ready_fn)(void *), void *ready_arg);
/* Fails queued transactions with DB_UNAVAILABLE, closes everything. NULL-safe. */
void db_pool_free(struct db_pool *p);
/* The event base the pool runs on. */
struct event_base *db_pool_base(const struct db_pool *p);

/* Connections currently usable. */
int db_pool_up(const struct db_pool *p);

/* Never returns NULL. */
struct db_txn *db_txn_new(void);
/* Only for a transaction never submitted; submitted ones are freed by the pool. */
void db_txn_free(struct db_txn *t);
/* Appends a statement with text parameters (values may be NULL for SQL NULL).
 * sql must outlive the transaction (a string literal); values are copied.
 * Returns 0, or -1 on out-of-memory. */
int db_txn_add(struct db_txn *t, const char *sql, int nparams, const char *const *values);

/* As db_txn_add, with binary parameters where formats[i] is 1 (lengths[i]
 * bytes, e.g. bytea), and binary result columns if result_binary. */
int db_txn_add_ex(struct db_txn *t, const char *sql, int nparams, const char *const *values,
                  const int *lengths, const int *formats, int result_binary);

/* Queues t (ownership passes to the pool). fn is called exactly once, never
 * from inside db_submit, and t is freed when fn returns. */
void db_submit(struct db_pool *p, struct db_txn *t, db_done_fn fn, void *arg);

/* Inside the callback: the i-th statement's result (NULL if it did not run). */
const PGresult *db_txn_result(const struct db_txn *t, int i);
/* Inside the callback: what went wrong, and PostgreSQL's SQLSTATE if it answered. */
const char *db_txn_error(const struct db_txn *t);
const char *db_txn_sqlstate(const struct db_txn *t);

#endif
