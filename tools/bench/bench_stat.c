#include "bench_stat.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/resource.h>

#define SAMPLE_INTERVAL_MS 20

int64_t bench_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest value with at least p of the values at or below it. */
static double rank(const uint32_t *v, size_t n, double p)
{
    size_t k = (size_t)(p * (double)n + 0.999999);

    if (k == 0)
        k = 1;
    return v[k > n ? n - 1 : k - 1];
}

void lat_summarize(uint32_t *v, size_t n, struct lat_summary *out)
{
    double sum = 0;

    memset(out, 0, sizeof(*out));
    if (n == 0)
        return;
    qsort(v, n, sizeof(*v), cmp_u32);
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    out->n = n;
    out->p50 = rank(v, n, 0.50);
    out->p90 = rank(v, n, 0.90);
    out->p99 = rank(v, n, 0.99);
    out->max = v[n - 1];
    out->mean = sum / (double)n;
}

void lat_json(const struct lat_summary *l, FILE *f)
{
    fprintf(f,
            "\"lat_p50_us\":%.0f,\"lat_p90_us\":%.0f,\"lat_p99_us\":%.0f,\"lat_max_us\":%.0f,"
            "\"lat_mean_us\":%.0f,",
            l->p50, l->p90, l->p99, l->max, l->mean);
}

/* ---- /proc ---------------------------------------------------------- */

/* Fields 14..17 of /proc/PID/stat (utime stime cutime cstime) and the
 * parent pid. The command name may hold spaces and parentheses, so the
 * fields are counted from its last ')'. Returns 0 or -1. */
static int read_stat(int pid, int *ppid, uint64_t t[4])
{
    char path[64], buf[1024], *p;
    FILE *f;
    size_t n;
    long long v[4];

    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    /* after ") ": state(3) ppid(4) pgrp session tty tpgid flags minflt
     * cminflt majflt cmajflt utime(14) stime cutime cstime */
    if (p == NULL || sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld %lld %lld",
                            ppid, &v[0], &v[1], &v[2], &v[3]) != 5)
        return -1;
    for (int i = 0; i < 4; i++)
        t[i] = (uint64_t)v[i];
    return 0;
}

/* The postmaster's own and reaped children's time plus every live child's
 * time, as tools/bench/handshake counts it. */
static uint64_t pg_ticks(int pm)
{
    uint64_t t[4], total;
    DIR *d;
    struct dirent *e;
    int ppid;

    if (read_stat(pm, &ppid, t) < 0)
        return 0;
    total = t[0] + t[1] + t[2] + t[3];
    d = opendir("/proc");
    if (d == NULL)
        return total;
    while ((e = readdir(d)) != NULL) {
        char *end = NULL;
        long pid = strtol(e->d_name, &end, 10);

        if (end == e->d_name || *end != '\0' || pid <= 0 || pid > INT_MAX)
            continue;
        if (pid != pm && read_stat((int)pid, &ppid, t) == 0 && ppid == pm)
            total += t[0] + t[1];
    }
    closedir(d);
    return total;
}

/* A "Key:   1234 kB" line of /proc/PID/status, in kB; -1 when absent. */
static double status_kb(int pid, const char *key)
{
    char path[64], line[256];
    size_t klen = strlen(key);
    double kb = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            kb = strtod(line + klen + 1, NULL);
            break;
        }
    }
    fclose(f);
    return kb;
}

/* Non-idle ticks of all CPUs: user nice system (idle iowait) irq softirq steal. */
static uint64_t machine_busy_ticks(void)
{
    unsigned long long v[8] = {0};
    FILE *f = fopen("/proc/stat", "r");
    int n;

    if (f == NULL)
        return 0;
    n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
               &v[5], &v[6], &v[7]);
    fclose(f);
    if (n != 8)
        return 0;
    return v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
}

static double self_cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static void *sampler_main(void *arg)
{
    struct usage_probe *p = arg;
    struct timespec ts = {0, SAMPLE_INTERVAL_MS * 1000000L};

    while (!p->stop) {
        double kb = status_kb(p->server_pid, "VmRSS");

        if (kb > p->rss_peak_kb)
            p->rss_peak_kb = kb;
        nanosleep(&ts, NULL);
    }
    return NULL;
}

void usage_probe_init(struct usage_probe *p, int server_pid, int pg_pid)
{
    memset(p, 0, sizeof(*p));
    p->server_pid = server_pid;
    p->pg_pid = pg_pid;
}

void usage_probe_start(struct usage_probe *p)
{
    uint64_t t[4];
    int ppid;

    if (p->server_pid > 0 && read_stat(p->server_pid, &ppid, t) == 0) {
        p->server_user0 = t[0];
        p->server_sys0 = t[1];
        p->stop = 0;
        p->sampling = pthread_create(&p->sampler, NULL, sampler_main, p) == 0;
    }
    if (p->pg_pid > 0)
        p->pg0 = pg_ticks(p->pg_pid);
    p->client0 = self_cpu_s();
    p->machine0 = machine_busy_ticks();
}

void usage_probe_stop(struct usage_probe *p, struct proc_usage *u)
{
    double hz = (double)sysconf(_SC_CLK_TCK);
    uint64_t t[4];
    int ppid;

    memset(u, 0, sizeof(*u));
    u->client_cpu_s = self_cpu_s() - p->client0;
    u->machine_busy_s = (double)(machine_busy_ticks() - p->machine0) / hz;
    if (p->sampling) {
        p->stop = 1;
        pthread_join(p->sampler, NULL);
        p->sampling = 0;
    }
    if (p->server_pid > 0 && read_stat(p->server_pid, &ppid, t) == 0) {
        double kb = status_kb(p->server_pid, "VmRSS");

        u->have_server = 1;
        u->server_user_s = (double)(t[0] - p->server_user0) / hz;
        u->server_sys_s = (double)(t[1] - p->server_sys0) / hz;
        u->server_cpu_s = u->server_user_s + u->server_sys_s;
        if (kb > p->rss_peak_kb)
            p->rss_peak_kb = kb;
        u->server_rss_peak_mb = p->rss_peak_kb / 1024;
        u->server_hwm_mb = status_kb(p->server_pid, "VmHWM") / 1024;
    }
    if (p->pg_pid > 0) {
        u->have_pg = 1;
        u->pg_cpu_s = (double)(pg_ticks(p->pg_pid) - p->pg0) / hz;
    }
}

void usage_print(const struct proc_usage *u, FILE *f)
{
    if (u->have_server)
        fprintf(f, "  server: %.2f s CPU (user %.2f, sys %.2f), RSS peak %.1f MB (VmHWM %.1f MB)\n",
                u->server_cpu_s, u->server_user_s, u->server_sys_s, u->server_rss_peak_mb,
                u->server_hwm_mb);
    if (u->have_pg)
        fprintf(f, "  postgresql: %.2f s CPU\n", u->pg_cpu_s);
    fprintf(f, "  client (ritra-bench): %.2f s CPU; all CPUs busy %.2f s\n", u->client_cpu_s,
            u->machine_busy_s);
}

void usage_json(const struct proc_usage *u, FILE *f)
{
    if (u->have_server)
        fprintf(f,
                "\"server_cpu_s\":%.2f,\"server_user_s\":%.2f,\"server_sys_s\":%.2f,"
                "\"server_rss_peak_mb\":%.1f,\"server_vmhwm_mb\":%.1f,",
                u->server_cpu_s, u->server_user_s, u->server_sys_s, u->server_rss_peak_mb,
                u->server_hwm_mb);
    if (u->have_pg)
        fprintf(f, "\"pg_cpu_s\":%.2f,", u->pg_cpu_s);
    fprintf(f, "\"client_cpu_s\":%.2f,\"machine_busy_s\":%.2f,", u->client_cpu_s,
            u->machine_busy_s);
}
