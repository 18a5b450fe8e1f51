/*
 * Ping: proves the whole path (TLS, framing, registry, database) and tells
 * the client who the server takes it to be. The registry is consulted
 * again rather than trusting what was found at connect time, so a ping on
 * a long-lived connection reflects a disabled agency or a withdrawn pin,
 * and a database outage shows as UNAVAILABLE.
 */
#include <stdio.h>
#include <sys/time.h>

#include "../conn.h"
#include "../log.h"
#include "../request.h"
#include "ops.h"
#include "ritra_config.h"
#include "server.h"

static void ping_identified(enum agency_verdict verdict, const struct agency *a,
                            enum db_outcome outcome, const char *detail, void *arg)
{
    struct request *r = arg;
    Ritra__Response resp = RITRA__RESPONSE__INIT;
    Ritra__PingResult res = RITRA__PING_RESULT__INIT;
    Ritra__Agency ag = RITRA__AGENCY__INIT;
    struct timeval tv;

    if (verdict == AGENCY_LOOKUP_FAILED) {
        request_fail(r,
                     outcome == DB_TIMEOUT ? RITRA__STATUS_CODE__DEADLINE_EXCEEDED
                                           : RITRA__STATUS_CODE__UNAVAILABLE,
                     outcome == DB_SQL_ERROR ? "agency registry query failed"
                     : outcome == DB_TIMEOUT ? "database did not answer in time"
                                             : "database unavailable",
                     NULL);
        if (outcome == DB_SQL_ERROR)
            log_msg(LOG_ERROR, "ping_lookup_failed", detail);
        return;
    }
    if (verdict != AGENCY_ACCEPTED) {
        request_close_after(r);
        request_fail(r, RITRA__STATUS_CODE__UNAUTHENTICATED, agency_verdict_reason(verdict), NULL);
        return;
    }
    ag.code = (char *)a->code;
    ag.name = (char *)a->name;
    ag.kind = (Ritra__AgencyKind)a->kind;
    ag.cert_fingerprint = (char *)a->fingerprint;
    gettimeofday(&tv, NULL);
    res.server_version = (char *)RITRA_VERSION;
    res.protocol_version = PROTOCOL_VERSION;
    res.agency = &ag;
    res.server_time_ms = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    resp.result_case = RITRA__RESPONSE__RESULT_PING;
    resp.ping = &res;
    request_reply(r, &resp);
}

void op_ping(struct request *r)
{
    const struct agency *a = request_agency(r);

    agency_identify(server_db(request_server(r)), a->fingerprint, ping_identified, r);
}
