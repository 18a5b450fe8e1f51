/*
 * The ritra command-line client's internal interface: what cli.c (flags,
 * connecting, errors, help, paging) offers the files that implement
 * commands (cli_case.c, cli_sync.c, cli_share.c, cli_search.c, ...). Not
 * installed.
 */
#ifndef RITRA_CLI_H
#define RITRA_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "ritra.h"

/* Exit status; scripts depend on these, and ritra --help lists them. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_STATUS = 1,    /* a server error status, or some submitted case failed */
    CLI_EXIT_USAGE = 2,     /* bad flags, unreadable local files, invalid JSON input */
    CLI_EXIT_UNAUTH = 3,    /* the server refused the client certificate */
    CLI_EXIT_TRANSPORT = 4, /* connection, TLS or timeout failure */
    CLI_EXIT_INTERNAL = 5,  /* internal or protocol error, or a local write failed */
};

/* What cli_getopt returns for the command to act on. */
enum {
    CLI_OPT_HELP = 1100,
    CLI_OPT_VERSION,
};

/* Global flags, shared by every command. */
struct cli {
    struct ritra_opts opts;
    int json; /* --json */
};

/*
 * One entry of cli.c's command table. A name of two words ("case matches")
 * is a subcommand kept outside its command's own file: `ritra case matches
 * ...` runs it (argv[0] "matches"), and `ritra help case` prints its help
 * after the command's.
 */
struct cli_command {
    const char *name;
    int (*run)(struct cli *g, int argc, char **argv); /* argv[0] is the (last) name */
    const char *list; /* its lines in ritra --help, each "  name ...  summary\n" */
    const char *help; /* ritra help NAME: usage lines, then the flags */
};

extern const struct cli_command cli_case_command;
extern const struct cli_command cli_sync_command;
extern const struct cli_command cli_share_command;
extern const struct cli_command cli_audit_command;
extern const struct cli_command cli_search_command;       /* cli_search.c */
extern const struct cli_command cli_case_matches_command; /* cli_search.c */
extern const struct cli_command cli_matches_command;      /* cli_matches.c */

/* A command's subcommands, for cli_dispatch. */
struct cli_sub {
    const char *name;
    int (*run)(struct cli *g, int argc, char **argv); /* argv[0] is the subcommand */
};

/* Runs the subcommand named by argv[1] of command (argv[0]); a missing or
 * unknown one is a usage error listing the subs. Returns the exit status. */
int cli_dispatch(struct cli *g, int argc, char **argv, const char *command,
                 const struct cli_sub *subs, size_t n_subs);

/* ritra case submit (cli_submit.c); argv[0] is "submit". */
int cli_case_submit(struct cli *g, int argc, char **argv);

/* getopt_long over the command's own flags plus the global ones (applied
 * to g here). Returns a command flag's val, -1 at the end of the flags,
 * CLI_OPT_HELP or CLI_OPT_VERSION, or '?' after printing a usage error. */
int cli_getopt(struct cli *g, int argc, char **argv, const char *shortopts,
               const struct option *local);

/* The common tail of a command's flag switch: help, version, or usage
 * error. Returns the exit status. */
int cli_other_flag(const char *command, int ch);

/* Prints "ritra: <message>" and a pointer to --help; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "ritra: <message>" for input that is not what it should be
 * (flags were fine: no pointer to --help); returns CLI_EXIT_USAGE. */
int cli_input_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "ritra: CODE: message" and the field details indented on
 * stderr; returns the exit status for err->code. */
int cli_report(const struct ritra_error *err);

/* The exit status for a ritra_error code. */
int cli_exit_for(int code);

/* Connects with g's options; NULL after reporting, with *exit_code set. */
struct ritra_conn *cli_connect(struct cli *g, int *exit_code);

/* Parses a decimal integer in [min, max]; 0, or -1 when it is not one. */
int cli_parse_long(const char *s, long min, long max, long *out);

/* Parses --expected-version's value (0: no check). Returns 0, or -1 after
 * printing a usage error. */
int cli_expected_version(const char *arg, int64_t *out);

/* Copies server text into buf with control characters replaced, so it
 * cannot drive the terminal. Returns buf. */
const char *cli_clean(char *buf, size_t size, const char *s);

/* Prints obj on stdout as one line (pretty: indented over several) and
 * releases it. Returns CLI_EXIT_OK, or CLI_EXIT_INTERNAL if stdout fails. */
int cli_print_json(struct json_object *obj, int pretty);

/* Prints a message from the server as JSON (pbjson's form) with
 * cli_print_json. When it cannot be shown, prints
 * "ritra: PROTOCOL: WHAT[INDEX].PATH: reason" (no [INDEX] for
 * CLI_NO_INDEX) and returns CLI_EXIT_INTERNAL. */
#define CLI_NO_INDEX ((size_t)-1)
int cli_print_message(const ProtobufCMessage *msg, int pretty, const char *what, size_t index);

/* Appends value to a repeatable flag's list v of at most cap entries;
 * -1 after a usage error naming flag. */
int cli_repeat(char **v, size_t *n, size_t cap, const char *flag, const char *value);

/*
 * Paging, shared by the commands that list: their option tables end in
 * CLI_PAGING_OPTIONS, their flag loops hand every flag to cli_paging_flag
 * first, and cli_pages runs the requests.
 */
enum {
    CLI_F_PAGE_SIZE = 1200,
    CLI_F_PAGE_TOKEN,
    CLI_F_ALL,
};

#define CLI_PAGING_OPTIONS                                                                         \
    {"page-size", required_argument, NULL, CLI_F_PAGE_SIZE},                                       \
        {"page-token", required_argument, NULL, CLI_F_PAGE_TOKEN},                                 \
    {                                                                                              \
        "all", no_argument, NULL, CLI_F_ALL                                                        \
    }

struct cli_paging {
    long max_size;     /* the operation's largest page (set by the command) */
    uint32_t size;     /* --page-size; 0: the server's default */
    const char *token; /* --page-token; NULL: from the start */
    int all;           /* --all: follow the pages to the end */
};

/* 1 when ch is a paging flag (applied to p), 0 when it is not one, -1
 * after a usage error. */
int cli_paging_flag(struct cli_paging *p, int ch, const char *arg);

struct cli_pager {
    const char *noun; /* plural, for "ritra: more NOUN: --page-token 'TOKEN'" */
    /* Sends the query for the page at token ("" for the first) and prints
     * its items. Returns an exit status; on CLI_EXIT_OK *resp is the
     * response (cli_pages frees it) and *next its next_page_token. */
    int (*page)(struct cli *g, struct ritra_conn *c, void *query, const char *token,
                Ritra__Response **resp, const char **next);
};

/* Pages through a list from p->token: to the end with p->all, else one
 * page and, when more remain, "ritra: more NOUN: --page-token 'TOKEN'"
 * (quoted for the shell) on stderr. Returns the exit status. */
int cli_pages(struct cli *g, struct ritra_conn *c, const struct cli_pager *pager, void *query,
              const struct cli_paging *p);

/* Durable local files (cli_file.c), for the commands that resume. */
/* Prints "ritra: WHAT PATH: strerror(errno)"; returns CLI_EXIT_INTERNAL. */
int cli_file_error(const char *what, const char *path);
/* Writes all len bytes (retrying short writes and EINTR). 0 or -1. */
int cli_file_write_all(int fd, const char *buf, size_t len);
/* fsync; pipes and terminals count as synced. 0 or -1. */
int cli_file_sync_fd(int fd);
/* Makes a new or renamed directory entry of path durable. 0 or -1. */
int cli_file_sync_dir_of(const char *path);
/* Takes an exclusive lock on STATE.lock (who names the command in the
 * "busy" message). Returns a CLI exit code; *fd stays open while held. */
int cli_file_lock(const char *state, const char *who, int *fd);
/* Replaces path with content atomically and durably. A CLI exit code. */
int cli_file_replace(const char *path, const char *content);

#endif
