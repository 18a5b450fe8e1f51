#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum log_level threshold = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level lvl)
{
    threshold = lvl;
}

int log_level_parse(const char *s, enum log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

static void append(struct logline *l, const char *s, size_t n)
{
    /* Leave room for the newline. */
    if (l->len + n >= sizeof(l->buf) - 1)
        n = sizeof(l->buf) - 2 - l->len;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static int needs_quoting(const char *v)
{
    if (*v == '\0')
        return 1;
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f)
            return 1;
    }
    return 0;
}

void log_begin(struct logline *l, enum log_level lvl, const char *event)
{
    char ts[64];
    struct timeval tv;
    struct tm tm;
    size_t n;

    l->len = 0;
    l->skip = lvl < threshold;
    if (l->skip)
        return;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof(ts) - n, ".%03dZ", (int)(tv.tv_usec / 1000));
    append(l, "ts=", 3);
    append(l, ts, strlen(ts));
    append(l, " level=", 7);
    append(l, level_names[lvl], strlen(level_names[lvl]));
    log_str(l, "event", event);
}

void log_str(struct logline *l, const char *key, const char *value)
{
    if (l->skip)
        return;
    if (value == NULL)
        value = "";
    append(l, " ", 1);
    append(l, key, strlen(key));
    append(l, "=", 1);
    if (!needs_quoting(value)) {
        append(l, value, strlen(value));
        return;
    }
    append(l, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            append(l, esc, 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof(esc), "\\x%02x", *p);
            append(l, esc, 4);
        } else {
            append(l, (const char *)p, 1);
        }
    }
    append(l, "\"", 1);
}

void log_u64(struct logline *l, const char *key, uint64_t value)
{
    char v[24];

    snprintf(v, sizeof(v), "%" PRIu64, value);
    log_str(l, key, v);
}

void log_i64(struct logline *l, const char *key, int64_t value)
{
    char v[24];

    snprintf(v, sizeof(v), "%" PRId64, value);
    log_str(l, key, v);
}

void log_end(struct logline *l)
{
    ssize_t r;

    if (l->skip)
        return;
    l->buf[l->len++] = '\n';
    r = write(STDERR_FILENO, l->buf, l->len);
    (void)r;
}

void log_msg(enum log_level lvl, const char *event, const char *msg)
{
    struct logline l;

    log_begin(&l, lvl, event);
    log_str(&l, "msg", msg);
    log_end(&l);
}

void fatal(const char *event, const char *msg)
{
    log_msg(LOG_ERROR, event, msg);
    exit(1);
}
