#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define CONFIG_LINE_MAX 4096

int config_init(struct config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->listen = strdup("127.0.0.1:7443");
    if (cfg->listen == NULL)
        return -1;
    cfg->tls_min_version = 13;
    cfg->tls_session_tickets = 0;
    cfg->db_pool_size = 4;
    cfg->max_frame = 4u * 1024 * 1024;
    cfg->max_connections = 1024;
    cfg->max_connections_per_agency = 256;
    cfg->max_inflight = 64;
    cfg->output_high_water = 8u * 1024 * 1024;
    cfg->handshake_timeout_ms = 10000;
    cfg->idle_timeout_ms = 300000;
    cfg->frame_timeout_ms = 30000;
    cfg->db_timeout_ms = 10000;
    cfg->drain_timeout_ms = 30000;
    cfg->grant_expiry_interval_ms = 30000;
    cfg->audit_chain_interval_ms = 1000;
    cfg->match_threshold = 18;
    cfg->match_possible_threshold = 10;
    cfg->search_min_score = 2;
    cfg->match_block_cap = 200;
    cfg->match_batch = 64;
    cfg->match_interval_ms = 200;
    cfg->log_level = LOG_INFO;
    return 0;
}

void config_clear(struct config *cfg)
{
    free(cfg->listen);
    free(cfg->database);
    free(cfg->migrate_database);
    free(cfg->migrations_dir);
    free(cfg->tls_cert);
    free(cfg->tls_key);
    free(cfg->tls_ca);
    free(cfg->tls_crl);
    free(cfg->audit_signing_key);
    memset(cfg, 0, sizeof(*cfg));
}

int config_parse_duration(const char *s, int *ms)
{
    char *end;
    long long v, mult = 1000;

    errno = 0;
    if (!isdigit((unsigned char)*s))
        return -1;
    v = strtoll(s, &end, 10);
    if (errno != 0)
        return -1;
    if (strcmp(end, "ms") == 0)
        mult = 1;
    else if (strcmp(end, "s") == 0 || *end == '\0')
        mult = 1000;
    else if (strcmp(end, "m") == 0)
        mult = 60000;
    else
        return -1;
    if (v > INT_MAX / mult)
        return -1;
    *ms = (int)(v * mult);
    return 0;
}

int config_parse_size(const char *s, uint64_t *bytes)
{
    char *end;
    unsigned long long v, mult = 1;

    errno = 0;
    if (!isdigit((unsigned char)*s))
        return -1;
    v = strtoull(s, &end, 10);
    if (errno != 0)
        return -1;
    if (*end == 'k' || *end == 'K')
        mult = 1024;
    else if (*end == 'm' || *end == 'M')
        mult = 1024 * 1024;
    else if (*end != '\0')
        return -1;
    if (*end != '\0' && end[1] != '\0')
        return -1;
    if (v > UINT64_MAX / mult)
        return -1;
    *bytes = v * mult;
    return 0;
}

static int parse_int(const char *s, long min, long max, int *out)
{
    char *end;
    long v;

    errno = 0;
    if (*s == '\0')
        return -1;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

static int set_str(char **slot, const char *value)
{
    char *dup = strdup(value);

    if (dup == NULL)
        return -1;
    free(*slot);
    *slot = dup;
    return 0;
}

struct int_key {
    const char *name;
    size_t offset;
    long min, max;
};

static const struct int_key int_keys[] = {
    {"tls_session_tickets", offsetof(struct config, tls_session_tickets), 0, 8},
    {"db_pool_size", offsetof(struct config, db_pool_size), 1, 64},
    {"max_connections", offsetof(struct config, max_connections), 1, 100000},
    {"max_connections_per_agency", offsetof(struct config, max_connections_per_agency), 1, 100000},
    {"max_inflight", offsetof(struct config, max_inflight), 1, 4096},
    {"match_threshold", offsetof(struct config, match_threshold), 1, 100},
    {"match_possible_threshold", offsetof(struct config, match_possible_threshold), 1, 100},
    {"search_min_score", offsetof(struct config, search_min_score), -50, 100},
    {"match_block_cap", offsetof(struct config, match_block_cap), 2, 100000},
    {"match_batch", offsetof(struct config, match_batch), 1, 1000},
};

struct duration_key {
    const char *name;
    size_t offset;
};

static const struct duration_key duration_keys[] = {
    {"handshake_timeout", offsetof(struct config, handshake_timeout_ms)},
    {"idle_timeout", offsetof(struct config, idle_timeout_ms)},
    {"frame_timeout", offsetof(struct config, frame_timeout_ms)},
    {"db_timeout", offsetof(struct config, db_timeout_ms)},
    {"drain_timeout", offsetof(struct config, drain_timeout_ms)},
    {"grant_expiry_interval", offsetof(struct config, grant_expiry_interval_ms)},
    {"audit_chain_interval", offsetof(struct config, audit_chain_interval_ms)},
    {"match_interval", offsetof(struct config, match_interval_ms)},
};

struct str_key {
    const char *name;
    size_t offset;
};

static const struct str_key str_keys[] = {
    {"listen", offsetof(struct config, listen)},
    {"database", offsetof(struct config, database)},
    {"migrate_database", offsetof(struct config, migrate_database)},
    {"migrations_dir", offsetof(struct config, migrations_dir)},
    {"tls_cert", offsetof(struct config, tls_cert)},
    {"tls_key", offsetof(struct config, tls_key)},
    {"tls_ca", offsetof(struct config, tls_ca)},
    {"tls_crl", offsetof(struct config, tls_crl)},
    {"audit_signing_key", offsetof(struct config, audit_signing_key)},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int config_set(struct config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
    char *base = (char *)cfg;
    uint64_t size;
    enum log_level lvl;

    for (size_t i = 0; i < NELEM(str_keys); i++) {
        if (strcmp(key, str_keys[i].name) != 0)
            continue;
        if (*value == '\0') {
            snprintf(err, errlen, "%s: empty value", key);
            return -1;
        }
        if (set_str((char **)(base + str_keys[i].offset), value) < 0) {
            snprintf(err, errlen, "%s: out of memory", key);
            return -1;
        }
        return 0;
    }
    for (size_t i = 0; i < NELEM(int_keys); i++) {
        if (strcmp(key, int_keys[i].name) != 0)
            continue;
        if (parse_int(value, int_keys[i].min, int_keys[i].max, (int *)(base + int_keys[i].offset)) <
            0) {
            snprintf(err, errlen, "%s: expected an integer from %ld to %ld, got \"%s\"", key,
                     int_keys[i].min, int_keys[i].max, value);
            return -1;
        }
        return 0;
    }
    for (size_t i = 0; i < NELEM(duration_keys); i++) {
        if (strcmp(key, duration_keys[i].name) != 0)
            continue;
        if (config_parse_duration(value, (int *)(base + duration_keys[i].offset)) < 0 ||
            *(int *)(base + duration_keys[i].offset) <= 0) {
            snprintf(err, errlen,
                     "%s: expected a positive duration like 500ms, 10s or 5m, got \"%s\"", key,
                     value);
            return -1;
        }
        return 0;
    }
    if (strcmp(key, "max_frame") == 0) {
        if (config_parse_size(value, &size) < 0 || size < 1024 || size > 64u * 1024 * 1024) {
            snprintf(err, errlen, "max_frame: expected a size from 1k to 64M, got \"%s\"", value);
            return -1;
        }
        cfg->max_frame = (uint32_t)size;
        return 0;
    }
    if (strcmp(key, "output_high_water") == 0) {
        if (config_parse_size(value, &size) < 0 || size < 65536 || size > 1024u * 1024 * 1024) {
            snprintf(err, errlen,
                     "output_high_water: expected a size from 64k to 1024M, got \"%s\"", value);
            return -1;
        }
        cfg->output_high_water = (size_t)size;
        return 0;
    }
    if (strcmp(key, "tls_min_version") == 0) {
        if (strcmp(value, "1.3") == 0)
            cfg->tls_min_version = 13;
        else if (strcmp(value, "1.2") == 0)
            cfg->tls_min_version = 12;
        else {
            snprintf(err, errlen, "tls_min_version: expected 1.2 or 1.3, got \"%s\"", value);
            return -1;
        }
        return 0;
    }
    if (strcmp(key, "log_level") == 0) {
        if (log_level_parse(value, &lvl) < 0) {
            snprintf(err, errlen, "log_level: expected debug, info, warn or error, got \"%s\"",
                     value);
            return -1;
        }
        cfg->log_level = (int)lvl;
        return 0;
    }
    snprintf(err, errlen, "unknown key \"%s\"", key);
    return -1;
}

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
    char line[CONFIG_LINE_MAX], why[512];
    FILE *f;
    int lineno = 0, rc = -1;

    f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        char *key, *value, *eq;

        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            snprintf(err, errlen, "%s:%d: line longer than %d bytes", path, lineno,
                     CONFIG_LINE_MAX - 2);
            goto out;
        }
        key = trim(line);
        if (*key == '\0' || *key == '#')
            continue;
        eq = strchr(key, '=');
        if (eq == NULL) {
            snprintf(err, errlen, "%s:%d: expected key = value", path, lineno);
            goto out;
        }
        *eq = '\0';
        value = trim(eq + 1);
        key = trim(key);
        if (config_set(cfg, key, value, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
            goto out;
        }
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        goto out;
    }
    rc = 0;
out:
    fclose(f);
    return rc;
}

int config_validate(const struct config *cfg, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        size_t offset;
    } required[] = {
        {"database", offsetof(struct config, database)},
        {"tls_cert", offsetof(struct config, tls_cert)},
        {"tls_key", offsetof(struct config, tls_key)},
        {"tls_ca", offsetof(struct config, tls_ca)},
    };

    for (size_t i = 0; i < NELEM(required); i++) {
        if (*(char *const *)((const char *)cfg + required[i].offset) == NULL) {
            snprintf(err, errlen, "%s is required", required[i].name);
            return -1;
        }
    }
    if (cfg->max_connections_per_agency > cfg->max_connections) {
        snprintf(err, errlen, "max_connections_per_agency (%d) exceeds max_connections (%d)",
                 cfg->max_connections_per_agency, cfg->max_connections);
        return -1;
    }
    if (cfg->output_high_water < cfg->max_frame) {
        snprintf(err, errlen, "output_high_water must be at least max_frame");
        return -1;
    }
    if (cfg->match_possible_threshold > cfg->match_threshold) {
        snprintf(err, errlen, "match_possible_threshold (%d) exceeds match_threshold (%d)",
                 cfg->match_possible_threshold, cfg->match_threshold);
        return -1;
    }
    return 0;
}
