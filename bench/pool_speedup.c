/* This file implements bench/pool_speedup: converting many MJR files one after another on one
 * thread against converting them with the transcode worker pool, in the same process.
 *
 * A pass converts every input to DIR/pool-<i>.<format>. The serial pass calls
 * transcode_job_run() for each file in turn on the main thread; the pool pass creates a
 * tc_pool of --threads workers, submits every job at once, waits with tc_pool_wait() and
 * destroys the pool (creation and destruction are inside its timed window). Passes alternate
 * (serial first in odd rounds, pool first in even ones) so that a slow spell of the machine or
 * a cold cache does not favour one side; every output is checked (status 0, a non-empty file)
 * and deleted before the next pass. The result is the ratio of the median walls, serial over
 * pool, against the target of 1.8 for 2 workers.
 *
 * A busy machine bounds what a pool can gain, so each pass also prints the process CPU (and
 * CPU / wall: how many CPUs the pass really had), the time its converting threads spent
 * runnable but waiting for a CPU (/proc/thread-self/schedstat, read on each thread: the main
 * thread for the serial pass, each worker in the done() of its jobs), involuntary context
 * switches, minor page faults, and the CPU other processes used meanwhile. The speedup is
 * then printed a second time over the "quiet" rounds only, those in which neither pass
 * waited for a CPU 10% of its wall or more: what the pool gains when the two CPUs are
 * really there. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench/bench_util.h"
#include "common/xalloc.h"
#include "transcode/transcode.h"

#define MAX_ROUNDS 31
#define QUIET_WAIT 0.1 /* a round is quiet when no pass waited this share of its wall */
#define TARGET_RATIO 1.8

struct slot {
    const char *input;
    char *output;
    struct tc_result res;
    pid_t tid;           /* the thread that ran the job */
    int64_t run_wait_ns; /* that thread's run-queue wait so far, read when the job ended */
};

struct bench {
    struct slot *slots;
    size_t n;
    unsigned threads;
};

struct pass {
    double wall_s, cpu_s, others_s;
    double run_wait_s; /* runnable but waiting for a CPU, summed over the converting threads */
    long preempted;    /* involuntary context switches of the process */
    long faults;       /* minor page faults of the process */
    size_t failed;
};

/* The calling thread's time spent runnable on a run queue without a CPU, in ns (second field
 * of /proc/thread-self/schedstat); -1 when the kernel does not provide it. */
static int64_t thread_run_wait_ns(void)
{
    char buf[128];
    if (bench_read_small("/proc/thread-self/schedstat", buf, sizeof(buf)) <= 0)
        return -1;
    unsigned long long on_cpu = 0, waiting = 0;
    if (sscanf(buf, "%llu %llu", &on_cpu, &waiting) != 2)
        return -1;
    return (int64_t)waiting;
}

static double process_cpu_s(long *nivcsw, long *minflt)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *nivcsw = ru.ru_nivcsw;
    *minflt = ru.ru_minflt;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void job_fill(const struct slot *s, struct tc_job *job)
{
    memset(job, 0, sizeof(*job));
    job->inputs = &s->input;
    job->n_inputs = 1;
    job->output = s->output;
    tc_options_default(&job->opts);
}

static void on_done(void *ud, const struct tc_result *res)
{
    struct slot *s = ud;
    s->res = *res;
    s->tid = gettid();
    s->run_wait_ns = thread_run_wait_ns();
}

static void run_serial(struct bench *b)
{
    for (size_t i = 0; i < b->n; i++) {
        struct tc_job job;
        job_fill(&b->slots[i], &job);
        transcode_job_run(&job, NULL, NULL, &b->slots[i].res);
    }
}

static int run_pool(struct bench *b)
{
    struct tc_pool *pool = NULL;
    int rc = tc_pool_create(b->threads, &pool);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < b->n; i++) {
        struct tc_pool_job pj;
        memset(&pj, 0, sizeof(pj));
        job_fill(&b->slots[i], &pj.job);
        pj.done = on_done;
        pj.ud = &b->slots[i];
        int64_t id = tc_pool_submit(pool, &pj);
        if (id < 0) {
            b->slots[i].res.status = (int)id;
            snprintf(b->slots[i].res.error, sizeof(b->slots[i].res.error), "submit failed");
        }
    }
    tc_pool_wait(pool);
    tc_pool_destroy(pool);
    return 0;
}

/* Checks and removes the outputs; returns how many jobs failed. */
static size_t check_outputs(struct bench *b)
{
    size_t failed = 0;
    for (size_t i = 0; i < b->n; i++) {
        struct slot *s = &b->slots[i];
        struct stat st;
        if (s->res.status != 0 || stat(s->output, &st) != 0 || st.st_size == 0) {
            fprintf(stderr, "pool_speedup: %s: failed (%d): %s\n", s->input, s->res.status,
                    s->res.error);
            failed++;
        }
        remove(s->output);
    }
    return failed;
}

/* Run-queue wait of the pool's workers: each worker's last reading (they are new threads,
 * so their counters started at zero), summed over the distinct threads. */
static int64_t pool_run_wait_ns(const struct bench *b)
{
    int64_t sum = 0;
    for (size_t i = 0; i < b->n; i++) {
        bool latest = b->slots[i].run_wait_ns >= 0;
        for (size_t j = 0; j < b->n && latest; j++)
            if (j != i && b->slots[j].tid == b->slots[i].tid &&
                (b->slots[j].run_wait_ns > b->slots[i].run_wait_ns ||
                 (b->slots[j].run_wait_ns == b->slots[i].run_wait_ns && j < i)))
                latest = false;
        if (latest)
            sum += b->slots[i].run_wait_ns;
    }
    return sum;
}

static int run_pass(struct bench *b, bool pool, struct pass *out)
{
    for (size_t i = 0; i < b->n; i++) {
        memset(&b->slots[i].res, 0, sizeof(b->slots[i].res));
        b->slots[i].res.status = -EINPROGRESS;
        b->slots[i].tid = 0;
        b->slots[i].run_wait_ns = -1;
    }
    long sw0, sw1, pf0, pf1;
    double cpu0 = process_cpu_s(&sw0, &pf0);
    int64_t others0 = bench_others_cpu_ns();
    int64_t wait0 = thread_run_wait_ns();
    int64_t t0 = bench_now_ns();
    int rc = pool ? run_pool(b) : (run_serial(b), 0);
    out->wall_s = (double)(bench_now_ns() - t0) / 1e9;
    int64_t wait = pool ? pool_run_wait_ns(b) : thread_run_wait_ns() - wait0;
    out->run_wait_s = wait0 < 0 ? -1 : (double)wait / 1e9;
    out->others_s = (double)(bench_others_cpu_ns() - others0) / 1e9;
    out->cpu_s = process_cpu_s(&sw1, &pf1) - cpu0;
    out->preempted = sw1 - sw0;
    out->faults = pf1 - pf0;
    out->failed = check_outputs(b);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void usage(FILE *fp)
{
    fprintf(fp, "usage: pool_speedup [--threads N] [--rounds R] [--format F] --out-dir DIR "
                "INPUT.mjr...\n"
                "Converts every INPUT one after another, then with a pool of N workers (2),\n"
                "R times each (15), alternating; prints the walls and their ratio.\n");
}

static void print_pass(unsigned round, const char *what, const struct pass *p)
{
    char others[32];
    /* Processes that exit during the pass take their CPU time with them: then it is unknown. */
    if (p->others_s >= 0)
        snprintf(others, sizeof(others), "%6.2f s", p->others_s);
    else
        snprintf(others, sizeof(others), "%8s", "-");
    printf("round %-2u %-6s wall %6.3f s  CPU %6.3f s = %.2f CPUs  waited for a CPU %6.3f s  "
           "preempted %3ld  page faults %6ld  others' CPU %s%s\n",
           round, what, p->wall_s, p->cpu_s, p->wall_s > 0 ? p->cpu_s / p->wall_s : 0,
           p->run_wait_s, p->preempted, p->faults, others, p->failed ? "  FAILED JOBS" : "");
}

static bool pass_quiet(const struct pass *p)
{
    return p->run_wait_s >= 0 && p->run_wait_s < QUIET_WAIT * p->wall_s;
}

/* Prints the speedup of the medians over `n` rounds and the verdict. */
static void print_speedup(const char *what, double *serial, double *pooled, size_t n,
                          unsigned threads)
{
    double ms = median(serial, n), mp = median(pooled, n);
    double ratio = mp > 0 ? ms / mp : 0;
    printf("%s: serial %.3f s, pool(%u) %.3f s; speedup %.2fx  (target >= %.1fx: %s)\n", what, ms,
           threads, mp, ratio, TARGET_RATIO, ratio >= TARGET_RATIO ? "PASS" : "MISS");
}

static int run_rounds(struct bench *b, unsigned rounds)
{
    double serial[MAX_ROUNDS], pooled[MAX_ROUNDS], qserial[MAX_ROUNDS], qpooled[MAX_ROUNDS];
    size_t failed = 0, quiet = 0;
    for (unsigned r = 0; r < rounds; r++) {
        struct pass ps, pp;
        bool pool_first = r % 2 == 1;
        int rc = pool_first ? run_pass(b, true, &pp) : run_pass(b, false, &ps);
        if (rc == 0)
            rc = pool_first ? run_pass(b, false, &ps) : run_pass(b, true, &pp);
        if (rc < 0) {
            fprintf(stderr, "pool_speedup: cannot create the pool: %s\n", strerror(-rc));
            return 1;
        }
        print_pass(r + 1, "serial", &ps);
        print_pass(r + 1, "pool", &pp);
        fflush(stdout);
        serial[r] = ps.wall_s;
        pooled[r] = pp.wall_s;
        if (pass_quiet(&ps) && pass_quiet(&pp)) {
            qserial[quiet] = ps.wall_s;
            qpooled[quiet++] = pp.wall_s;
        }
        failed += ps.failed + pp.failed;
    }
    print_speedup("median wall, all rounds", serial, pooled, rounds, b->threads);
    printf("quiet rounds (neither pass waited for a CPU %.0f%% of its wall or more): %zu of %u\n",
           QUIET_WAIT * 100, quiet, rounds);
    if (quiet > 0)
        print_speedup("median wall, quiet rounds", qserial, qpooled, quiet, b->threads);
    if (failed) {
        printf("%zu job(s) failed\n", failed);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"threads", required_argument, NULL, 't'}, {"rounds", required_argument, NULL, 'r'},
        {"format", required_argument, NULL, 'f'},  {"out-dir", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    unsigned long threads = 2, rounds = 15;
    const char *format = "webm", *dir = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "t:r:f:o:h", longopts, NULL)) != -1) {
        char *end = NULL;
        if (c == 't')
            threads = strtoul(optarg, &end, 10);
        else if (c == 'r')
            rounds = strtoul(optarg, &end, 10);
        else if (c == 'f')
            format = optarg;
        else if (c == 'o')
            dir = optarg;
        else {
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
        if (end && (*end || (c == 't' && (threads == 0 || threads > 64)) ||
                    (c == 'r' && (rounds == 0 || rounds > MAX_ROUNDS)))) {
            usage(stderr);
            return 2;
        }
    }
    if (!dir || optind >= argc) {
        usage(stderr);
        return 2;
    }
    struct bench b = {.n = (size_t)(argc - optind), .threads = (unsigned)threads};
    b.slots = xcalloc(b.n, sizeof(*b.slots));
    for (size_t i = 0; i < b.n; i++) {
        b.slots[i].input = argv[optind + (int)i];
        size_t len = strlen(dir) + strlen(format) + 32;
        b.slots[i].output = xmalloc(len);
        snprintf(b.slots[i].output, len, "%s/pool-%zu.%s", dir, i, format);
    }
    printf("pool_speedup: %zu files, serial on one thread vs tc_pool with %u workers, %lu "
           "round(s); %ld CPUs online\n",
           b.n, b.threads, rounds, sysconf(_SC_NPROCESSORS_ONLN));
    int rc = run_rounds(&b, (unsigned)rounds);
    for (size_t i = 0; i < b.n; i++)
        free(b.slots[i].output);
    free(b.slots);
    return rc;
}
