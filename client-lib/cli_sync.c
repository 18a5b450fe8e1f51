/*
 * ritra sync: copies every case change the agency may see into a JSON
 * Lines file, each change at least once and none lost.
 *
 * ritra sync --state FILE [--limit N] [--once] [--out FILE]
 *   Pulls until the server has nothing more (with --once: one pull of at
 *   most N changes) and writes one line per change, in the server's order:
 *       {"case_id":"...","version":3,"case":{...},"visibility":"FULL"}
 *   that is, the SyncChange as JSON (its field names, defaults left out:
 *   "hit" at HIT visibility, "visibility_lost":true when the copy must be
 *   purged or reduced, "handling_notice"; "case" as `ritra case get --json`
 *   prints it), appended to --out FILE (created with mode 0600) or written
 *   to standard output. At the end stderr gets one line:
 *       N changes, cursor saved
 *   The state FILE holds the cursor as one line; when it does not exist
 *   the sync starts from the beginning. FILE.lock keeps two syncs from
 *   sharing one state (the second exits 2).
 *
 * Why at least once and never lost: after each pull the changes are
 * written and fsync'd first; only then is the new cursor saved, by writing
 * a temporary file beside FILE, fsyncing it, renaming it over FILE and
 * fsyncing the directory. A crash before the rename keeps the old cursor,
 * so those changes come again; after it, they are already on disk. A crash
 * in mid-write can leave a partial last line in --out: the next run cuts
 * it off before appending (its change comes again). Standard output gets
 * the same guarantee only as far as its reader is as careful.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "pbjson.h"

#define CURSOR_MAX 8192 /* bytes; far above any cursor a server needs */

struct sync {
    const char *state;
    const char *out_path; /* NULL: standard output */
    int out_fd;
    int out_created; /* its directory entry still needs an fsync */
    unsigned limit;
    int once;
    char *cursor; /* "" for the beginning */
};

/* ---- durable writes ---- */

/* ---- the state file ---- */

static int valid_cursor(const char *c)
{
    size_t len = strlen(c);

    if (len > CURSOR_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)c[i] < 0x20 || c[i] == 0x7f)
            return 0;
    return 1;
}

static int read_cursor(const char *state, char **cursor)
{
    char buf[CURSOR_MAX + 2];
    size_t n = 0;
    ssize_t r;
    int fd = open(state, O_RDONLY | O_CLOEXEC);

    if (fd < 0 && errno == ENOENT) {
        *cursor = strdup("");
        return *cursor != NULL ? CLI_EXIT_OK : CLI_EXIT_INTERNAL;
    }
    if (fd < 0)
        return cli_input_error("cannot open %s: %s", state, strerror(errno));
    while (n < sizeof(buf) && (r = read(fd, buf + n, sizeof(buf) - n)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            close(fd);
            return cli_input_error("cannot read %s: %s", state, strerror(errno));
        }
        n += (size_t)r;
    }
    close(fd);
    /* Saved files always end in their only newline; anything else was
     * not written by ritra sync, and guessing could skip changes. */
    if (n == 0 || n == sizeof(buf) || buf[n - 1] != '\n' || memchr(buf, '\n', n - 1) != NULL)
        return cli_input_error("%s is not a ritra sync state file (one line, the cursor)", state);
    buf[n - 1] = '\0';
    if (!valid_cursor(buf))
        return cli_input_error("%s holds an invalid cursor", state);
    *cursor = strdup(buf);
    return *cursor != NULL ? CLI_EXIT_OK : CLI_EXIT_INTERNAL;
}

/* Replaces the state file atomically and durably (see the top). */
static int save_cursor(const char *state, const char *cursor)
{
    size_t len = strlen(cursor) + 2;
    char *line = malloc(len);
    int rc;

    if (line == NULL)
        return CLI_EXIT_INTERNAL;
    snprintf(line, len, "%s\n", cursor);
    rc = cli_file_replace(state, line);
    free(line);
    return rc;
}

/* ---- the output ---- */

/* Cuts a partial last line left by an interrupted run: its change was not
 * acknowledged by a saved cursor, so it will be pulled again. */
static int trim_partial_line(int fd, const char *path)
{
    struct stat st;
    char buf[4096];
    off_t pos, keep = 0;

    if (fstat(fd, &st) < 0)
        return cli_file_error("cannot stat", path);
    if (!S_ISREG(st.st_mode) || st.st_size == 0)
        return CLI_EXIT_OK;
    for (pos = st.st_size; pos > 0 && keep == 0;) {
        size_t n = pos > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)pos;
        size_t i = n;

        pos -= (off_t)n;
        if (pread(fd, buf, n, pos) != (ssize_t)n)
            return cli_file_error("cannot read", path);
        if (pos + (off_t)n == st.st_size && buf[n - 1] == '\n')
            return CLI_EXIT_OK;
        while (i > 0 && buf[i - 1] != '\n')
            i--;
        if (i > 0)
            keep = pos + (off_t)i;
    }
    if (ftruncate(fd, keep) < 0 || fsync(fd) < 0)
        return cli_file_error("cannot truncate", path);
    fprintf(stderr,
            "ritra: %s: removed an incomplete last line (%lld bytes) left by an "
            "interrupted sync\n",
            path, (long long)(st.st_size - keep));
    return CLI_EXIT_OK;
}

static int open_out(struct sync *s)
{
    if (s->out_path == NULL) {
        s->out_fd = STDOUT_FILENO;
        return CLI_EXIT_OK;
    }
    s->out_fd = open(s->out_path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (s->out_fd < 0 && errno == ENOENT) {
        /* Case data: readable by the owner only. */
        s->out_fd = open(s->out_path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        s->out_created = s->out_fd >= 0;
    }
    if (s->out_fd < 0)
        return cli_input_error("cannot open %s: %s", s->out_path, strerror(errno));
    return trim_partial_line(s->out_fd, s->out_path);
}

/* Appends one line per change and makes them durable. */
static int write_changes(struct sync *s, const Ritra__SyncPullResult *res)
{
    const char *name = s->out_path ? s->out_path : "standard output";
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = CLI_EXIT_OK;

    for (size_t i = 0; i < res->n_changes && rc == CLI_EXIT_OK; i++) {
        struct json_object *j = NULL;
        struct pbjson_error pe;
        const char *line;
        size_t n;

        if (pbjson_from_message(&res->changes[i]->base, &j, &pe) < 0) {
            fprintf(stderr, "ritra: PROTOCOL: changes[%zu].%s: %s\n", i, pe.path, pe.reason);
            rc = CLI_EXIT_INTERNAL;
            break;
        }
        line = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE);
        n = strlen(line);
        if (cap - len < n + 1) {
            char *nb = realloc(buf, cap = 2 * (len + n + 1));

            if (nb == NULL)
                rc = CLI_EXIT_INTERNAL;
            else
                buf = nb;
        }
        if (rc == CLI_EXIT_OK) {
            memcpy(buf + len, line, n);
            buf[len + n] = '\n';
            len += n + 1;
        }
        json_object_put(j);
    }
    /* One write per pull: an interrupted run leaves at most one partial line. */
    if (rc == CLI_EXIT_OK && len > 0 &&
        (cli_file_write_all(s->out_fd, buf, len) < 0 || cli_file_sync_fd(s->out_fd) < 0))
        rc = cli_file_error("cannot write", name);
    if (rc == CLI_EXIT_OK && s->out_created) {
        if (cli_file_sync_dir_of(s->out_path) < 0)
            rc = cli_file_error("cannot sync the directory of", s->out_path);
        s->out_created = 0;
    }
    free(buf);
    return rc;
}

/* ---- the command ---- */

static int pull_all(struct sync *s, struct ritra_conn *c, size_t *total)
{
    for (;;) {
        Ritra__Response *resp = NULL;
        const Ritra__SyncPullResult *res;
        struct ritra_error err;
        int rc, stuck;

        if (ritra_sync_pull(c, s->cursor, s->limit, &resp, &err) < 0)
            return cli_report(&err);
        res = resp->sync_pull;
        /* The cursor goes into a one-line file and back to the server. */
        if (!valid_cursor(res->next_cursor)) {
            fputs("ritra: PROTOCOL: the server sent an invalid cursor\n", stderr);
            ritra__response__free_unpacked(resp, NULL);
            return CLI_EXIT_INTERNAL;
        }
        stuck = res->more && res->n_changes == 0 && strcmp(res->next_cursor, s->cursor) == 0;
        rc = write_changes(s, res);
        if (rc == CLI_EXIT_OK)
            rc = save_cursor(s->state, res->next_cursor);
        if (rc == CLI_EXIT_OK) {
            char *next = strdup(res->next_cursor);

            *total += res->n_changes;
            free(s->cursor);
            s->cursor = next;
            if (next == NULL)
                rc = CLI_EXIT_INTERNAL;
        }
        if (rc == CLI_EXIT_OK && stuck) {
            fputs("ritra: PROTOCOL: the server has more but sends nothing new\n", stderr);
            rc = CLI_EXIT_INTERNAL;
        }
        if (rc != CLI_EXIT_OK || s->once || !res->more) {
            ritra__response__free_unpacked(resp, NULL);
            return rc;
        }
        ritra__response__free_unpacked(resp, NULL);
    }
}

static int run_sync(struct cli *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"state", required_argument, NULL, 's'},
        {"limit", required_argument, NULL, 'l'},
        {"once", no_argument, NULL, '1'},
        {"out", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    struct sync s = {.out_fd = -1};
    struct ritra_conn *c = NULL;
    size_t total = 0;
    int ch, lock_fd = -1, rc;
    long limit;

    while ((ch = cli_getopt(g, argc, argv, ":", options)) != -1) {
        if (ch == 's') {
            s.state = optarg;
        } else if (ch == 'o') {
            s.out_path = strcmp(optarg, "-") == 0 ? NULL : optarg;
        } else if (ch == '1') {
            s.once = 1;
        } else if (ch == 'l') {
            if (cli_parse_long(optarg, 1, 1000, &limit) < 0)
                return cli_usage_error("--limit wants 1 to 1000, not \"%s\"", optarg);
            s.limit = (unsigned)limit;
        } else {
            return cli_other_flag("sync", ch);
        }
    }
    if (optind < argc)
        return cli_usage_error("sync takes no arguments, got \"%s\"", argv[optind]);
    if (s.state == NULL || s.state[0] == '\0')
        return cli_usage_error("sync wants --state FILE (it keeps the cursor between runs)");
    rc = cli_file_lock(s.state, "ritra sync", &lock_fd);
    if (rc == CLI_EXIT_OK)
        rc = read_cursor(s.state, &s.cursor);
    if (rc == CLI_EXIT_OK)
        rc = open_out(&s);
    if (rc == CLI_EXIT_OK)
        c = cli_connect(g, &rc);
    if (c != NULL) {
        rc = pull_all(&s, c, &total);
        /* Whatever failed later, what was saved stays saved. */
        if (rc == CLI_EXIT_OK || total > 0)
            fprintf(stderr, "%zu changes, cursor saved\n", total);
    }
    ritra_close(c);
    if (s.out_path != NULL && s.out_fd >= 0)
        close(s.out_fd);
    if (lock_fd >= 0)
        close(lock_fd);
    free(s.cursor);
    return rc;
}

const struct cli_command cli_sync_command = {
    "sync",
    run_sync,
    "  sync --state FILE       copy every case change since the last sync, as JSON Lines\n",
    "usage: ritra [flags] sync --state FILE [--limit N] [--once] [--out FILE]\n"
    "\n"
    "Pulls the case changes after the cursor saved in FILE (from the beginning\n"
    "when FILE does not exist) until there are no more, prints each as one line\n"
    "  {\"case_id\":\"...\",\"version\":N,\"case\":{...},\"visibility\":\"FULL\",...}\n"
    "(the SyncChange fields; \"visibility_lost\":true: purge or reduce your copy)\n"
    "then saves the new cursor in FILE. Changes are written and fsync'd before\n"
    "the cursor is saved (atomically), so after a crash some changes may come\n"
    "again but none are lost. stderr gets \"N changes, cursor saved\".\n"
    "\n"
    "  --state FILE   where the cursor is kept; FILE.lock guards it\n"
    "  --limit N      changes per pull, 1 to 1000 (server default 500)\n"
    "  --once         one pull only\n"
    "  --out FILE     append to FILE (created 0600) instead of standard output\n",
};
