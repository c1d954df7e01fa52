/* This file implements the tests of the conversion worker pool (transcode/pool.c): many jobs
 * on few workers, a failing job among good ones, cancellation of queued and running jobs,
 * destruction with jobs still queued, and unknown ids.
 *
 * Inputs are the real Janus recordings of tests/fixtures/vp8-opus-1pub, plus a long synthetic
 * Opus recording written here (20,000 packets) so that a job reports progress (every 2000
 * frames) and can be held at a "gate" inside its progress callback while the test acts. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bytes.h"
#include "tests/test.h"
#include "transcode/transcode.h"

#define FIXTURE_DIR VB_SOURCE_DIR "/tests/fixtures/vp8-opus-1pub"
#define MAX_JOBS 16
#define LONG_FRAMES 20000

/* A progress callback that blocks until the test opens it. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool entered, open;
    unsigned calls;
    struct tc_progress last;
};

struct job_ctx {
    struct rec *rec;
    int idx;
    struct gate *gate;     /* block in progress(); NULL: no progress callback */
    struct gate *opens;    /* done() opens this gate; may be NULL */
    const char *inputs[1]; /* what job.inputs points at, alive until done() */
    char out[PATH_MAX];
    int64_t id;
};

/* What the done() callbacks saw, per job. */
struct rec {
    pthread_mutex_t mu;
    int calls[MAX_JOBS];
    int status[MAX_JOBS];
    char error[MAX_JOBS][256];
    struct job_ctx jobs[MAX_JOBS];
    int n;
};

struct env {
    char dir[64];
    char audio[PATH_MAX], video[PATH_MAX];
    char long_opus[PATH_MAX], bad[PATH_MAX];
};

static void gate_init(struct gate *g)
{
    memset(g, 0, sizeof(*g));
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
}

static void gate_free(struct gate *g)
{
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void gate_wait_entered(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    while (!g->entered)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void on_progress(void *ud, const struct tc_progress *p)
{
    struct gate *g = ((struct job_ctx *)ud)->gate;
    pthread_mutex_lock(&g->mu);
    g->calls++;
    g->last = *p;
    g->entered = true;
    pthread_cond_broadcast(&g->cv);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void on_done(void *ud, const struct tc_result *res)
{
    struct job_ctx *c = ud;
    struct rec *r = c->rec;
    pthread_mutex_lock(&r->mu);
    r->calls[c->idx]++;
    r->status[c->idx] = res->status;
    snprintf(r->error[c->idx], sizeof(r->error[c->idx]), "%s", res->error);
    pthread_mutex_unlock(&r->mu);
    if (c->opens)
        gate_open(c->opens);
}

static void rec_init(struct rec *r)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->mu, NULL);
}

static int rec_calls(struct rec *r, int idx)
{
    pthread_mutex_lock(&r->mu);
    int n = r->calls[idx];
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* Submits `input` -> dir/name; returns the job's index in `r`. */
static int submit(struct tc_pool *p, struct rec *r, const struct env *e, const char *input,
                  const char *name, struct gate *gate)
{
    ASSERT_LT(r->n, MAX_JOBS);
    int idx = r->n++;
    struct job_ctx *c = &r->jobs[idx];
    c->rec = r;
    c->idx = idx;
    c->gate = gate;
    c->inputs[0] = input;
    snprintf(c->out, sizeof(c->out), "%s/%s", e->dir, name);
    struct tc_pool_job j = {.done = on_done, .progress = gate ? on_progress : NULL, .ud = c};
    j.job.inputs = c->inputs;
    j.job.n_inputs = 1;
    j.job.output = c->out;
    tc_options_default(&j.job.opts);
    c->id = tc_pool_submit(p, &j);
    ASSERT_GT(c->id, 0);
    return idx;
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* The job wrote its output, starting with the container's magic, and no temporary file. */
static void check_output(const struct job_ctx *c)
{
    char part[PATH_MAX + 8];
    snprintf(part, sizeof(part), "%s.part", c->out);
    ASSERT(!file_exists(part));
    FILE *fp = fopen(c->out, "rb");
    ASSERT(fp != NULL);
    uint8_t magic[4] = {0};
    ASSERT_EQ(fread(magic, 1, 4, fp), 4);
    fclose(fp);
    const char *ext = strrchr(c->out, '.');
    if (strcmp(ext, ".opus") == 0)
        ASSERT_MEMEQ(magic, "OggS", 4);
    else
        ASSERT_MEMEQ(magic, "\x1a\x45\xdf\xa3", 4); /* EBML (WebM) */
}

static void check_no_output(const struct job_ctx *c)
{
    char part[PATH_MAX + 8];
    snprintf(part, sizeof(part), "%s.part", c->out);
    ASSERT(!file_exists(c->out));
    ASSERT(!file_exists(part));
}

static void check_cancelled(struct rec *r, int idx)
{
    ASSERT_EQ(r->calls[idx], 1);
    ASSERT_EQ(r->status[idx], -ECANCELED);
    ASSERT_STREQ(r->error[idx], "cancelled");
    check_no_output(&r->jobs[idx]);
}

static void check_ok(struct rec *r, int idx)
{
    if (r->status[idx] != 0)
        fprintf(stderr, "job %d: %s\n", idx, r->error[idx]);
    ASSERT_EQ(r->calls[idx], 1);
    ASSERT_EQ(r->status[idx], 0);
    check_output(&r->jobs[idx]);
}

/* A valid MJR00002 Opus recording of LONG_FRAMES 20 ms packets. */
static void write_long_opus(const char *path)
{
    FILE *fp = fopen(path, "wb");
    ASSERT(fp != NULL);
    static const char json[] = "{\"t\": \"a\", \"c\": \"opus\", \"s\": 1, \"u\": 1}";
    uint8_t len[2];
    wr_u16(len, (uint16_t)(sizeof(json) - 1));
    ASSERT_EQ(fwrite("MJR00002", 1, 8, fp), 8);
    ASSERT_EQ(fwrite(len, 1, 2, fp), 2);
    ASSERT_EQ(fwrite(json, 1, sizeof(json) - 1, fp), sizeof(json) - 1);
    for (uint32_t i = 0; i < LONG_FRAMES; i++) {
        uint8_t f[10 + 16] = {'M', 'E', 'E', 'T'};
        wr_u32(f + 4, i * 20);
        wr_u16(f + 8, 16);
        uint8_t *rtp = f + 10;
        rtp[0] = 0x80;
        rtp[1] = 111;
        wr_u16(rtp + 2, (uint16_t)(i + 1));
        wr_u32(rtp + 4, i * 960);
        wr_u32(rtp + 8, 0x5eed1234);
        memcpy(rtp + 12, "\xf8\x01\x02\x03", 4); /* CELT FB 20 ms, one frame */
        ASSERT_EQ(fwrite(f, 1, sizeof(f), fp), sizeof(f));
    }
    ASSERT_EQ(fclose(fp), 0);
}

static void env_setup(struct env *e)
{
    memset(e, 0, sizeof(*e));
    DIR *d = opendir(FIXTURE_DIR);
    ASSERT(d != NULL);
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 4 || strcmp(de->d_name + n - 4, ".mjr") != 0)
            continue;
        char *dst = strstr(de->d_name, "-audio-")   ? e->audio
                    : strstr(de->d_name, "-video-") ? e->video
                                                    : NULL;
        if (dst)
            snprintf(dst, PATH_MAX, "%s/%s", FIXTURE_DIR, de->d_name);
    }
    closedir(d);
    ASSERT(e->audio[0] && e->video[0]);
    snprintf(e->dir, sizeof(e->dir), "/tmp/vb-test-pool-XXXXXX");
    ASSERT(mkdtemp(e->dir) != NULL);
    snprintf(e->long_opus, sizeof(e->long_opus), "%s/long.mjr", e->dir);
    write_long_opus(e->long_opus);
    snprintf(e->bad, sizeof(e->bad), "%s/bad.mjr", e->dir);
    FILE *fp = fopen(e->bad, "wb");
    ASSERT(fp != NULL);
    fputs("this is a text file, not a Janus recording\n", fp);
    ASSERT_EQ(fclose(fp), 0);
}

static void env_cleanup(struct env *e)
{
    DIR *d = opendir(e->dir);
    ASSERT(d != NULL);
    struct dirent *de;
    char path[PATH_MAX];
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", e->dir, de->d_name);
        ASSERT_EQ(unlink(path), 0);
    }
    closedir(d);
    ASSERT_EQ(rmdir(e->dir), 0);
}

static void rec_free(struct rec *r)
{
    pthread_mutex_destroy(&r->mu);
}

/* Two workers, eight jobs: each done() once with status 0, each output complete. */
static void test_many_jobs(void)
{
    struct env e;
    struct rec r;
    env_setup(&e);
    rec_init(&r);
    struct tc_pool *p;
    ASSERT_EQ(tc_pool_create(2, &p), 0);
    for (int i = 0; i < 8; i++) {
        char name[32];
        snprintf(name, sizeof(name), i % 2 ? "v%d.webm" : "a%d.opus", i);
        int idx = submit(p, &r, &e, i % 2 ? e.video : e.audio, name, NULL);
        ASSERT_EQ(r.jobs[idx].id, i + 1); /* ids increase from 1 */
    }
    tc_pool_wait(p);
    for (int i = 0; i < 8; i++)
        check_ok(&r, i);
    /* Waiting on an idle pool returns at once; the pool still takes work. */
    tc_pool_wait(p);
    int idx = submit(p, &r, &e, e.audio, "again.opus", NULL);
    ASSERT_EQ(r.jobs[idx].id, 9);
    tc_pool_wait(p);
    check_ok(&r, idx);
    tc_pool_destroy(p);
    for (int i = 0; i < r.n; i++)
        ASSERT_EQ(r.calls[i], 1);
    rec_free(&r);
    env_cleanup(&e);
}

/* A job whose input is not an MJR file fails alone; the others succeed. */
static void test_bad_input(void)
{
    struct env e;
    struct rec r;
    env_setup(&e);
    rec_init(&r);
    struct tc_pool *p;
    ASSERT_EQ(tc_pool_create(2, &p), 0);
    submit(p, &r, &e, e.audio, "a0.opus", NULL);
    int bad = submit(p, &r, &e, e.bad, "bad.opus", NULL);
    submit(p, &r, &e, e.video, "v2.webm", NULL);
    submit(p, &r, &e, e.audio, "a3.opus", NULL);
    tc_pool_wait(p);
    ASSERT_EQ(r.calls[bad], 1);
    ASSERT_LT(r.status[bad], 0);
    ASSERT_NE(r.status[bad], -ECANCELED);
    ASSERT(r.error[bad][0] != '\0');
    fprintf(stderr, "bad input: %s (%d)\n", r.error[bad], r.status[bad]);
    check_no_output(&r.jobs[bad]);
    for (int i = 0; i < r.n; i++)
        if (i != bad)
            check_ok(&r, i);
    tc_pool_destroy(p);
    rec_free(&r);
    env_cleanup(&e);
}

/* One worker held inside a long job; queued jobs cancelled (the last one and one in the
 * middle) end at once with -ECANCELED and never write anything; the rest run. */
static void test_cancel_queued(void)
{
    struct env e;
    struct rec r;
    struct gate g;
    env_setup(&e);
    rec_init(&r);
    gate_init(&g);
    struct tc_pool *p;
    ASSERT_EQ(tc_pool_create(1, &p), 0);
    submit(p, &r, &e, e.long_opus, "long.opus", &g);
    for (int i = 1; i <= 5; i++) {
        char name[32];
        snprintf(name, sizeof(name), "a%d.opus", i);
        submit(p, &r, &e, e.audio, name, NULL);
    }
    gate_wait_entered(&g); /* the worker is inside job 0: jobs 1-5 are queued */
    ASSERT_EQ(tc_pool_cancel(p, r.jobs[5].id), 0);
    /* Documented: a queued job's done() runs inside tc_pool_cancel(). */
    ASSERT_EQ(rec_calls(&r, 5), 1);
    ASSERT_EQ(tc_pool_cancel(p, r.jobs[3].id), 0);
    ASSERT_EQ(rec_calls(&r, 3), 1);
    ASSERT_EQ(tc_pool_cancel(p, r.jobs[5].id), -ENOENT); /* already finished */
    gate_open(&g);
    tc_pool_wait(p);
    check_ok(&r, 0);
    check_ok(&r, 1);
    check_ok(&r, 2);
    check_cancelled(&r, 3);
    check_ok(&r, 4);
    check_cancelled(&r, 5);
    tc_pool_destroy(p);
    gate_free(&g);
    rec_free(&r);
    env_cleanup(&e);
}

/* A running job cancelled while its progress callback is held ends with -ECANCELED and
 * leaves no file; the job on the other worker is not affected. */
static void test_cancel_running(void)
{
    struct env e;
    struct rec r;
    struct gate g;
    env_setup(&e);
    rec_init(&r);
    gate_init(&g);
    struct tc_pool *p;
    ASSERT_EQ(tc_pool_create(2, &p), 0);
    int run = submit(p, &r, &e, e.long_opus, "long.opus", &g);
    int other = submit(p, &r, &e, e.video, "v.webm", NULL);
    gate_wait_entered(&g);
    ASSERT_EQ(tc_pool_cancel(p, r.jobs[run].id), 0);
    ASSERT_EQ(rec_calls(&r, run), 0); /* still running until its callback returns */
    gate_open(&g);
    tc_pool_wait(p);
    check_cancelled(&r, run);
    check_ok(&r, other);
    /* The progress seen before the cancel was real. */
    ASSERT_EQ(g.calls, 1);
    ASSERT_GT(g.last.packets, 0);
    ASSERT(g.last.fraction > 0 && g.last.fraction < 1);
    ASSERT_EQ(tc_pool_cancel(p, r.jobs[run].id), -ENOENT);
    tc_pool_destroy(p);
    gate_free(&g);
    rec_free(&r);
    env_cleanup(&e);
}

/* Destroy with jobs queued behind a running one: the queued ones end with -ECANCELED (their
 * done() opens the gate, so this also shows they end before destroy waits for the running
 * job), and the running one completes. */
static void test_destroy_queued(void)
{
    struct env e;
    struct rec r;
    struct gate g;
    env_setup(&e);
    rec_init(&r);
    gate_init(&g);
    struct tc_pool *p;
    ASSERT_EQ(tc_pool_create(1, &p), 0);
    int run = submit(p, &r, &e, e.long_opus, "long.opus", &g);
    for (int i = 1; i <= 3; i++) {
        char name[32];
        snprintf(name, sizeof(name), "v%d.webm", i);
        int idx = submit(p, &r, &e, e.video, name, NULL);
        r.jobs[idx].opens = &g;
    }
    gate_wait_entered(&g);
    tc_pool_destroy(p);
    check_ok(&r, run);
    ASSERT_EQ(g.calls, LONG_FRAMES / 2000);
    for (int i = 1; i <= 3; i++)
        check_cancelled(&r, i);
    gate_free(&g);
    rec_free(&r);
    env_cleanup(&e);
}

/* Ids never given, an idle pool sized by the CPU count, and absurd sizes refused. */
static void test_unknown_id(void)
{
    struct tc_pool *p = (struct tc_pool *)&p;
    ASSERT_EQ(tc_pool_create(1u << 20, &p), -EINVAL);
    ASSERT(p == NULL);
    ASSERT_EQ(tc_pool_create(0, &p), 0);
    ASSERT(p != NULL);
    ASSERT_EQ(tc_pool_cancel(p, 1), -ENOENT);
    ASSERT_EQ(tc_pool_cancel(p, 12345), -ENOENT);
    ASSERT_EQ(tc_pool_cancel(p, 0), -ENOENT);
    ASSERT_EQ(tc_pool_cancel(p, -1), -ENOENT);
    tc_pool_wait(p);
    tc_pool_destroy(p);
    tc_pool_destroy(NULL);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"many_jobs", test_many_jobs},
        {"bad_input", test_bad_input},
        {"cancel_queued", test_cancel_queued},
        {"cancel_running", test_cancel_running},
        {"destroy_queued", test_destroy_queued},
        {"unknown_id", test_unknown_id},
        {NULL, NULL},
    };
    alarm(120); /* a pool that never calls done() would otherwise hang the test */
    return test_main(cases, argc, argv);
}
