/*
 * SyncPull: every change to the cases the agency may see, after a cursor,
 * each as the case's full current state. Gap-free by construction (see
 * case_store_sync and docs/sync.md): the cursor is a position (xid, seq)
 * in the feed, and only positions of finished transactions are served.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../audit.h"
#include "../case_store.h"
#include "../request.h"
#include "../server.h"
#include "ops.h"
#include "opsutil.h"

#define SYNC_DEFAULT_LIMIT 500
#define SYNC_MAX_LIMIT     1000
/* A reply stops growing here even if the limit allows more rows. */
#define SYNC_MAX_REPLY_BYTES (16u * 1024 * 1024)
#define SYNC_CURSOR_PREFIX   "S1~"

struct sync_ctx {
    struct request *r;
    char cursor[96];
    int limit;
};

/* SyncChange's field number for the case, from the descriptor. */
static uint32_t case_field_tag(void)
{
    static uint32_t tag;

    if (tag == 0) {
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(
            &ritra__sync_change__descriptor, "case");
        if (f == NULL)
            abort(); /* the generated code and this file disagree: a build error */
        tag = f->id;
    }
    return tag;
}

static void pulled(const struct case_row *rows, int n, enum db_outcome db, const char *error,
                   const char *next, void *arg)
{
    struct sync_ctx *ctx = arg;
    struct request *r = ctx->r;
    Ritra__Response resp = RITRA__RESPONSE__INIT;
    Ritra__SyncPullResult res = RITRA__SYNC_PULL_RESULT__INIT;
    Ritra__SyncChange *changes = NULL, **ptrs = NULL;
    ProtobufCMessageUnknownField *cases = NULL;
    Ritra__CaseHit *hits = NULL;
    char cursor[96];
    size_t bytes = 0;
    int kept = 0;
    enum policy_level top = POLICY_NONE;

    (void)next;
    if (db != DB_OK) {
        ops_fail_db(r, db, error);
        goto out;
    }
    snprintf(cursor, sizeof(cursor), "%s", ctx->cursor);
    if (n > 0) {
        changes = calloc((size_t)n, sizeof(*changes));
        ptrs = calloc((size_t)n, sizeof(*ptrs));
        cases = calloc((size_t)n, sizeof(*cases));
        hits = calloc((size_t)n, sizeof(*hits));
        if (changes == NULL || ptrs == NULL || cases == NULL || hits == NULL) {
            request_fail(r, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED, "server out of memory", NULL);
            goto out;
        }
    }
    for (int i = 0; i < n; i++) {
        enum policy_level level = POLICY_NONE;

        if (bytes > 0 && bytes + rows[i].record_len > SYNC_MAX_REPLY_BYTES)
            break; /* the rest comes with the next pull */
        /* Not visible any more (row-level security hid it): a loss. */
        if (rows[i].visible && ops_row_level(request_agency(r), &rows[i], &level) < 0) {
            request_fail(r, RITRA__STATUS_CODE__INTERNAL, "access decision inconsistent; refused",
                         NULL);
            goto out;
        }
        ritra__sync_change__init(&changes[i]);
        changes[i].case_id = (char *)rows[i].case_id;
        changes[i].visibility = (char *)policy_level_name(level);
        if (level == POLICY_NONE) {
            changes[i].visibility_lost = 1;
        } else if (level == POLICY_HIT) {
            ops_fill_hit(&hits[i], &rows[i], "");
            changes[i].hit = &hits[i];
            changes[i].handling_notice = (char *)policy_handling_notice(rows[i].handling_code);
        } else {
            /* The case goes out as the stored bytes plus the server's
             * fields, not decoded and encoded again (most of the server's
             * time in a pull was that). protobuf-c packs unknown fields
             * verbatim: the client decodes this as the Case field. */
            if (case_store_encoded_field(&rows[i], &cases[i].data, &cases[i].len) < 0) {
                request_fail(r, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED, "server out of memory",
                             NULL);
                goto out;
            }
            cases[i].tag = case_field_tag();
            cases[i].wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
            changes[i].base.n_unknown_fields = 1;
            changes[i].base.unknown_fields = &cases[i];
            changes[i].version = rows[i].version;
            changes[i].handling_notice = (char *)policy_handling_notice(rows[i].handling_code);
        }
        ptrs[i] = &changes[i];
        audit_note_case(request_audit(r), rows[i].case_id);
        if (level > top)
            top = level;
        bytes += rows[i].record_len + 256;
        snprintf(cursor, sizeof(cursor), SYNC_CURSOR_PREFIX "%s~%s", rows[i].feed_xid,
                 rows[i].feed_seq);
        kept++;
    }
    request_audit(r)->records = kept;
    request_audit(r)->visibility = kept ? policy_level_name(top) : "";
    audit_note_detail(request_audit(r), "cursor", ctx->cursor);
    res.n_changes = (size_t)kept;
    res.changes = ptrs;
    res.next_cursor = cursor;
    res.more = kept < n || n == ctx->limit;
    resp.result_case = RITRA__RESPONSE__RESULT_SYNC_PULL;
    resp.sync_pull = &res;
    request_reply(r, &resp);
out:
    for (int i = 0; cases != NULL && i < n; i++)
        free(cases[i].data);
    free(cases);
    free(hits);
    free(changes);
    free(ptrs);
    free(ctx);
}

/* "" or "S1~<xid>~<seq>" with decimal numbers. */
static bool parse_cursor(const char *c, char *xid, char *seq)
{
    const char *p, *tilde;
    size_t a, b;

    if (*c == '\0') {
        xid[0] = seq[0] = '0';
        xid[1] = seq[1] = '\0';
        return true;
    }
    if (strncmp(c, SYNC_CURSOR_PREFIX, strlen(SYNC_CURSOR_PREFIX)) != 0)
        return false;
    p = c + strlen(SYNC_CURSOR_PREFIX);
    tilde = strchr(p, '~');
    if (tilde == NULL)
        return false;
    a = (size_t)(tilde - p);
    b = strlen(tilde + 1);
    if (a == 0 || a > 20 || b == 0 || b > 19)
        return false;
    for (size_t i = 0; i < a; i++)
        if (!isdigit((unsigned char)p[i]))
            return false;
    for (size_t i = 0; i < b; i++)
        if (!isdigit((unsigned char)tilde[1 + i]))
            return false;
    memcpy(xid, p, a);
    xid[a] = '\0';
    memcpy(seq, tilde + 1, b + 1);
    return true;
}

void op_sync_pull(struct request *r)
{
    const Ritra__SyncPullRequest *m = request_msg(r)->sync_pull;
    struct sync_ctx *ctx;
    struct field_errors fe;
    char xid[24], seq[24];

    fe_init(&fe);
    if (!parse_cursor(m->cursor, xid, seq))
        fe_add(&fe, "sync_pull.cursor", "not a cursor this server gave out");
    if (m->limit > SYNC_MAX_LIMIT)
        fe_add(&fe, "sync_pull.limit", "at most %d", SYNC_MAX_LIMIT);
    if (fe.count > 0) {
        request_fail(r, RITRA__STATUS_CODE__INVALID_ARGUMENT, "invalid request", &fe);
        return;
    }
    ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        request_fail(r, RITRA__STATUS_CODE__RESOURCE_EXHAUSTED, "server out of memory", NULL);
        return;
    }
    ctx->r = r;
    ctx->limit = m->limit ? (int)m->limit : SYNC_DEFAULT_LIMIT;
    snprintf(ctx->cursor, sizeof(ctx->cursor), "%s", m->cursor);
    case_store_sync(server_db(request_server(r)), request_agency(r), xid, seq, ctx->limit, pulled,
                    ctx);
}
