/*
 * Server configuration: a `key = value` file plus command-line overrides.
 * Every limit has a safe default; config_validate() refuses combinations
 * that cannot work before anything is started.
 */
#ifndef RITRA_CONFIG_H
#define RITRA_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct config {
    char *listen; /* host:port */
    char *database;
    char *migrate_database;
    char *migrations_dir;
    char *tls_cert;
    char *tls_key;
    char *tls_ca;
    char *tls_crl;
    char *audit_signing_key;
    int tls_min_version;     /* 12 or 13 */
    int tls_session_tickets; /* TLS 1.3 tickets per handshake */
    int db_pool_size;
    uint32_t max_frame;
    int max_connections;
    int max_connections_per_agency;
    int max_inflight;
    size_t output_high_water;
    int handshake_timeout_ms;
    int idle_timeout_ms;
    int frame_timeout_ms;
    int db_timeout_ms;
    int drain_timeout_ms;
    int grant_expiry_interval_ms;
    int audit_chain_interval_ms;
    int match_threshold;          /* bits: at or above, link automatically */
    int match_possible_threshold; /* bits: at or above, the review queue */
    int search_min_score;         /* bits: weakest identity a search returns */
    int match_block_cap;          /* blocks with more records are not scored */
    int match_batch;              /* persons the matcher takes per round */
    int match_interval_ms;        /* how often the matcher looks at its queue */
    int log_level;
};

/* Fills defaults. Returns 0, or -1 on out-of-memory. */
int config_init(struct config *cfg);
void config_clear(struct config *cfg);

/* Sets one key. On error returns -1 with a reason in err. */
int config_set(struct config *cfg, const char *key, const char *value, char *err, size_t errlen);

/* Reads a file; errors name the line. Returns 0 or -1. */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen);

/* Checks that required keys are present and limits are coherent. */
int config_validate(const struct config *cfg, char *err, size_t errlen);

/* Parses "250ms", "10s", "5m" or a bare number of seconds into ms. */
int config_parse_duration(const char *s, int *ms);

/* Parses "1048576", "64k", "4M" into bytes. */
int config_parse_size(const char *s, uint64_t *bytes);

#endif
