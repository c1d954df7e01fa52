/* This file implements the catalog's transcode workers (see runner.h).
 *
 * DESIGN: N threads, each a loop of claim → convert → record. An idle worker polls for a job
 * twice a second (a condition variable wait that stop() interrupts), so no separate
 * dispatcher is needed and one failing job never touches another worker. The conversion
 * writes under a temporary name (transcode's rule), so a stopped or crashed worker leaves no
 * half output under a final name; the job's lease expires and another worker retries it. */
#include "catalog/runner.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/sha256.h"
#include "common/xalloc.h"
#include "transcode/transcode.h"

#define RUNNER_IDLE_MS 500
#define RUNNER_AUTO_US 2000000 /* between two catalog_jobs_auto() */

struct runner_worker {
    struct catalog_runner *r;
    pthread_t thread;
    char name[96];
};

struct catalog_runner {
    struct catalog_runner_config cfg;
    struct runner_worker *workers;
    unsigned n;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    atomic_bool stop;
};

struct progress_ctx {
    struct runner_worker *w;
    int64_t job;
    bool lost; /* the catalog took the job away (cancelled or lease lost) */
};

static bool on_progress(void *ud, const struct tc_progress *p)
{
    struct progress_ctx *pc = ud;
    struct catalog_runner *r = pc->w->r;
    if (atomic_load(&r->stop))
        return false;
    if (catalog_job_progress(r->cfg.catalog, pc->job, pc->w->name, p->fraction, r->cfg.lease_ms) ==
        -ESTALE) {
        pc->lost = true;
        return false;
    }
    return true;
}

/* DATA/outputs/<id>/<first input's name without .mjr>.<format>, and its relative form.
 * -ENAMETOOLONG if either does not fit. */
static int output_paths(const struct catalog_runner *r, const struct catalog_job *job, char *rel,
                        size_t rel_len, char *abs, size_t abs_len)
{
    char stem[256];
    const char *base = strrchr(job->inputs[0], '/');
    int n = snprintf(stem, sizeof(stem), "%s", base ? base + 1 : job->inputs[0]);
    if (n < 0 || (size_t)n >= sizeof(stem))
        return -ENAMETOOLONG;
    char *dot = strrchr(stem, '.');
    if (dot && strcmp(dot, ".mjr") == 0)
        *dot = '\0';
    n = snprintf(rel, rel_len, "outputs/%lld/%s%s.%s", (long long)job->id, stem,
                 job->n_inputs > 1 ? "-merged" : "", job->format);
    if (n < 0 || (size_t)n >= rel_len)
        return -ENAMETOOLONG;
    n = snprintf(abs, abs_len, "%s/%s", r->cfg.data_dir, rel);
    return n < 0 || (size_t)n >= abs_len ? -ENAMETOOLONG : 0;
}

static void run_job(struct runner_worker *w, struct catalog_job *job)
{
    struct catalog_runner *r = w->r;
    char **inputs = xcalloc(job->n_inputs, sizeof(*inputs));
    for (size_t i = 0; i < job->n_inputs; i++) {
        size_t n = strlen(r->cfg.data_dir) + strlen(job->inputs[i]) + 2;
        inputs[i] = xmalloc(n);
        snprintf(inputs[i], n, "%s/%s", r->cfg.data_dir, job->inputs[i]);
    }
    char rel[1024], abs[4096];
    int prc = output_paths(r, job, rel, sizeof(rel), abs, sizeof(abs));
    struct tc_job tj = {
        .inputs = (const char *const *)inputs, .n_inputs = job->n_inputs, .output = abs};
    tc_options_default(&tj.opts);
    tj.opts.format = job->format;
    struct progress_ctx pc = {.w = w, .job = job->id};
    struct tc_result res = {0};
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/outputs/%lld", r->cfg.data_dir, (long long)job->id);
    int rc = prc < 0 ? prc : vb_mkdir_p(dir, 0750);
    if (rc == 0)
        rc = transcode_job_run(&tj, on_progress, &pc, &res);
    else if (snprintf(res.error, sizeof(res.error), "cannot create the output folder: %s",
                      strerror(-rc)) < 0)
        res.error[0] = '\0';
    if (rc == -ECANCELED && (pc.lost || atomic_load(&r->stop))) {
        vb_log_info(r->cfg.log, "job %lld: %s", (long long)job->id,
                    pc.lost ? "cancelled" : "abandoned at shutdown (will be retried)");
    } else if (rc < 0) {
        vb_log_warn(r->cfg.log, "job %lld failed: %s", (long long)job->id, res.error);
        catalog_job_finish(r->cfg.catalog, job->id, w->name, rc, res.error, NULL, 0);
    } else {
        struct catalog_output out = {.path = rel, .format = job->format};
        double longest = 0;
        for (size_t i = 0; i < res.n_tracks && i < TC_MAX_INPUTS; i++) {
            double d = (double)(res.tracks[i].start_us + res.tracks[i].duration_us) / 1e6;
            if (d > longest)
                longest = d;
        }
        out.duration_s = longest;
        rc = vb_sha256_file(abs, out.sha256, &out.size);
        if (rc < 0)
            catalog_job_finish(r->cfg.catalog, job->id, w->name, rc, "cannot hash the output", NULL,
                               0);
        else if (catalog_job_finish(r->cfg.catalog, job->id, w->name, 0, NULL, &out, 1) == 0)
            vb_log_info(r->cfg.log, "job %lld done: %s", (long long)job->id, rel);
    }
    for (size_t i = 0; i < job->n_inputs; i++)
        free(inputs[i]);
    free(inputs);
}

static void idle_wait(struct catalog_runner *r)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += RUNNER_IDLE_MS * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->lock);
    if (!atomic_load(&r->stop))
        pthread_cond_timedwait(&r->cond, &r->lock, &until);
    pthread_mutex_unlock(&r->lock);
}

static void *worker_main(void *arg)
{
    struct runner_worker *w = arg;
    struct catalog_runner *r = w->r;
    bool auto_jobs = r->cfg.auto_jobs && w == &r->workers[0];
    int64_t next_auto = 0;
    while (!atomic_load(&r->stop)) {
        if (auto_jobs && vb_clock_mono_us() >= next_auto) {
            unsigned created = 0;
            int arc = catalog_jobs_auto(r->cfg.catalog, "auto", &created);
            if (arc < 0)
                vb_log_warn(r->cfg.log, "automatic jobs: %s", strerror(-arc));
            else if (created)
                vb_log_info(r->cfg.log, "%u automatic conversion job(s) queued", created);
            next_auto = vb_clock_mono_us() + RUNNER_AUTO_US;
        }
        struct catalog_job job;
        int rc = catalog_job_claim(r->cfg.catalog, w->name, r->cfg.lease_ms, &job);
        if (rc == 1) {
            run_job(w, &job);
            catalog_job_release(&job);
        } else {
            if (rc < 0)
                vb_log_warn(r->cfg.log, "%s: cannot claim a job: %s", w->name, strerror(-rc));
            idle_wait(r);
        }
    }
    return NULL;
}

int catalog_runner_start(const struct catalog_runner_config *cfg, struct catalog_runner **out)
{
    if (!cfg->catalog || !cfg->data_dir)
        return -EINVAL;
    struct catalog_runner *r = xcalloc(1, sizeof(*r));
    r->cfg = *cfg;
    if (!r->cfg.lease_ms)
        r->cfg.lease_ms = 30000;
    r->n = cfg->workers;
    if (r->n == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        r->n = cpus > 0 && cpus < 256 ? (unsigned)cpus : 1;
    }
    pthread_mutex_init(&r->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &ca);
    pthread_condattr_destroy(&ca);
    r->workers = xcalloc(r->n, sizeof(*r->workers));
    char host[64] = "host";
    gethostname(host, sizeof(host) - 1);
    for (unsigned i = 0; i < r->n; i++) {
        struct runner_worker *w = &r->workers[i];
        w->r = r;
        snprintf(w->name, sizeof(w->name), "%s@%s/%d/%u", cfg->name ? cfg->name : "verbatim", host,
                 (int)getpid(), i);
        int rc = pthread_create(&w->thread, NULL, worker_main, w);
        if (rc != 0) {
            r->n = i;
            catalog_runner_stop(r);
            return -rc;
        }
    }
    *out = r;
    return 0;
}

void catalog_runner_stop(struct catalog_runner *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    atomic_store(&r->stop, true);
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    for (unsigned i = 0; i < r->n; i++)
        pthread_join(r->workers[i].thread, NULL);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
    free(r->workers);
    free(r);
}
