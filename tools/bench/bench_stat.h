/*
 * ritra-bench measurements: a microsecond clock, latency percentiles and
 * the CPU and memory the server, PostgreSQL and the client itself used
 * during a measured window (from /proc and getrusage).
 */
#ifndef BENCH_STAT_H
#define BENCH_STAT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* CLOCK_MONOTONIC in microseconds. */
int64_t bench_now_us(void);

struct lat_summary {
    size_t n;
    double p50, p90, p99, max, mean; /* microseconds */
};

/* Sorts v (n values in microseconds) and fills *out; all zero when n is 0. */
void lat_summarize(uint32_t *v, size_t n, struct lat_summary *out);

/* Prints `"lat_p50_us":...,` and the others: JSON members with a trailing comma. */
void lat_json(const struct lat_summary *l, FILE *f);

struct proc_usage {
    int have_server, have_pg;
    double server_user_s, server_sys_s, server_cpu_s;
    double server_rss_peak_mb; /* highest VmRSS sampled during the window */
    double server_hwm_mb;      /* VmHWM at the end: the process's lifetime peak */
    double pg_cpu_s;           /* postmaster, its children and its reaped children */
    double client_cpu_s;       /* this process, all threads */
    double machine_busy_s;     /* every CPU's non-idle time (/proc/stat): with the
                                * above, shows what else competed for the cores */
};

/* Samples the server's VmRSS in a thread between start and stop. */
struct usage_probe {
    int server_pid, pg_pid;
    uint64_t server_user0, server_sys0, pg0, machine0;
    double client0;
    double rss_peak_kb;
    pthread_t sampler;
    int sampling;
    _Atomic int stop;
};

/* pid 0: that process is not measured. */
void usage_probe_init(struct usage_probe *p, int server_pid, int pg_pid);
void usage_probe_start(struct usage_probe *p);
void usage_probe_stop(struct usage_probe *p, struct proc_usage *out);

void usage_print(const struct proc_usage *u, FILE *f);
/* JSON members with a trailing comma, as lat_json. */
void usage_json(const struct proc_usage *u, FILE *f);

#endif
