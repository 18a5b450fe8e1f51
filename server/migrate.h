/*
 * Schema migrations: migrations/NNNN_name.sql applied in order, each in its
 * own transaction, under an advisory lock so that concurrent runs (several
 * servers starting at once) apply each file exactly once. Every applied
 * file is recorded with its SHA-256; a file edited after it was applied is
 * an error, never silently skipped. Runs at start-up, so it may block.
 */
#ifndef RITRA_MIGRATE_H
#define RITRA_MIGRATE_H

#include <stddef.h>

/* Applies pending migrations from dir. Returns the number applied, or -1
 * with a reason in err. */
int migrate_run(const char *conninfo, const char *dir, char *err, size_t errlen);

#endif
