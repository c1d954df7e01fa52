/* bench/bench_util.h — measuring helpers shared by the benchmarks (header only).
 *
 * bench/CMakeLists.txt builds every .c file of bench/ as its own program, so what several programs
 * share lives here as static inline functions: clocks, a log-linear latency histogram that
 * never allocates once created, CPU time of threads found by name under /proc,
 * other processes' CPU, /proc/meminfo counters and on-disk sizes of files.
 *
 * DESIGN: the histogram keeps 32 linear sub-buckets per power of two (about 3% relative
 * resolution) over the whole uint64_t range, in one flat array of counters: recording a value
 * is a count-leading-zeros, a shift and an increment, so it can sit in a producer's hot loop.
 * A quantile is reported as the upper bound of the bucket it falls in, capped at the exact
 * maximum, so the numbers err on the pessimistic side. Nothing here is thread-safe: each
 * thread owns its histograms, and the main thread merges them after joining the threads. */
#ifndef VB_BENCH_UTIL_H
#define VB_BENCH_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BENCH_HIST_SUB_BITS 5
#define BENCH_HIST_SUB (1u << BENCH_HIST_SUB_BITS)
#define BENCH_HIST_BUCKETS ((64 - BENCH_HIST_SUB_BITS + 1) * BENCH_HIST_SUB)

/* A histogram of nanosecond values. Owned by one thread; create with calloc (all zero). */
struct bench_hist {
    uint64_t count;
    uint64_t max;
    uint64_t sum;
    uint64_t buckets[BENCH_HIST_BUCKETS];
};

static inline int64_t bench_clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* CLOCK_MONOTONIC in ns: a vDSO call, about 30 ns on the reference machine. */
static inline int64_t bench_now_ns(void)
{
    return bench_clock_ns(CLOCK_MONOTONIC);
}

/* CPU time of the calling thread in ns: a real system call (hundreds of ns), so never per
 * packet. */
static inline int64_t bench_thread_cpu_ns(void)
{
    return bench_clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static inline unsigned bench_hist_index(uint64_t v)
{
    if (v < BENCH_HIST_SUB)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* e >= BENCH_HIST_SUB_BITS */
    unsigned shift = e - BENCH_HIST_SUB_BITS;
    unsigned sub = (unsigned)(v >> shift) & (BENCH_HIST_SUB - 1);
    return (shift + 1) * BENCH_HIST_SUB + sub;
}

/* Largest value that falls in bucket `i`. */
static inline uint64_t bench_hist_bucket_high(unsigned i)
{
    if (i < BENCH_HIST_SUB)
        return i;
    unsigned shift = i / BENCH_HIST_SUB - 1;
    uint64_t low = (uint64_t)(BENCH_HIST_SUB + i % BENCH_HIST_SUB) << shift;
    return low + ((uint64_t)1 << shift) - 1;
}

static inline void bench_hist_add(struct bench_hist *h, uint64_t v)
{
    h->buckets[bench_hist_index(v)]++;
    h->count++;
    h->sum += v;
    if (v > h->max)
        h->max = v;
}

static inline void bench_hist_merge(struct bench_hist *into, const struct bench_hist *from)
{
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++)
        into->buckets[i] += from->buckets[i];
    into->count += from->count;
    into->sum += from->sum;
    if (from->max > into->max)
        into->max = from->max;
}

/* The value below which a fraction `q` (0..1) of the samples lie; 0 for an empty histogram. */
static inline uint64_t bench_hist_quantile(const struct bench_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->count);
    if ((double)rank < q * (double)h->count)
        rank++;
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t high = bench_hist_bucket_high(i);
            return high < h->max ? high : h->max;
        }
    }
    return h->max;
}

/* Reads a small text file into `buf` (NUL-terminated). Returns bytes read or -errno. */
static inline ssize_t bench_read_small(const char *path, char *buf, size_t cap)
{
    FILE *fp = fopen(path, "re");
    if (!fp)
        return -errno;
    size_t n = fread(buf, 1, cap - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return (ssize_t)n;
}

/* utime + stime in ns from a /proc stat file (a process or a thread), and its name into
 * `comm` (cap bytes); -1 when the file is gone. The name may hold spaces or parentheses, so
 * the numbers are read after its last ')'. */
static inline int64_t bench_stat_cpu_ns(const char *path, char *comm, size_t cap)
{
    char buf[1024];
    if (bench_read_small(path, buf, sizeof(buf)) <= 0)
        return -1;
    char *lp = strchr(buf, '('), *rp = strrchr(buf, ')');
    if (!lp || !rp || rp < lp)
        return -1;
    size_t n = (size_t)(rp - lp - 1);
    n = n < cap - 1 ? n : cap - 1;
    memcpy(comm, lp + 1, n);
    comm[n] = '\0';
    /* After ')': state is field 3; utime and stime are fields 14 and 15. */
    unsigned long long utime = 0, stime = 0;
    int field = 2;
    for (char *save = NULL, *tok = strtok_r(rp + 1, " ", &save); tok;
         tok = strtok_r(NULL, " ", &save)) {
        field++;
        if (field == 14)
            utime = strtoull(tok, NULL, 10);
        if (field == 15) {
            stime = strtoull(tok, NULL, 10);
            break;
        }
    }
    long tck = sysconf(_SC_CLK_TCK);
    if (tck <= 0)
        tck = 100;
    return (int64_t)((utime + stime) * (1000000000ull / (unsigned long long)tck));
}

static inline bool bench_has_prefix(const char *s, const char *prefix)
{
    return prefix && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Sums the CPU time (ns, clock-tick resolution) of the entries of `dir` ("/proc/self/task"
 * for this process's threads, "/proc" for every process) whose name starts with `prefix` or
 * `prefix2` (may be NULL) but not with `exclude` (may be NULL). The count matched goes to
 * *n (may be NULL). What already exited is not counted: call it while the threads live. */
static inline int64_t bench_named_cpu_ns(const char *dir, const char *prefix, const char *prefix2,
                                         const char *exclude, unsigned *n)
{
    DIR *d = opendir(dir);
    int64_t total = 0;
    unsigned count = 0;
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] < '0' || de->d_name[0] > '9')
                continue;
            char path[320], comm[64];
            snprintf(path, sizeof(path), "%s/%s/stat", dir, de->d_name);
            int64_t ns = bench_stat_cpu_ns(path, comm, sizeof(comm));
            if (ns < 0 || bench_has_prefix(comm, exclude) ||
                !(bench_has_prefix(comm, prefix) || bench_has_prefix(comm, prefix2)))
                continue;
            total += ns;
            count++;
        }
        closedir(d);
    }
    if (n)
        *n = count;
    return total;
}

/* This process's threads named prefix* (but not exclude*). */
static inline int64_t bench_threads_cpu_ns(const char *prefix, const char *exclude,
                                           unsigned *nthreads)
{
    return bench_named_cpu_ns("/proc/self/task", prefix, NULL, exclude, nthreads);
}

/* The kernel threads that write back page cache and commit ext4's journal (kworker*, jbd2*):
 * the disk work buffered writers leave to the kernel. Includes whatever else they do. */
static inline int64_t bench_flusher_cpu_ns(void)
{
    return bench_named_cpu_ns("/proc", "kworker", "jbd2", NULL, NULL);
}

/* CPU time (ns) of every process on the machine but this one, from /proc/<pid>/stat (whole
 * thread groups; the kernel scales these from its precise runtime, whereas the machine-wide
 * /proc/stat is tick-sampled and proved unreliable in VMs). Processes that exit in between
 * two calls take their time with them. */
static inline int64_t bench_others_cpu_ns(void)
{
    DIR *d = opendir("/proc");
    int64_t total = 0;
    long self = (long)getpid();
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9' || strtol(de->d_name, NULL, 10) == self)
            continue;
        char path[320], comm[64];
        snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
        int64_t ns = bench_stat_cpu_ns(path, comm, sizeof(comm));
        if (ns > 0)
            total += ns;
    }
    closedir(d);
    return total;
}

/* A /proc/meminfo counter in KiB ("Dirty", "Writeback", ...); 0 when absent. */
static inline uint64_t bench_meminfo_kib(const char *key)
{
    char buf[8192];
    if (bench_read_small("/proc/meminfo", buf, sizeof(buf)) <= 0)
        return 0;
    size_t klen = strlen(key);
    const char *line = buf;
    while (line && *line) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':')
            return strtoull(line + klen + 1, NULL, 10);
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return 0;
}

/* Adds the logical size and the allocated bytes (st_blocks * 512) of `path`. Returns 0 or
 * -errno. */
static inline int bench_file_usage(const char *path, uint64_t *size, uint64_t *alloc)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -errno;
    *size += (uint64_t)st.st_size;
    *alloc += (uint64_t)st.st_blocks * 512;
    return 0;
}

/* xorshift64*: a fast deterministic generator for packet sizes and payload bytes. */
static inline uint64_t bench_rand_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

#endif
