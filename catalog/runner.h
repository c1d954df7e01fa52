/* catalog/runner.h — transcode workers that take their jobs from the catalog.
 *
 * With auto_jobs, the first worker also asks the catalog every 2 s to create the automatic
 * conversion job of every participant whose recordings are all finished.
 *
 * Each worker thread claims the oldest queued job with a lease (a job whose worker died is
 * claimed again once its lease runs out), converts its recordings with transcode_job_run()
 * into DATA/outputs/<job id>/, extends the lease with every progress report (and stops when
 * the catalog says the job was cancelled), hashes the output and records it.
 *
 * Ownership: the runner borrows the catalog (which must outlive it). Thread-safety:
 * start/stop from one control thread. */
#ifndef VB_CATALOG_RUNNER_H
#define VB_CATALOG_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog/catalog.h"
#include "common/log.h"

struct catalog_runner;

struct catalog_runner_config {
    struct catalog *catalog; /* borrowed */
    const char *data_dir;    /* inputs are relative to it; outputs go to DATA/outputs/ */
    unsigned workers;        /* 0 = the number of online CPUs */
    int64_t lease_ms;        /* 0 = 30,000 */
    const char *name;        /* worker name prefix in the catalog; NULL = "verbatim" */
    bool auto_jobs; /* create the automatic job of each participant whose recordings are all
                       finished (catalog_jobs_auto), checked every 2 s */
    const struct vb_log *log; /* borrowed; may be NULL */
};

/* Starts the workers. 0 or -errno. */
int catalog_runner_start(const struct catalog_runner_config *cfg, struct catalog_runner **out);

/* Stops the workers: a job being converted is abandoned (its lease lets another worker
 * retry it later). NULL is a no-op. */
void catalog_runner_stop(struct catalog_runner *r);

#endif
