/*
 * One decoded request on its way through the house: decoding, header
 * validation, routing to its operation, and the single reply. Operations
 * receive a struct request and must answer it exactly once, with
 * request_reply() or request_fail(); both free it.
 */
#ifndef RITRA_REQUEST_H
#define RITRA_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "agency.h"
#include "audit.h"
#include "decode.h"
#include "ritra.pb-c.h"
#include "validate.h"

struct conn;
struct server;
struct request;

/* Decodes one frame and starts its operation. Returns -1 when the frame is
 * not a Request at all: the connection has been sent an error and closed. */
int request_dispatch(struct server *srv, struct conn *c, const uint8_t *payload, size_t len);

const Ritra__Request *request_msg(const struct request *r);
const struct agency *request_agency(const struct request *r);
struct server *request_server(const struct request *r);
struct conn *request_conn(const struct request *r);
const char *request_actor(const struct request *r);
/* What the operation did, for its audit entry; ops fill it in. */
struct audit_note *request_audit(struct request *r);
/* Closes the connection after this request's reply has been sent. */
void request_close_after(struct request *r);
/* Who is acting, for audit entries written inside an operation's transaction. */
void request_who(const struct request *r, struct audit_who *who);
/* SubmitCases: bad strings found inside items at decode time (or NULL). */
const struct field_errors *request_item_strings(const struct request *r);

/* Sends resp (its id and an OK status are filled in here) and frees r.
 * resp itself stays the caller's. */
void request_reply(struct request *r, Ritra__Response *resp);

/* Sends an error status (with field errors if fe is not NULL) and frees r. */
void request_fail(struct request *r, Ritra__StatusCode code, const char *message,
                  const struct field_errors *fe);

/* "OK", "INVALID_ARGUMENT", … */
const char *request_status_name(Ritra__StatusCode code);

/* Builds and sends a Response with only an id and a status, without a
 * struct request (connection-level errors use id 0). */
void request_send_status(struct conn *c, uint64_t id, Ritra__StatusCode code, const char *message,
                         const struct field_errors *fe);

#endif
