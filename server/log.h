/*
 * Structured logging: one line per event on stderr, logfmt style
 * (ts=… level=… event=… key=value …). Values are quoted and escaped, so
 * anything taken from a peer (certificate subjects, actor names) cannot
 * forge extra fields or lines.
 */
#ifndef RITRA_LOG_H
#define RITRA_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };

struct logline {
    char buf[2048];
    size_t len;
    int skip; /* below the threshold: builders do nothing */
};

void log_set_level(enum log_level lvl);
/* Parses "debug", "info", "warn", "error". Returns 0, or -1 if unknown. */
int log_level_parse(const char *s, enum log_level *out);

void log_begin(struct logline *l, enum log_level lvl, const char *event);
void log_str(struct logline *l, const char *key, const char *value);
void log_u64(struct logline *l, const char *key, uint64_t value);
void log_i64(struct logline *l, const char *key, int64_t value);
/* Writes the line with a single write(2) so concurrent processes do not interleave. */
void log_end(struct logline *l);

/* Shorthand for an event with one message. */
void log_msg(enum log_level lvl, const char *event, const char *msg);

/* Start-up failures only: logs and exits 1. */
__attribute__((noreturn)) void fatal(const char *event, const char *msg);

#endif
