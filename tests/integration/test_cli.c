/*
 * The real `ritra` command-line client against the real server: every
 * field survives JSON → submit → get → JSON, batches name the failing
 * field, sync appends only what changed, a share is offered, accepted and
 * revoked with the recipient's view following, and the exit codes scripts
 * rely on (3 unauthenticated, 4 transport, 2 bad input).
 *
 * The binary comes from $RITRA_CLI_BIN; it gets the server and the
 * agency's certificate through RITRA_ADDR, RITRA_CA, RITRA_CERT and
 * RITRA_KEY, as a user's shell would give them.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "harness.h"

extern char **environ;

static struct harness H;
static const char *CLI;
static char CASE_ID[64]; /* FGN-CLI-0001, submitted by the round-trip test */

/* One case with every field of Case set (the server-set ones aside), in
 * the CLI's JSON form: HTCDS names, Spanish text with accents, every
 * nested message and repeated field, and every boolean true. */
static const char CASE_JSON[] =
    "{\n"
    "  \"external_ref\": \"FGN-CLI-0001\",\n"
    "  \"cas_Status\": \"FollowUp\",\n"
    "  \"cas_ReasonForCaseClosure\": \"Pendiente de audiencia de imputación\",\n"
    "  \"handling_code\": \"H1\",\n"
    "  \"handling_conditions\": \"Uso exclusivo de la investigación; consultar a la fiscal\",\n"
    "  \"source_reliability\": \"B\",\n"
    "  \"information_accuracy\": \"2\",\n"
    "  \"vic_TypeOfExploitation\": [\"SexualExploitation\", \"ForcedLabour\"],\n"
    "  \"vic_ForcedLabourIndustry\": \"I_AccommodationAndFoodServiceActivities\",\n"
    "  \"vic_TypeOfSexExploitation\": [\"Prostitution\"],\n"
    "  \"vic_MethodOfRecruitment\": [\"ThroughOnlineSocialNetworks\",\n"
    "                              \"ThroughFriendsOrSocialEvents\"],\n"
    "  \"vic_MethodsOfControl\": [\"DebtBondage\", \"WithholdsDocuments\"],\n"
    "  \"summary\": \"Captada en Medellín por Instagram con una oferta de empleo en un "
    "hotel.\\nTrasladada a Cartagena, donde le retuvieron los documentos.\",\n"
    "  \"summary_sensitive\": true,\n"
    "  \"events\": [\n"
    "    {\"hte_Type\": \"Recruitment\", \"hte_Date\": \"2023-11\", \"hte_Country\": \"CO\",\n"
    "     \"hte_State\": \"Antioquia\", \"hte_City\": \"Medellín\",\n"
    "     \"hte_Street\": \"Calle 10 # 43-12\", \"hte_PostalCode\": \"050021\",\n"
    "     \"location\": {\"latitude\": 6.2442, \"longitude\": -75.5812},\n"
    "     \"hte_Description\": \"Contacto inicial por Instagram.\",\n"
    "     \"description_sensitive\": true},\n"
    "    {\"hte_Type\": \"Exploitation\", \"hte_Date\": \"2024-01-15\", \"hte_Country\": \"CO\",\n"
    "     \"hte_State\": \"Bolívar\", \"hte_City\": \"Cartagena de Indias\",\n"
    "     \"hte_Street\": \"Carrera 3 # 36-50\", \"hte_PostalCode\": \"130001\",\n"
    "     \"location\": {\"latitude\": 10.4236, \"longitude\": -75.5518},\n"
    "     \"hte_Description\": \"Explotación en un hotel del centro histórico.\",\n"
    "     \"description_sensitive\": true}\n"
    "  ],\n"
    "  \"comments\": [\n"
    "    {\"cco_CaseComment\": \"Entrevista con intérprete y psicóloga presentes.\",\n"
    "     \"date\": \"2024-02-01\", \"sensitive\": true},\n"
    "    {\"cco_CaseComment\": \"Se activa la ruta de protección (ICBF).\", \"date\": "
    "\"2024-02-02\"}\n"
    "  ],\n"
    "  \"referral\": {\n"
    "    \"cas_ReferringOrganisation\": \"Policía Nacional - DIJIN\",\n"
    "    \"cas_IncomingReferralDate\": \"2024-01-20\",\n"
    "    \"cas_ReasonForIncomingReferral\": \"AdditionalServicesRequired\",\n"
    "    \"cas_IncomingReferralDetails\": \"Remitido tras operativo en Cartagena.\",\n"
    "    \"cas_ReferredOrganisation\": \"Defensoría del Pueblo\",\n"
    "    \"cas_OutgoingReferralDate\": \"2024-02-05\",\n"
    "    \"cas_ReasonForOutgoingReferral\": \"Other\",\n"
    "    \"cas_OutgoingReferralDetails\": \"Acompañamiento jurídico a la víctima.\"\n"
    "  },\n"
    "  \"persons\": [\n"
    "    {\"person_ref\": \"p1\", \"role\": \"Victim\",\n"
    "     \"prs_FirstName\": \"María José\", \"prs_MiddleName\": \"Inés\",\n"
    "     \"first_surname\": \"Muñoz\", \"second_surname\": \"de la Cruz\",\n"
    "     \"aliases\": [\"Majo\", \"La Paisa\"], \"sex\": \"Female\", \"prs_Gender\": "
    "\"Feminine\",\n"
    "     \"prs_Birthdate\": \"2006-03\", \"prs_Citizenship\": [\"CO\", \"VE\"],\n"
    "     \"documents\": [\n"
    "       {\"type\": \"NationalId\", \"number\": \"1.020.304.050\", \"issuing_country\": "
    "\"CO\"},\n"
    "       {\"type\": \"Passport\", \"number\": \"AB123456\", \"issuing_country\": \"VE\"}],\n"
    "     \"phones\": [\"+573001234567\", \"+584121234567\"],\n"
    "     \"addresses\": [{\"street\": \"Calle 45 # 12-30, apto 201\", \"city\": \"Bogotá\",\n"
    "                    \"state\": \"Cundinamarca\", \"postal_code\": \"110311\", "
    "\"country\": \"CO\"}],\n"
    "     \"prs_Email\": \"maria.munoz@example.com.co\",\n"
    "     \"victim\": {\n"
    "       \"vic_TraffickingStatus\": \"ActualVictimOfTrafficking\",\n"
    "       \"vic_TraffickingStatusDecisionMakingOrg\": \"CourtOrProsecution\",\n"
    "       \"vic_RelationshipToTrafficker\": \"Acquainted\",\n"
    "       \"vic_AgeWhenTrafficked\": {\"value\": 17},\n"
    "       \"vic_Vulnerabilities\": [\"Poverty\", \"Migration\"],\n"
    "       \"consent\": {\"con_Consent\": true, \"scope\": [\"ShareWithAgencies\", "
    "\"ReferToServices\"],\n"
    "                   \"date\": \"2024-02-01\"}}},\n"
    "    {\"person_ref\": \"p2\", \"role\": \"Suspect\",\n"
    "     \"prs_FirstName\": \"José Francisco\", \"first_surname\": \"Pérez\",\n"
    "     \"second_surname\": \"Gómez\", \"aliases\": [\"El Flaco\"], \"sex\": \"Male\",\n"
    "     \"prs_Gender\": \"Masculine\", \"prs_Birthdate\": \"1985\", \"prs_Citizenship\": "
    "[\"CO\"],\n"
    "     \"perpetrator\": {\"per_RoleInProcess\": [\"RecruiterOrIntermediary\", "
    "\"Exploiter\"],\n"
    "                     \"per_RoleDetails\": \"Administrador del hotel; reclutaba por "
    "Instagram.\"}}\n"
    "  ],\n"
    "  \"h3_allow_hits\": true\n"
    "}\n";

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
    snprintf(env[k++], 400, "RITRA_CERT=%s/%s.crt", H.pki, cert ? cert : "none");
    env[k] = malloc(400);
    snprintf(env[k++], 400, "RITRA_KEY=%s/%s.key", H.pki, cert ? cert : "none");
    env[k++] = strdup("RITRA_ACTOR=cli-test");
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
        fail_msg("ritra exited %d, expected %d\n--- stdout:\n%s--- stderr:\n%s", r->code, code,
                 r->out, r->err);
}

static void expect_in(const char *what, const char *text, const char *needle)
{
    if (strstr(text, needle) == NULL)
        fail_msg("%s lacks \"%s\":\n%s", what, needle, text);
}

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

static const char *jstr(struct json_object *o, const char *key)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v))
        fail_msg("no \"%s\" in %s", key, json_object_to_json_string(o));
    return json_object_get_string(v);
}

/* CASE_JSON as a json-c value with another external_ref. */
static struct json_object *case_with_ref(const char *ref)
{
    struct json_object *c = parse_json(CASE_JSON, strlen(CASE_JSON));

    json_object_object_add(c, "external_ref", json_object_new_string(ref));
    return c;
}

static void write_json(const char *path, struct json_object *j)
{
    write_text(path, json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(j);
}

/* ---- fixtures ---- */

static int setup(void **state)
{
    (void)state;
    CLI = getenv("RITRA_CLI_BIN");
    if (CLI == NULL || access(CLI, X_OK) != 0) {
        fprintf(stderr, "test-cli: RITRA_CLI_BIN does not name the ritra executable\n");
        return -1;
    }
    return harness_start(&H, NULL);
}

static int teardown(void **state)
{
    (void)state;
    harness_stop(&H);
    return 0;
}

/* ---- cases ---- */

static void test_every_field_round_trips_through_submit_and_get_json(void **state)
{
    struct json_object *sent, *got;
    struct run r;
    char file[400], id[64] = "";
    long version = 0;

    (void)state;
    path_in_dir(file, sizeof(file), "full.json");
    write_text(file, CASE_JSON);
    run(&r, "FGN", "case", "submit", file, NULL);
    expect_exit(&r, 0);
    if (sscanf(r.out, "%63s %ld created", id, &version) != 2 || strlen(id) != 36 || version != 1)
        fail_msg("unexpected submit output: %s", r.out);
    snprintf(CASE_ID, sizeof(CASE_ID), "%s", id);
    run_free(&r);

    run(&r, "FGN", "case", "get", "--ref", "FGN-CLI-0001", "--json", NULL);
    expect_exit(&r, 0);
    /* One line: --json promises one object per line. */
    assert_ptr_equal(strchr(r.out, '\n'), r.out + strlen(r.out) - 1);
    got = parse_json(r.out, strlen(r.out));
    assert_string_equal(jstr(got, "case_id"), CASE_ID);
    assert_string_equal(jstr(got, "owner_agency"), "FGN");
    assert_int_equal(json_object_get_int64(json_object_object_get(got, "version")), 1);
    assert_true(strlen(jstr(got, "created_at")) >= 20);
    assert_true(strlen(jstr(got, "updated_at")) >= 20);
    for (const char *const *k = (const char *const[]){"case_id", "owner_agency", "version",
                                                      "created_at", "updated_at", NULL};
         *k != NULL; k++)
        json_object_object_del(got, *k);
    sent = parse_json(CASE_JSON, strlen(CASE_JSON));
    if (!json_object_equal(sent, got))
        fail_msg("the case came back different:\nsent %s\ngot  %s",
                 json_object_to_json_string_ext(sent, JSON_C_TO_STRING_NOSLASHESCAPE),
                 json_object_to_json_string_ext(got, JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(sent);
    json_object_put(got);
    run_free(&r);

    /* The same file again writes nothing and says so. */
    run(&r, "FGN", "case", "submit", file, NULL);
    expect_exit(&r, 0);
    snprintf(file, sizeof(file), "%s 1 unchanged\n", CASE_ID);
    assert_string_equal(r.out, file);
    run_free(&r);
}

static void test_array_with_one_invalid_case_exits_1_naming_the_field(void **state)
{
    struct json_object *arr = json_object_new_array(), *bad, *persons;
    struct run r;
    char file[400];

    (void)state;
    json_object_array_add(arr, case_with_ref("FGN-CLI-A0"));
    bad = case_with_ref("FGN-CLI-A1");
    persons = json_object_object_get(bad, "persons");
    json_object_object_add(json_object_array_get_idx(persons, 1), "sex",
                           json_object_new_string("M"));
    json_object_array_add(arr, bad);
    json_object_array_add(arr, case_with_ref("FGN-CLI-A2"));
    path_in_dir(file, sizeof(file), "three.json");
    write_json(file, arr);

    run(&r, "FGN", "case", "submit", file, NULL);
    expect_exit(&r, 1);
    expect_in("stdout", r.out, "0 FGN-CLI-A0 created ");
    expect_in("stdout", r.out, "1 FGN-CLI-A1 error INVALID_ARGUMENT: ");
    /* The path is the case's own, not the request's. */
    expect_in("stdout", r.out, "\n  persons[1].sex: ");
    expect_in("stdout", r.out, "2 FGN-CLI-A2 created ");
    run_free(&r);

    /* The good ones were stored; the bad one was not. */
    run(&r, "FGN", "case", "get", "--ref", "FGN-CLI-A2", "--json", NULL);
    expect_exit(&r, 0);
    run_free(&r);
    run(&r, "FGN", "case", "get", "--ref", "FGN-CLI-A1", NULL);
    expect_exit(&r, 1);
    expect_in("stderr", r.err, "NOT_FOUND");
    run_free(&r);
}

/* ---- sync ---- */

/* The lines of a JSON Lines file, each checked to be one JSON object. */
static size_t jsonl_lines(const char *path, struct json_object **lines, size_t max)
{
    char *text = read_file(path), *p = text;
    size_t n = 0;

    if (text[0] != '\0' && text[strlen(text) - 1] != '\n')
        fail_msg("%s does not end in a newline", path);
    while (*p != '\0') {
        char *nl = strchr(p, '\n');

        assert_true(n < max);
        lines[n] = parse_json(p, (size_t)(nl - p));
        assert_true(json_object_is_type(lines[n], json_type_object));
        n++;
        p = nl + 1;
    }
    free(text);
    return n;
}

static void free_lines(struct json_object **lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_object_put(lines[i]);
}

static const char *change_ref(struct json_object *change)
{
    return jstr(json_object_object_get(change, "case"), "external_ref");
}

static void test_sync_twice_appends_only_what_changed_in_between(void **state)
{
    struct json_object *arr = json_object_new_array(), *lines[16], *upd;
    char file[400], st[400], out[400], *cursor1, *cursor2;
    struct run r;
    size_t n;

    (void)state;
    /* MIGRACION sees only its own cases: its feed is this test's alone. */
    json_object_array_add(arr, case_with_ref("MIG-CLI-0"));
    json_object_array_add(arr, case_with_ref("MIG-CLI-1"));
    path_in_dir(file, sizeof(file), "mig.json");
    write_json(file, arr);
    run(&r, "MIGRACION", "case", "submit", file, NULL);
    expect_exit(&r, 0);
    run_free(&r);

    path_in_dir(st, sizeof(st), "sync.state");
    path_in_dir(out, sizeof(out), "sync.jsonl");
    run(&r, "MIGRACION", "sync", "--state", st, "--out", out, NULL);
    expect_exit(&r, 0);
    assert_string_equal(r.err, "2 changes, cursor saved\n");
    assert_string_equal(r.out, "");
    run_free(&r);
    n = jsonl_lines(out, lines, 16);
    assert_int_equal(n, 2);
    /* One request's cases may enter the feed in either order. */
    assert_true((strcmp(change_ref(lines[0]), "MIG-CLI-0") == 0 &&
                 strcmp(change_ref(lines[1]), "MIG-CLI-1") == 0) ||
                (strcmp(change_ref(lines[0]), "MIG-CLI-1") == 0 &&
                 strcmp(change_ref(lines[1]), "MIG-CLI-0") == 0));
    assert_string_equal(jstr(lines[0], "visibility"), "FULL");
    free_lines(lines, n);
    /* The state file is the cursor, one line. */
    cursor1 = read_file(st);
    assert_true(strlen(cursor1) > 1);
    assert_ptr_equal(strchr(cursor1, '\n'), cursor1 + strlen(cursor1) - 1);

    /* In between: one case changes, one is new. */
    upd = case_with_ref("MIG-CLI-0");
    json_object_object_add(upd, "cas_Status", json_object_new_string("Active"));
    path_in_dir(file, sizeof(file), "mig-update.json");
    write_json(file, upd);
    run(&r, "MIGRACION", "case", "submit", file, NULL);
    expect_exit(&r, 0);
    expect_in("stdout", r.out, " 2 updated");
    run_free(&r);
    path_in_dir(file, sizeof(file), "mig-new.json");
    write_json(file, case_with_ref("MIG-CLI-2"));
    run(&r, "MIGRACION", "case", "submit", file, NULL);
    expect_exit(&r, 0);
    expect_in("stdout", r.out, " 1 created");
    run_free(&r);

    run(&r, "MIGRACION", "sync", "--state", st, "--out", out, NULL);
    expect_exit(&r, 0);
    assert_string_equal(r.err, "2 changes, cursor saved\n");
    run_free(&r);
    n = jsonl_lines(out, lines, 16);
    assert_int_equal(n, 4);
    assert_string_equal(change_ref(lines[2]), "MIG-CLI-0");
    assert_int_equal(json_object_get_int64(json_object_object_get(lines[2], "version")), 2);
    assert_string_equal(jstr(json_object_object_get(lines[2], "case"), "cas_Status"), "Active");
    assert_string_equal(change_ref(lines[3]), "MIG-CLI-2");
    free_lines(lines, n);
    cursor2 = read_file(st);
    assert_ptr_equal(strchr(cursor2, '\n'), cursor2 + strlen(cursor2) - 1);
    assert_true(strcmp(cursor1, cursor2) != 0);

    /* Nothing new: nothing appended, the cursor stays. */
    run(&r, "MIGRACION", "sync", "--state", st, "--out", out, NULL);
    expect_exit(&r, 0);
    assert_string_equal(r.err, "0 changes, cursor saved\n");
    run_free(&r);
    n = jsonl_lines(out, lines, 16);
    assert_int_equal(n, 4);
    free_lines(lines, n);
    free(cursor1);
    cursor1 = read_file(st);
    assert_string_equal(cursor1, cursor2);
    free(cursor1);
    free(cursor2);
}

/* ---- sharing ---- */

/* The line of `share list` output that starts with grant_id, or NULL. */
static const char *grant_line(const char *out, const char *grant_id)
{
    size_t len = strlen(grant_id);

    for (const char *p = out; *p != '\0';) {
        const char *nl = strchr(p, '\n');

        if (strncmp(p, grant_id, len) == 0 && p[len] == ' ')
            return p;
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    return NULL;
}

/* The n-th (from 0) space-separated column of the line at p. */
static void column(const char *p, int n, char *buf, size_t size)
{
    for (int i = 0; i < n; i++) {
        p += strcspn(p, " \n");
        p += strspn(p, " ");
    }
    snprintf(buf, size, "%.*s", (int)strcspn(p, " \n"), p);
}

static void test_share_offer_accept_read_revoke_through_the_cli(void **state)
{
    struct json_object *j;
    struct run r;
    char grant[64], col[64];
    const char *line;

    (void)state;
    assert_int_equal(strlen(CASE_ID), 36);

    run(&r, "FGN", "share", "case", "--id", CASE_ID, "--to", "PONAL", "--level", "FULL",
        "--purpose", "Investigación conjunta de la red en Cartagena", "--json", NULL);
    expect_exit(&r, 0);
    j = parse_json(r.out, strlen(r.out));
    snprintf(grant, sizeof(grant), "%s", jstr(j, "grant_id"));
    assert_int_equal(strlen(grant), 36);
    assert_string_equal(jstr(j, "case_id"), CASE_ID);
    assert_string_equal(jstr(j, "grantor_agency"), "FGN");
    assert_string_equal(jstr(j, "grantee_agency"), "PONAL");
    assert_string_equal(jstr(j, "level"), "FULL");
    assert_string_equal(jstr(j, "state"), "offered");
    json_object_put(j);
    run_free(&r);

    /* Offered is not yet in force. */
    run(&r, "PONAL", "case", "get", "--id", CASE_ID, NULL);
    expect_exit(&r, 1);
    expect_in("stderr", r.err, "ritra: NOT_FOUND: ");
    run_free(&r);

    run(&r, "PONAL", "share", "list", "--received", NULL);
    expect_exit(&r, 0);
    assert_int_equal(strncmp(r.out, "GRANT_ID ", 9), 0);
    line = grant_line(r.out, grant);
    if (line == NULL)
        fail_msg("grant %s not listed:\n%s", grant, r.out);
    column(line, 1, col, sizeof(col));
    assert_string_equal(col, CASE_ID);
    column(line, 2, col, sizeof(col));
    assert_string_equal(col, "FGN");
    column(line, 3, col, sizeof(col));
    assert_string_equal(col, "PONAL");
    column(line, 4, col, sizeof(col));
    assert_string_equal(col, "FULL");
    column(line, 5, col, sizeof(col));
    assert_string_equal(col, "offered");
    column(line, 6, col, sizeof(col));
    assert_string_equal(col, "-");
    expect_in("share list", line, "  Investigación conjunta de la red en Cartagena\n");
    run_free(&r);

    /* The same with filters, as JSON Lines. */
    run(&r, "PONAL", "share", "list", "--received", "--state", "offered", "--case", CASE_ID,
        "--json", NULL);
    expect_exit(&r, 0);
    j = parse_json(r.out, strlen(r.out));
    assert_string_equal(jstr(j, "grant_id"), grant);
    json_object_put(j);
    run_free(&r);

    run(&r, "PONAL", "share", "accept", grant, "--reason", "Aceptado por la DIJIN", NULL);
    expect_exit(&r, 0);
    line = grant_line(r.out, grant);
    assert_non_null(line);
    column(line, 5, col, sizeof(col));
    assert_string_equal(col, "accepted");
    run_free(&r);

    run(&r, "PONAL", "case", "get", "--id", CASE_ID, NULL);
    expect_exit(&r, 0);
    expect_in("stderr", r.err, "ritra: visibility FULL");
    j = parse_json(r.out, strlen(r.out));
    assert_string_equal(jstr(j, "case_id"), CASE_ID);
    assert_string_equal(jstr(j, "owner_agency"), "FGN");
    assert_true(json_object_array_length(json_object_object_get(j, "persons")) == 2);
    json_object_put(j);
    run_free(&r);

    /* The owner sees it given and accepted. */
    run(&r, "FGN", "share", "list", "--given", "--state", "accepted", NULL);
    expect_exit(&r, 0);
    assert_non_null(grant_line(r.out, grant));
    run_free(&r);

    run(&r, "FGN", "share", "revoke", grant, "--reason", "Fin de la colaboración", NULL);
    expect_exit(&r, 0);
    line = grant_line(r.out, grant);
    assert_non_null(line);
    column(line, 5, col, sizeof(col));
    assert_string_equal(col, "revoked");
    run_free(&r);

    run(&r, "PONAL", "case", "get", "--id", CASE_ID, NULL);
    expect_exit(&r, 1);
    expect_in("stderr", r.err, "ritra: NOT_FOUND: ");
    assert_string_equal(r.out, "");
    run_free(&r);

    /* A revoked grant cannot be accepted again. */
    run(&r, "PONAL", "share", "accept", grant, NULL);
    expect_exit(&r, 1);
    expect_in("stderr", r.err, "ritra: FAILED_PRECONDITION: ");
    run_free(&r);
}

static void test_share_usage_errors_exit_2_before_connecting(void **state)
{
    struct run r;

    (void)state;
    run(&r, "FGN", "share", "list", NULL);
    expect_exit(&r, 2);
    expect_in("stderr", r.err, "--given or --received");
    run_free(&r);
    run(&r, "FGN", "share", "case", "--id", CASE_ID, "--to", "PONAL", "--to-kind", "police",
        "--level", "HIT", "--purpose", "x", NULL);
    expect_exit(&r, 2);
    run_free(&r);
    run(&r, "FGN", "share", "accept", NULL);
    expect_exit(&r, 2);
    run_free(&r);
    run(&r, "FGN", "share", "frobnicate", NULL);
    expect_exit(&r, 2);
    run_free(&r);
    run(&r, "FGN", "help", "share", NULL);
    expect_exit(&r, 0);
    expect_in("help share", r.out, "ritra [flags] share list (--given | --received)");
    run_free(&r);
}

/* ---- exit codes ---- */

static int closed_port(void)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
        port = ntohs(sin.sin_port);
    if (fd >= 0)
        close(fd); /* bound, never listened: nothing answers there */
    return port;
}

static void test_exit_codes_unauthenticated_transport_and_bad_input(void **state)
{
    char addr[64], file[400];
    struct run r;

    (void)state;
    /* A certificate the CA signed but no agency registered. */
    run(&r, "unregistered", "ping", NULL);
    expect_exit(&r, 3);
    expect_in("stderr", r.err, "ritra: UNAUTHENTICATED: ");
    run_free(&r);
    run(&r, "unregistered", "case", "get", "--ref", "FGN-CLI-0001", NULL);
    expect_exit(&r, 3);
    run_free(&r);

    snprintf(addr, sizeof(addr), "127.0.0.1:%d", closed_port());
    run(&r, "FGN", "--addr", addr, "ping", NULL);
    expect_exit(&r, 4);
    expect_in("stderr", r.err, "ritra: CONNECT: ");
    run_free(&r);

    /* Not JSON at all, and JSON that is not a case: both name the place. */
    path_in_dir(file, sizeof(file), "broken.json");
    write_text(file, "{\"external_ref\": \"FGN-CLI-BAD\",\n \"persons\": [\n");
    run(&r, "FGN", "case", "submit", file, NULL);
    expect_exit(&r, 2);
    expect_in("stderr", r.err, file);
    assert_string_equal(r.out, "");
    run_free(&r);
    path_in_dir(file, sizeof(file), "wrongtype.json");
    write_text(file, "[{\"external_ref\": \"FGN-CLI-BAD\"},\n"
                     " {\"external_ref\": \"FGN-CLI-BAD2\", \"persons\": [{\"sex\": 5}]}]\n");
    run(&r, "FGN", "case", "submit", file, NULL);
    expect_exit(&r, 2);
    expect_in("stderr", r.err, "wrongtype.json: [1].persons[0].sex: ");
    run_free(&r);
    /* Nothing was sent. */
    run(&r, "FGN", "case", "get", "--ref", "FGN-CLI-BAD", NULL);
    expect_exit(&r, 1);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_field_round_trips_through_submit_and_get_json),
        cmocka_unit_test(test_array_with_one_invalid_case_exits_1_naming_the_field),
        cmocka_unit_test(test_sync_twice_appends_only_what_changed_in_between),
        cmocka_unit_test(test_share_offer_accept_read_revoke_through_the_cli),
        cmocka_unit_test(test_share_usage_errors_exit_2_before_connecting),
        cmocka_unit_test(test_exit_codes_unauthenticated_transport_and_bad_input),
    };

    return cmocka_run_group_tests_name("integration-cli", tests, setup, teardown);
}
