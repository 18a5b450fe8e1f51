/*
 * The real `ritra` command-line client's search and matching commands
 * against the real server: the same victim submitted by two agencies with
 * different spellings is linked by the matcher (`case matches`), found by
 * a police search with the other agency's record as a bare hit (`search
 * person`), split again (`matches unmerge`); a suspect pair waits in the
 * review queue (`matches list`) and is rejected; `search cases` filters
 * like `case list` prints; and the error paths name the status code.
 *
 * The binary comes from $RITRA_CLI_BIN; it is given the server and the
 * agency's certificate through RITRA_ADDR, RITRA_CA, RITRA_CERT and
 * RITRA_KEY, as a user's shell would give them. The tests run in order
 * and build on each other's state.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "harness.h"

extern char **environ;

static struct harness H;
static const char *CLI;

/* Set by the tests as they go. */
static char FGN_CASE[40], PONAL_CASE[40];
static char IDENTITY[40];         /* the victim's identity, FGN's record's */
static char PONAL_VICTIM[40];     /* PONAL's victim record (person_id) */
static char PONAL_SUSPECT_ID[40]; /* PONAL's suspect record's identity */
static char CANDIDATE[40];        /* the suspect pair in the review queue */

/* The victim as FGN (a prosecutor) writes her, and a suspect with a
 * birth year. */
static const char FGN_JSON[] =
    "{\"external_ref\": \"FGN-SRCH-0001\", \"cas_Status\": \"Active\",\n"
    " \"handling_code\": \"H0\", \"source_reliability\": \"B\", \"information_accuracy\": \"2\",\n"
    " \"vic_TypeOfExploitation\": [\"SexualExploitation\"],\n"
    " \"events\": [{\"hte_Type\": \"Exploitation\", \"hte_Date\": \"2024-01-15\",\n"
    "              \"hte_Country\": \"CO\", \"hte_City\": \"Cartagena de Indias\"}],\n"
    " \"persons\": [\n"
    "  {\"person_ref\": \"fgn-v1\", \"role\": \"Victim\", \"prs_FirstName\": \"María José\",\n"
    "   \"first_surname\": \"Muñoz\", \"second_surname\": \"de la Cruz\", \"sex\": \"Female\",\n"
    "   \"prs_Birthdate\": \"1994-03-07\", \"prs_Citizenship\": [\"CO\"],\n"
    "   \"documents\": [{\"type\": \"NationalId\", \"number\": \"1023456789\",\n"
    "                  \"issuing_country\": \"CO\"}]},\n"
    "  {\"person_ref\": \"fgn-s1\", \"role\": \"Suspect\", \"prs_FirstName\": \"Jairo Alberto\",\n"
    "   \"first_surname\": \"Quintero\", \"second_surname\": \"Zuleta\", \"sex\": \"Male\",\n"
    "   \"prs_Birthdate\": \"1980\"}]}\n";

/* The same victim as PONAL (police) writes her, without accents or
 * particles, with the same cédula; the suspect by name only, which the
 * matcher never links by itself (names-only rule): a review candidate. */
static const char PONAL_JSON[] =
    "{\"external_ref\": \"PONAL-SRCH-0001\", \"cas_Status\": \"FollowUp\",\n"
    " \"handling_code\": \"H1\", \"source_reliability\": \"A\", \"information_accuracy\": \"1\",\n"
    " \"vic_TypeOfExploitation\": [\"ForcedLabour\"],\n"
    " \"vic_ForcedLabourIndustry\": \"I_AccommodationAndFoodServiceActivities\",\n"
    " \"events\": [{\"hte_Type\": \"Recruitment\", \"hte_Date\": \"2023-11\",\n"
    "              \"hte_Country\": \"CO\", \"hte_City\": \"Medellín\"}],\n"
    " \"persons\": [\n"
    "  {\"person_ref\": \"ponal-v1\", \"role\": \"Victim\", \"prs_FirstName\": \"Maria Jose\",\n"
    "   \"first_surname\": \"Munoz\", \"second_surname\": \"Cruz\", \"sex\": \"Female\",\n"
    "   \"prs_Birthdate\": \"1994-03-07\",\n"
    "   \"documents\": [{\"type\": \"NationalId\", \"number\": \"1023456789\",\n"
    "                  \"issuing_country\": \"CO\"}]},\n"
    "  {\"person_ref\": \"ponal-s1\", \"role\": \"Suspect\", \"prs_FirstName\": \"Jairo "
    "Alberto\",\n"
    "   \"first_surname\": \"Quintero\", \"second_surname\": \"Zuleta\", \"sex\": \"Male\"}]}\n";

/* What of FGN's case PONAL must never see: FGN's spelling, its ref and its
 * person_refs. */
static const char *const FGN_PRIVATE[] = {
    "María", "Muñoz", "de la Cruz", "FGN-SRCH-0001", "fgn-v1", "fgn-s1", "Cartagena", NULL,
};

/* ---- running the CLI ---- */

struct run {
    int code; /* exit status; 128 + signal when killed */
    char *out;
    char *err;
};

static void run_free(struct run *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;

    if (f == NULL)
        return strdup("");
    do {
        if (cap - len < 4096) {
            cap = cap ? 2 * cap : 8192;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    fclose(f);
    buf[len] = '\0';
    return buf;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void path_in_dir(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", H.dir, name);
}

/* The test's own environment without the client variables, then ours:
 * sanitizer options and PATH pass through. */
static char **child_env(const char *cert)
{
    static const char *const ours[] = {
        "RITRA_ADDR=", "RITRA_CA=", "RITRA_CERT=", "RITRA_KEY=", "RITRA_ACTOR="};
    size_t n = 0, k = 0;
    char **env;

    while (environ[n] != NULL)
        n++;
    env = calloc(n + 6, sizeof(*env));
    assert_non_null(env);
    for (size_t i = 0; i < n; i++) {
        int skip = 0;

        for (size_t j = 0; j < sizeof(ours) / sizeof(ours[0]); j++)
            skip |= strncmp(environ[i], ours[j], strlen(ours[j])) == 0;
        if (!skip)
            env[k++] = strdup(environ[i]);
    }
    env[k] = malloc(400);
    snprintf(env[k++], 400, "RITRA_ADDR=%s", H.addr);
    env[k] = malloc(400);
    snprintf(env[k++], 400, "RITRA_CA=%s/ca.crt", H.pki);
    env[k] = malloc(400);
    snprintf(env[k++], 400, "RITRA_CERT=%s/%s.crt", H.pki, cert);
    env[k] = malloc(400);
    snprintf(env[k++], 400, "RITRA_KEY=%s/%s.key", H.pki, cert);
    env[k++] = strdup("RITRA_ACTOR=cli-search-test");
    env[k] = NULL;
    return env;
}

/* Runs `ritra ARGS...` as agency cert, stdin from /dev/null, and collects
 * its exit status, stdout and stderr. */
static void vrun(struct run *r, const char *cert, va_list ap)
{
    char outp[400], errp[400];
    const char *argv[64];
    char **env = child_env(cert);
    posix_spawn_file_actions_t fa;
    const char *a;
    size_t n = 0;
    pid_t pid;
    int status;

    argv[n++] = CLI;
    while ((a = va_arg(ap, const char *)) != NULL && n < 63)
        argv[n++] = a;
    argv[n] = NULL;
    path_in_dir(outp, sizeof(outp), "cli.out");
    path_in_dir(errp, sizeof(errp), "cli.err");
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_int_equal(posix_spawn(&pid, CLI, &fa, NULL, (char *const *)argv, env), 0);
    posix_spawn_file_actions_destroy(&fa);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    r->code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r->out = read_file(outp);
    r->err = read_file(errp);
    for (char **e = env; *e != NULL; e++)
        free(*e);
    free(env);
}

static void run(struct run *r, const char *cert, ...) __attribute__((sentinel));
static void run(struct run *r, const char *cert, ...)
{
    va_list ap;

    va_start(ap, cert);
    vrun(r, cert, ap);
    va_end(ap);
}

static void expect_exit(const struct run *r, int code)
{
    if (r->code != code)
        fail_msg("ritra exited %d, expected %d\n--- stderr:\n%s--- stdout:\n%s", r->code, code,
                 r->err, r->out);
}

static void expect_in(const char *what, const char *text, const char *needle)
{
    if (strstr(text, needle) == NULL)
        fail_msg("%s lacks \"%s\":\n%s", what, needle, text);
}

static void expect_not_in(const char *what, const char *text, const char *needle)
{
    if (strstr(text, needle) != NULL)
        fail_msg("%s shows \"%s\":\n%s", what, needle, text);
}

/* ---- JSON ---- */

/* Parses text as exactly one JSON value (nothing after it but blanks). */
static struct json_object *parse_json(const char *text, size_t len)
{
    struct json_tokener *tok = json_tokener_new();
    struct json_object *j;
    size_t end;

    assert_non_null(tok);
    j = json_tokener_parse_ex(tok, text, (int)len);
    if (j == NULL || json_tokener_get_error(tok) != json_tokener_success)
        fail_msg("not JSON (%s): %.*s", json_tokener_error_desc(json_tokener_get_error(tok)),
                 (int)len, text);
    end = json_tokener_get_parse_end(tok);
    while (end < len && strchr(" \t\r\n", text[end]) != NULL)
        end++;
    if (end != len)
        fail_msg("trailing text after JSON: %.*s", (int)(len - end), text + end);
    json_tokener_free(tok);
    return j;
}

#define MAX_LINES 16

/* The lines of JSON Lines output, each one JSON object; returns how many. */
static size_t json_lines(const char *text, struct json_object **lines)
{
    size_t n = 0;

    if (text[0] != '\0' && text[strlen(text) - 1] != '\n')
        fail_msg("output does not end in a newline: %s", text);
    for (const char *p = text; *p != '\0';) {
        const char *nl = strchr(p, '\n');

        assert_true(n < MAX_LINES);
        lines[n] = parse_json(p, (size_t)(nl - p));
        if (!json_object_is_type(lines[n], json_type_object))
            fail_msg("not a JSON object: %.*s", (int)(nl - p), p);
        n++;
        p = nl + 1;
    }
    return n;
}

/* json_lines on r's stdout, which must hold want lines. */
static size_t expect_lines(const struct run *r, struct json_object **lines, size_t want)
{
    size_t n = json_lines(r->out, lines);

    if (n != want)
        fail_msg("%zu lines, expected %zu\n--- stdout:\n%s--- stderr:\n%s", n, want, r->out,
                 r->err);
    return n;
}

static void free_lines(struct json_object **lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_object_put(lines[i]);
}

static struct json_object *jget(struct json_object *o, const char *key)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v))
        fail_msg("no \"%s\" in %s", key,
                 json_object_to_json_string_ext(o, JSON_C_TO_STRING_NOSLASHESCAPE));
    return v;
}

static int jhas(struct json_object *o, const char *key)
{
    return json_object_object_get_ex(o, key, NULL);
}

static const char *jstr(struct json_object *o, const char *key)
{
    return json_object_get_string(jget(o, key));
}

static size_t jlen(struct json_object *o, const char *key)
{
    struct json_object *a = jget(o, key);

    assert_true(json_object_is_type(a, json_type_array));
    return json_object_array_length(a);
}

static struct json_object *jidx(struct json_object *o, const char *key, size_t i)
{
    return json_object_array_get_idx(jget(o, key), i);
}

/* The element of array key whose field has the value, or NULL. */
static struct json_object *jfind(struct json_object *o, const char *key, const char *field,
                                 const char *value)
{
    for (size_t i = 0; i < jlen(o, key); i++) {
        struct json_object *e = jidx(o, key, i);

        if (jhas(e, field) && strcmp(jstr(e, field), value) == 0)
            return e;
    }
    return NULL;
}

static void copy_id(char *dst, const char *src)
{
    if (strlen(src) != 36)
        fail_msg("not a UUID: \"%s\"", src);
    snprintf(dst, 40, "%s", src);
}

/* ---- helpers over the commands ---- */

/* Submits a case as cert; returns through id the case's id. */
static void submit(const char *cert, const char *name, const char *json, char *id)
{
    char file[400];
    long version = 0;
    struct run r;

    path_in_dir(file, sizeof(file), name);
    write_text(file, json);
    run(&r, cert, "case", "submit", file, NULL);
    expect_exit(&r, 0);
    if (sscanf(r.out, "%39s %ld created", id, &version) != 2 || strlen(id) != 36 || version != 1)
        fail_msg("unexpected submit output: %s", r.out);
    run_free(&r);
}

/* `case matches ID --json` as cert, polled (up to 10 s) until ready says
 * the answer is what the test waits for. */
static struct json_object *await_matches(const char *cert, const char *case_id,
                                         int (*ready)(struct json_object *))
{
    long long deadline = harness_now_ms() + 10000;

    for (;;) {
        struct json_object *j;
        struct run r;

        run(&r, cert, "case", "matches", case_id, "--json", NULL);
        expect_exit(&r, 0);
        /* --json: one line. */
        assert_ptr_equal(strchr(r.out, '\n'), r.out + strlen(r.out) - 1);
        j = parse_json(r.out, strlen(r.out));
        if (ready(j)) {
            run_free(&r);
            return j;
        }
        if (harness_now_ms() > deadline)
            fail_msg("case %s not matched within 10 s; last answer:\n%s", case_id, r.out);
        run_free(&r);
        json_object_put(j);
        usleep(100 * 1000);
    }
}

/* Every person has left PENDING. */
static int all_matched(struct json_object *j)
{
    for (size_t i = 0; i < jlen(j, "persons"); i++)
        if (strcmp(jstr(jidx(j, "persons", i), "state"), "PENDING") == 0)
            return 0;
    return 1;
}

/* ---- fixtures ---- */

static int setup(void **state)
{
    (void)state;
    CLI = getenv("RITRA_CLI_BIN");
    if (CLI == NULL || access(CLI, X_OK) != 0) {
        fprintf(stderr, "test-cli-search: RITRA_CLI_BIN does not name the ritra executable\n");
        return -1;
    }
    return harness_start(&H, "match_interval = 100ms\n");
}

static int teardown(void **state)
{
    (void)state;
    harness_stop(&H);
    return 0;
}

/* ---- the tests ---- */

static void test_same_victim_from_two_agencies_is_linked_as_case_matches_shows(void **state)
{
    struct json_object *fgn, *ponal, *p, *rel;
    struct run r;

    (void)state;
    /* FGN first, and matched, so that its victim is the identity's first
     * record (NEW) and PONAL's is linked to it (LINKED). */
    submit("FGN", "fgn.json", FGN_JSON, FGN_CASE);
    fgn = await_matches("FGN", FGN_CASE, all_matched);
    assert_string_equal(jstr(fgn, "case_id"), FGN_CASE);
    assert_int_equal(jlen(fgn, "persons"), 2);
    for (size_t i = 0; i < 2; i++) {
        p = jidx(fgn, "persons", i);
        assert_string_equal(jstr(p, "state"), "NEW");
        assert_string_equal(jstr(p, "linked_by"), "new");
    }
    assert_false(jhas(fgn, "related"));
    copy_id(IDENTITY, jstr(jfind(fgn, "persons", "person_ref", "fgn-v1"), "identity_id"));
    json_object_put(fgn);

    submit("PONAL", "ponal.json", PONAL_JSON, PONAL_CASE);
    ponal = await_matches("PONAL", PONAL_CASE, all_matched);
    assert_string_equal(jstr(ponal, "case_id"), PONAL_CASE);
    assert_int_equal(jlen(ponal, "persons"), 2);
    p = jfind(ponal, "persons", "person_ref", "ponal-v1");
    assert_non_null(p);
    assert_string_equal(jstr(p, "state"), "LINKED");
    assert_string_equal(jstr(p, "linked_by"), "auto");
    assert_string_equal(jstr(p, "identity_id"), IDENTITY);
    /* Document, birth date and both names agree: far above the 18-bit
     * threshold. */
    if (json_object_get_double(jget(p, "score")) < 18.0)
        fail_msg("automatic link with score %s", jstr(p, "score"));
    assert_false(jhas(p, "review_pending"));
    copy_id(PONAL_VICTIM, jstr(p, "person_id"));
    /* The suspect is a candidate for review, not a link. */
    p = jfind(ponal, "persons", "person_ref", "ponal-s1");
    assert_non_null(p);
    assert_string_equal(jstr(p, "state"), "NEW");
    assert_string_equal(jstr(p, "linked_by"), "new");
    assert_int_equal(json_object_get_int(jget(p, "review_pending")), 1);
    copy_id(PONAL_SUSPECT_ID, jstr(p, "identity_id"));
    assert_true(strcmp(PONAL_SUSPECT_ID, IDENTITY) != 0);
    /* FGN's case is related through the victim, and PONAL (police, no
     * grant) holds only a hit on it. */
    assert_int_equal(jlen(ponal, "related"), 1);
    rel = jidx(ponal, "related", 0);
    assert_string_equal(jstr(rel, "person_ref"), "ponal-v1");
    assert_string_equal(jstr(rel, "identity_id"), IDENTITY);
    assert_string_equal(jstr(jget(rel, "case"), "case_id"), FGN_CASE);
    assert_string_equal(jstr(jget(rel, "case"), "owner_agency"), "FGN");
    assert_string_equal(jstr(jget(rel, "case"), "visibility"), "HIT");
    assert_false(jhas(jget(rel, "case"), "external_ref"));
    assert_string_equal(jstr(jget(rel, "hit"), "case_id"), FGN_CASE);
    assert_string_equal(jstr(jget(rel, "hit"), "owner_agency"), "FGN");
    json_object_put(ponal);

    /* FGN sees the same identity from its side. */
    fgn = await_matches("FGN", FGN_CASE, all_matched);
    p = jfind(fgn, "persons", "person_ref", "fgn-v1");
    assert_string_equal(jstr(p, "identity_id"), IDENTITY);
    assert_string_equal(jstr(p, "state"), "LINKED"); /* PONAL's record shares it */
    assert_int_equal(jlen(fgn, "related"), 1);
    assert_string_equal(jstr(jget(jidx(fgn, "related", 0), "case"), "case_id"), PONAL_CASE);
    json_object_put(fgn);

    /* Without --json: the same object, indented. */
    run(&r, "PONAL", "case", "matches", PONAL_CASE, NULL);
    expect_exit(&r, 0);
    expect_in("case matches", r.out, "\n  \"persons\": [");
    ponal = parse_json(r.out, strlen(r.out));
    assert_string_equal(jstr(ponal, "case_id"), PONAL_CASE);
    json_object_put(ponal);
    for (const char *const *s = FGN_PRIVATE; *s != NULL; s++)
        expect_not_in("PONAL's case matches", r.out, *s);
    run_free(&r);
}

static void test_police_search_finds_the_identity_with_fgns_record_as_a_hit(void **state)
{
    struct json_object *lines[MAX_LINES], *rec;
    struct run r;
    size_t n;

    (void)state;
    assert_int_equal(strlen(IDENTITY), 36);
    /* The full date: with the year alone this two-word query scores 3.3
     * bits here (given PARTIAL -1.3, surname ONE_EXACT +1.7, birth date
     * YEAR_ONLY +2.9, names being frequent in so small a registry), under
     * the server's search_min_score of 8, and finds nothing. */
    run(&r, "PONAL", "search", "person", "--name", "Maria Munoz", "--birth-date", "1994-03-07",
        NULL);
    expect_exit(&r, 0);
    assert_string_equal(r.err, "");
    for (const char *const *s = FGN_PRIVATE; *s != NULL; s++)
        expect_not_in("PONAL's search", r.out, *s);
    n = expect_lines(&r, lines, 1);
    assert_string_equal(jstr(lines[0], "identity_id"), IDENTITY);
    /* PONAL reads its own record: a real score and an explained match. */
    assert_true(json_object_get_double(jget(lines[0], "score")) > 0);
    assert_non_null(jfind(lines[0], "explanation", "field", "birth_date"));
    assert_true(jhas(jfind(lines[0], "explanation", "field", "birth_date"), "level"));
    assert_int_equal(jlen(lines[0], "records"), 2);
    rec = jfind(lines[0], "records", "owner_agency", "PONAL");
    assert_non_null(rec);
    assert_string_equal(jstr(rec, "person_id"), PONAL_VICTIM);
    assert_string_equal(jstr(rec, "case_id"), PONAL_CASE);
    assert_string_equal(jstr(rec, "visibility"), "FULL");
    assert_string_equal(jstr(rec, "role"), "Victim");
    assert_string_equal(jstr(rec, "person_ref"), "ponal-v1");
    assert_string_equal(jstr(jget(rec, "person"), "prs_FirstName"), "Maria Jose");
    assert_string_equal(jstr(jget(rec, "person"), "second_surname"), "Cruz");
    assert_string_equal(jstr(rec, "identity_id"), IDENTITY);
    /* FGN's record: that it exists and whom to call, nothing of it. */
    rec = jfind(lines[0], "records", "owner_agency", "FGN");
    assert_non_null(rec);
    assert_string_equal(jstr(rec, "case_id"), FGN_CASE);
    assert_string_equal(jstr(rec, "visibility"), "HIT");
    assert_false(jhas(rec, "person"));
    assert_false(jhas(rec, "role"));
    assert_false(jhas(rec, "person_ref"));
    assert_string_equal(jstr(jget(rec, "hit"), "case_id"), FGN_CASE);
    assert_string_equal(jstr(jget(rec, "hit"), "owner_agency"), "FGN");
    assert_string_equal(jstr(jget(rec, "hit"), "handling_code"), "H0");
    free_lines(lines, n);
    run_free(&r);

    /* The document alone finds her too; so do the parts of the name. */
    run(&r, "PONAL", "search", "person", "--document", "1023456789", "--document-type",
        "NationalId", NULL);
    expect_exit(&r, 0);
    n = expect_lines(&r, lines, 1);
    assert_string_equal(jstr(lines[0], "identity_id"), IDENTITY);
    free_lines(lines, n);
    run_free(&r);
    run(&r, "PONAL", "search", "person", "--given", "María José", "--surnames", "Muñoz de la Cruz",
        "--birth-date", "1994-03-07", "--role", "Victim", NULL);
    expect_exit(&r, 0);
    n = expect_lines(&r, lines, 1);
    assert_string_equal(jstr(lines[0], "identity_id"), IDENTITY);
    assert_string_equal(jstr(lines[0], "match_class"), "MATCH");
    free_lines(lines, n);
    run_free(&r);
    /* No victim is a suspect. */
    run(&r, "PONAL", "search", "person", "--name", "Maria Munoz", "--birth-date", "1994-03-07",
        "--role", "Suspect", NULL);
    expect_exit(&r, 0);
    assert_string_equal(r.out, "");
    run_free(&r);

    /* Victim services get no hits from a search: nothing at all. */
    run(&r, "ICBF", "search", "person", "--name", "Maria Munoz", "--birth-date", "1994-03-07",
        NULL);
    expect_exit(&r, 0);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, "");
    run_free(&r);
}

static void test_search_cases_prints_what_case_list_prints(void **state)
{
    struct json_object *lines[MAX_LINES], *listed[MAX_LINES];
    struct run r;
    size_t n, m;

    (void)state;
    run(&r, "PONAL", "search", "cases", "--country", "co", NULL);
    expect_exit(&r, 0);
    n = expect_lines(&r, lines, 1);
    assert_string_equal(jstr(lines[0], "case_id"), PONAL_CASE);
    assert_string_equal(jstr(lines[0], "owner_agency"), "PONAL");
    assert_string_equal(jstr(lines[0], "external_ref"), "PONAL-SRCH-0001");
    assert_string_equal(jstr(lines[0], "cas_Status"), "FollowUp");
    assert_string_equal(jstr(lines[0], "handling_code"), "H1");
    assert_string_equal(jstr(lines[0], "visibility"), "FULL");
    assert_int_equal(json_object_get_int(jget(lines[0], "person_count")), 2);
    assert_int_equal(json_object_get_int(jget(lines[0], "version")), 1);
    run_free(&r);
    /* The same object as case list --json gives for the case. */
    run(&r, "PONAL", "case", "list", "--json", NULL);
    expect_exit(&r, 0);
    m = expect_lines(&r, listed, 1);
    if (!json_object_equal(lines[0], listed[0]))
        fail_msg("search cases and case list differ:\n%s\n%s", json_object_to_json_string(lines[0]),
                 json_object_to_json_string(listed[0]));
    free_lines(listed, m);
    free_lines(lines, n);
    run_free(&r);

    /* Filters: each on FGN's own case. */
    run(&r, "FGN", "search", "cases", "--exploitation", "SexualExploitation", "--city",
        "cartagena de indias", "--from", "2024-01-01", "--to", "2024-01-31", "--status", "Active",
        "--handling", "H0", NULL);
    expect_exit(&r, 0);
    n = expect_lines(&r, lines, 1);
    assert_string_equal(jstr(lines[0], "case_id"), FGN_CASE);
    assert_string_equal(jstr(lines[0], "external_ref"), "FGN-SRCH-0001");
    free_lines(lines, n);
    run_free(&r);
    run(&r, "FGN", "search", "cases", "--exploitation", "ForcedLabour", NULL);
    expect_exit(&r, 0);
    assert_string_equal(r.out, "");
    run_free(&r);
    run(&r, "FGN", "search", "cases", "--country", "PE", NULL);
    expect_exit(&r, 0);
    assert_string_equal(r.out, "");
    run_free(&r);
    run(&r, "FGN", "search", "cases", "--from", "2024-02-01", NULL);
    expect_exit(&r, 0);
    assert_string_equal(r.out, "");
    run_free(&r);
}

static void test_review_queue_lists_the_suspect_pair_and_a_reject_sticks(void **state)
{
    struct json_object *lines[MAX_LINES], *own, *other, *d;
    char line[200];
    struct run r;
    size_t n;

    (void)state;
    run(&r, "PONAL", "matches", "list", NULL);
    expect_exit(&r, 0);
    assert_string_equal(r.err, "");
    for (const char *const *s = FGN_PRIVATE; *s != NULL; s++)
        expect_not_in("PONAL's review queue", r.out, *s);
    n = expect_lines(&r, lines, 1);
    copy_id(CANDIDATE, jstr(lines[0], "candidate_id"));
    assert_string_equal(jstr(lines[0], "status"), "PENDING");
    assert_string_equal(jstr(lines[0], "match_class"), "POSSIBLE_MATCH");
    /* The other record is a hit: no score, only the agreeing fields. */
    assert_false(jhas(lines[0], "score"));
    assert_non_null(jfind(lines[0], "explanation", "field", "surname"));
    assert_false(jhas(jfind(lines[0], "explanation", "field", "surname"), "level"));
    own = jget(lines[0], "own");
    assert_string_equal(jstr(own, "owner_agency"), "PONAL");
    assert_string_equal(jstr(own, "case_id"), PONAL_CASE);
    assert_string_equal(jstr(own, "person_ref"), "ponal-s1");
    assert_string_equal(jstr(own, "visibility"), "FULL");
    assert_string_equal(jstr(own, "identity_id"), PONAL_SUSPECT_ID);
    assert_string_equal(jstr(jget(own, "person"), "first_surname"), "Quintero");
    other = jget(lines[0], "other");
    assert_string_equal(jstr(other, "owner_agency"), "FGN");
    assert_string_equal(jstr(other, "case_id"), FGN_CASE);
    assert_string_equal(jstr(other, "visibility"), "HIT");
    assert_false(jhas(other, "person"));
    assert_string_equal(jstr(jget(other, "hit"), "owner_agency"), "FGN");
    free_lines(lines, n);
    run_free(&r);
    /* FGN has the same pair in its queue, its own record first. */
    run(&r, "FGN", "matches", "list", "--case", FGN_CASE, "--status", "pending", NULL);
    expect_exit(&r, 0);
    n = expect_lines(&r, lines, 1);
    assert_string_equal(jstr(lines[0], "candidate_id"), CANDIDATE);
    assert_string_equal(jstr(jget(lines[0], "own"), "person_ref"), "fgn-s1");
    free_lines(lines, n);
    run_free(&r);

    run(&r, "PONAL", "matches", "reject", CANDIDATE, "--reason",
        "Distinta cédula según la Registraduría", NULL);
    expect_exit(&r, 0);
    snprintf(line, sizeof(line), "%s REJECTED %s\n", CANDIDATE, PONAL_SUSPECT_ID);
    assert_string_equal(r.out, line);
    run_free(&r);

    /* Out of the pending queue, in the rejected one with who and why. */
    run(&r, "PONAL", "matches", "list", NULL);
    expect_exit(&r, 0);
    assert_string_equal(r.out, "");
    run_free(&r);
    run(&r, "FGN", "matches", "list", "--status", "REJECTED", "--json", NULL);
    expect_exit(&r, 0);
    n = expect_lines(&r, lines, 1);
    d = lines[0];
    assert_string_equal(jstr(d, "candidate_id"), CANDIDATE);
    assert_string_equal(jstr(d, "status"), "REJECTED");
    assert_string_equal(jstr(d, "decided_by"), "PONAL");
    assert_string_equal(jstr(d, "decided_actor"), "cli-search-test");
    assert_string_equal(jstr(d, "reason"), "Distinta cédula según la Registraduría");
    assert_true(strlen(jstr(d, "decided_at")) >= 20);
    free_lines(lines, n);
    run_free(&r);

    /* Rejecting twice is refused (re-deciding by a confirmation is allowed;
     * integration-matching covers it). */
    run(&r, "PONAL", "matches", "reject", CANDIDATE, "--reason", "otra vez", "--json", NULL);
    expect_exit(&r, 1);
    expect_in("stderr", r.err, "ritra: FAILED_PRECONDITION: ");
    run_free(&r);
    /* Victim services hold no record of the pair: not theirs to decide. */
    run(&r, "ICBF", "matches", "confirm", CANDIDATE, "--reason", "x", NULL);
    expect_exit(&r, 1);
    expect_in("stderr", r.err, "ritra: NOT_FOUND: ");
    run_free(&r);
}

static void test_unmerge_splits_the_identity_in_two(void **state)
{
    struct json_object *lines[MAX_LINES], *ponal, *p, *fgn_side = NULL, *ponal_side = NULL;
    char fresh[40], line[200];
    struct run r;
    size_t n;

    (void)state;
    assert_int_equal(strlen(PONAL_VICTIM), 36);
    /* FGN cannot take PONAL's record out. */
    run(&r, "FGN", "matches", "unmerge", PONAL_VICTIM, "--reason", "no es nuestra", NULL);
    expect_exit(&r, 1);
    expect_in("stderr", r.err, "ritra: NOT_FOUND: ");
    run_free(&r);

    run(&r, "PONAL", "matches", "unmerge", PONAL_VICTIM, "--reason",
        "Homónima: otra fecha de expedición de la cédula", "--json", NULL);
    expect_exit(&r, 0);
    p = parse_json(r.out, strlen(r.out));
    assert_string_equal(jstr(p, "person_id"), PONAL_VICTIM);
    assert_string_equal(jstr(p, "previous_identity_id"), IDENTITY);
    copy_id(fresh, jstr(p, "identity_id"));
    assert_true(strcmp(fresh, IDENTITY) != 0);
    json_object_put(p);
    run_free(&r);

    /* PONAL's record is on its own now: no related case. */
    run(&r, "PONAL", "case", "matches", PONAL_CASE, "--json", NULL);
    expect_exit(&r, 0);
    ponal = parse_json(r.out, strlen(r.out));
    p = jfind(ponal, "persons", "person_ref", "ponal-v1");
    assert_string_equal(jstr(p, "identity_id"), fresh);
    assert_string_equal(jstr(p, "linked_by"), "unmerge");
    assert_false(jhas(ponal, "related"));
    json_object_put(ponal);
    run_free(&r);

    /* The search finds two identities now, one page each. */
    run(&r, "PONAL", "search", "person", "--name", "Maria Munoz", "--birth-date", "1994-03-07",
        "--page-size", "1", NULL);
    expect_exit(&r, 0);
    n = expect_lines(&r, lines, 1);
    free_lines(lines, n);
    assert_string_equal(r.err, "ritra: more identities: --page-token 'P1~1'\n");
    run_free(&r);
    run(&r, "PONAL", "search", "person", "--name", "Maria Munoz", "--birth-date", "1994-03-07",
        "--page-size", "1", "--page-token", "P1~1", NULL);
    expect_exit(&r, 0);
    assert_string_equal(r.err, "");
    n = expect_lines(&r, lines, 1);
    free_lines(lines, n);
    run_free(&r);
    run(&r, "PONAL", "search", "person", "--name", "Maria Munoz", "--birth-date", "1994-03-07",
        "--page-size", "1", "--all", NULL);
    expect_exit(&r, 0);
    assert_string_equal(r.err, "");
    for (const char *const *s = FGN_PRIVATE; *s != NULL; s++)
        expect_not_in("PONAL's search", r.out, *s);
    n = expect_lines(&r, lines, 2);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(jlen(lines[i], "records"), 1);
        if (strcmp(jstr(lines[i], "identity_id"), IDENTITY) == 0)
            fgn_side = lines[i];
        else if (strcmp(jstr(lines[i], "identity_id"), fresh) == 0)
            ponal_side = lines[i];
    }
    if (fgn_side == NULL || ponal_side == NULL)
        fail_msg("expected identities %s and %s:\n%s", IDENTITY, fresh, r.out);
    assert_string_equal(jstr(jidx(ponal_side, "records", 0), "person_id"), PONAL_VICTIM);
    assert_string_equal(jstr(jidx(ponal_side, "records", 0), "visibility"), "FULL");
    assert_true(json_object_get_double(jget(ponal_side, "score")) > 0);
    /* Only a hit left on FGN's side: score 0, left out. */
    assert_string_equal(jstr(jidx(fgn_side, "records", 0), "owner_agency"), "FGN");
    assert_string_equal(jstr(jidx(fgn_side, "records", 0), "visibility"), "HIT");
    assert_false(jhas(fgn_side, "score"));
    free_lines(lines, n);
    run_free(&r);

    /* Alone, it has nothing to be taken out of. */
    run(&r, "PONAL", "matches", "unmerge", PONAL_VICTIM, "--reason", "otra vez", NULL);
    expect_exit(&r, 1);
    expect_in("stderr", r.err, "ritra: FAILED_PRECONDITION: ");
    run_free(&r);

    /* The whole queue: only the reject (an unmerge records no pair). */
    run(&r, "PONAL", "matches", "list", "--status", "ALL", NULL);
    expect_exit(&r, 0);
    assert_string_equal(r.err, "");
    n = expect_lines(&r, lines, 1);
    assert_string_equal(jstr(lines[0], "candidate_id"), CANDIDATE);
    assert_string_equal(jstr(lines[0], "status"), "REJECTED");
    free_lines(lines, n);
    run_free(&r);

    /* An unmerge is undone by merging back. */
    run(&r, "PONAL", "matches", "merge", IDENTITY, fresh, "--reason", "Era ella", NULL);
    expect_exit(&r, 0);
    snprintf(line, sizeof(line), "%s 1\n", IDENTITY);
    assert_string_equal(r.out, line);
    run_free(&r);
    run(&r, "PONAL", "case", "matches", PONAL_CASE, "--json", NULL);
    expect_exit(&r, 0);
    ponal = parse_json(r.out, strlen(r.out));
    p = jfind(ponal, "persons", "person_ref", "ponal-v1");
    assert_string_equal(jstr(p, "identity_id"), IDENTITY);
    assert_string_equal(jstr(p, "linked_by"), "merge");
    assert_string_equal(jstr(p, "state"), "LINKED");
    json_object_put(ponal);
    run_free(&r);
}

static void test_errors_name_the_status_code(void **state)
{
    static const char unknown[] = "00000000-0000-4000-8000-000000000000";
    struct run r;

    (void)state;
    /* The server checks the ids: INVALID_ARGUMENT names the field. */
    run(&r, "PONAL", "matches", "confirm", "not-a-uuid", "--reason", "x", NULL);
    expect_exit(&r, 1);
    assert_string_equal(r.err, "ritra: INVALID_ARGUMENT: invalid request\n"
                               "  decide_match.candidate_id: not a UUID\n");
    assert_string_equal(r.out, "");
    run_free(&r);
    run(&r, "PONAL", "matches", "reject", "12345", "--reason", "x", NULL);
    expect_exit(&r, 1);
    expect_in("stderr", r.err, "ritra: INVALID_ARGUMENT: ");
    run_free(&r);
    run(&r, "PONAL", "matches", "reject", unknown, "--reason", "x", NULL);
    expect_exit(&r, 1);
    assert_string_equal(r.err, "ritra: NOT_FOUND: no such candidate among yours\n");
    run_free(&r);
    run(&r, "PONAL", "matches", "confirm", unknown, "--reason", "x", NULL);
    expect_exit(&r, 1);
    expect_in("stderr", r.err, "ritra: NOT_FOUND: ");
    run_free(&r);
    run(&r, "PONAL", "matches", "unmerge", unknown, "--reason", "x", NULL);
    expect_exit(&r, 1);
    expect_in("stderr", r.err, "ritra: NOT_FOUND: ");
    run_free(&r);
    run(&r, "PONAL", "case", "matches", "nope", NULL);
    expect_exit(&r, 1);
    expect_in("stderr", r.err, "ritra: INVALID_ARGUMENT: ");
    expect_in("stderr", r.err, "case_matches.case_id");
    run_free(&r);
    /* Another agency's case, not shared: as if it did not exist. */
    run(&r, "ICBF", "case", "matches", FGN_CASE, NULL);
    expect_exit(&r, 1);
    expect_in("stderr", r.err, "ritra: NOT_FOUND: ");
    run_free(&r);
    run(&r, "PONAL", "matches", "list", "--case", "nope", NULL);
    expect_exit(&r, 1);
    expect_in("stderr", r.err, "list_matches.case_id");
    run_free(&r);
    run(&r, "PONAL", "search", "person", "--name", "Maria Munoz", "--page-token", "bogus", NULL);
    expect_exit(&r, 1);
    expect_in("stderr", r.err, "search_persons.page_token");
    run_free(&r);
}

static void test_usage_errors_exit_2_before_connecting(void **state)
{
    static const char *const cases[][8] = {
        {"search", NULL},
        {"search", "people", NULL},
        {"search", "person", NULL},
        {"search", "person", "--name", "x", "--given", "y", NULL},
        {"search", "person", "--name", "", NULL},
        {"search", "person", "--name", "x", "--birth-date", "1994-13", NULL},
        {"search", "person", "--name", "x", "--birth-date", "07/03/1994", NULL},
        {"search", "person", "--name", "x", "--role", "Victima", NULL},
        {"search", "person", "--name", "x", "--page-size", "51", NULL},
        {"search", "person", "--document-type", "Passport", "--name", "x", NULL},
        {"search", "person", "--name", "x", "--citizenship", "COL", NULL},
        {"search", "cases", "--from", "2024-02", NULL},
        {"search", "cases", "--from", "2024-02-02", "--to", "2024-02-01", NULL},
        {"search", "cases", "--status", "Open", NULL},
        {"search", "cases", "--handling", "H4", NULL},
        {"search", "cases", "--page-size", "0", NULL},
        {"matches", NULL},
        {"matches", "list", "--status", "MAYBE", NULL},
        {"matches", "list", "extra", NULL},
        {"matches", "confirm", "11111111-1111-4111-8111-111111111111", NULL},
        {"matches", "reject", "11111111-1111-4111-8111-111111111111", "--reason", " ", NULL},
        {"matches", "confirm", "--reason", "x", NULL},
        {"matches", "merge", "a", "--reason", "x", NULL},
        {"matches", "merge", "a", "a", "--reason", "x", NULL},
        {"matches", "unmerge", "a", "b", "--reason", "x", NULL},
        {"case", "matches", NULL},
        {"case", "matches", "a", "b", NULL},
    };
    struct run r;

    (void)state;
    /* A closed address: anything that tried to connect would exit 4. */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *const *a = cases[i];

        run(&r, "PONAL", "--addr", "127.0.0.1:1", a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7],
            NULL);
        if (r.code != 2)
            fail_msg("case %zu (%s %s %s ...) exited %d, expected 2:\n%s", i, a[0],
                     a[1] ? a[1] : "", a[1] && a[2] ? a[2] : "", r.code, r.err);
        expect_in("stderr", r.err, "ritra: ");
        assert_string_equal(r.out, "");
        run_free(&r);
    }
    run(&r, "PONAL", "matches", "confirm", "11111111-1111-4111-8111-111111111111", NULL);
    assert_string_equal(r.err, "ritra: matches confirm wants --reason TEXT (why; it is recorded "
                               "and audited)\nTry 'ritra --help'.\n");
    run_free(&r);

    /* Help lists every command and its flags. */
    run(&r, "PONAL", "--help", NULL);
    expect_exit(&r, 0);
    expect_in("ritra --help", r.out, "  search person ");
    expect_in("ritra --help", r.out, "  matches list ");
    expect_in("ritra --help", r.out, "  case matches CASE_ID ");
    run_free(&r);
    run(&r, "PONAL", "help", "search", NULL);
    expect_exit(&r, 0);
    expect_in("help search", r.out, "--birth-date D");
    expect_in("help search", r.out, "--exploitation T");
    run_free(&r);
    run(&r, "PONAL", "matches", "unmerge", "--help", NULL);
    expect_exit(&r, 0);
    expect_in("matches --help", r.out, "ritra [flags] matches unmerge PERSON_ID --reason TEXT");
    run_free(&r);
    run(&r, "PONAL", "help", "case", NULL);
    expect_exit(&r, 0);
    expect_in("help case", r.out, "ritra [flags] case list");
    expect_in("help case", r.out, "ritra [flags] case matches CASE_ID");
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_victim_from_two_agencies_is_linked_as_case_matches_shows),
        cmocka_unit_test(test_police_search_finds_the_identity_with_fgns_record_as_a_hit),
        cmocka_unit_test(test_search_cases_prints_what_case_list_prints),
        cmocka_unit_test(test_review_queue_lists_the_suspect_pair_and_a_reject_sticks),
        cmocka_unit_test(test_unmerge_splits_the_identity_in_two),
        cmocka_unit_test(test_errors_name_the_status_code),
        cmocka_unit_test(test_usage_errors_exit_2_before_connecting),
    };

    return cmocka_run_group_tests_name("integration-cli-search", tests, setup, teardown);
}
