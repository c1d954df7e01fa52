/* Tests catalog transcode jobs: create, claim with a lease, progress, finish with outputs,
 * cancel, lease expiry taken over by another worker, retries and max attempts. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/catalog.h"
#include "tests/catalog/catalog_util.h"
#include "tests/test.h"

struct fixture {
    char dir[64];
    char db[128];
    struct catalog *c;
    int64_t rec[3];
};

static void setup(struct fixture *f)
{
    f->c = cat_open_tmp(f->dir, sizeof f->dir, f->db, sizeof f->db, "jobs");
    static const char *const paths[] = {"r/1/a.mjr", "r/1/v.mjr", "r/1/b.mjr"};
    for (int i = 0; i < 3; i++) {
        struct catalog_event ev = {.kind = CATALOG_RECORDING_OPENED,
                                   .room = "1",
                                   .participant = "7",
                                   .kind_name = i == 1 ? "video" : "audio",
                                   .mindex = i,
                                   .path = paths[i]};
        ASSERT_EQ(catalog_post(f->c, &ev), 0);
        ev = (struct catalog_event){.kind = CATALOG_RECORDING_CLOSED, .path = paths[i]};
        ASSERT_EQ(catalog_post(f->c, &ev), 0);
    }
    catalog_flush(f->c);
    json_t *o = NULL;
    ASSERT_EQ(catalog_recordings_query(f->c, NULL, &o), 0);
    for (int i = 0; i < 3; i++)
        f->rec[i] = json_integer_value(
            json_object_get(json_array_get(json_object_get(o, "recordings"), (size_t)i), "id"));
    json_decref(o);
}

static void teardown(struct fixture *f)
{
    catalog_close(f->c);
    cat_rm_tree(f->dir);
}

static int64_t create(struct fixture *f, const int64_t *recs, size_t n, unsigned max_attempts)
{
    struct catalog_job_spec spec = {.recordings = recs,
                                    .n_recordings = n,
                                    .format = "webm",
                                    .requested_by = "tester",
                                    .max_attempts = max_attempts};
    int64_t id = 0;
    ASSERT_EQ(catalog_job_create(f->c, &spec, &id), 0);
    ASSERT_GT(id, 0);
    return id;
}

static json_t *job(struct fixture *f, int64_t id)
{
    json_t *o = NULL;
    ASSERT_EQ(catalog_job_get(f->c, id, &o), 0);
    return o;
}

static const char *job_state(struct fixture *f, int64_t id, char *buf, size_t len)
{
    json_t *o = job(f, id);
    snprintf(buf, len, "%s", json_string_value(json_object_get(o, "state")));
    json_decref(o);
    return buf;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_create_validates(void)
{
    struct fixture f;
    setup(&f);
    int64_t id = 0, unknown[] = {f.rec[0], 424242};
    struct catalog_job_spec spec = {.recordings = unknown, .n_recordings = 2, .format = "opus"};
    ASSERT_EQ(catalog_job_create(f.c, &spec, &id), -ENOENT);
    spec.n_recordings = 0;
    ASSERT_EQ(catalog_job_create(f.c, &spec, &id), -EINVAL);
    spec.n_recordings = 1;
    spec.format = NULL;
    ASSERT_EQ(catalog_job_create(f.c, &spec, &id), -EINVAL);
    spec.format = "we bm'; DROP TABLE jobs; --";
    ASSERT_EQ(catalog_job_create(f.c, &spec, &id), -EINVAL);
    json_t *o = NULL;
    ASSERT_EQ(catalog_jobs_query(f.c, NULL, &o), 0);
    ASSERT_EQ(json_integer_value(json_object_get(o, "total")), 0); /* the -ENOENT left nothing */
    json_decref(o);
    teardown(&f);
}

static void test_claim_progress_finish(void)
{
    struct fixture f;
    setup(&f);
    int64_t merged[] = {f.rec[1], f.rec[0]};
    int64_t id = create(&f, merged, 2, 0);
    int64_t later = create(&f, &f.rec[2], 1, 0);

    struct catalog_job j;
    ASSERT_EQ(catalog_job_claim(f.c, "w1", 60000, &j), 1);
    ASSERT_EQ(j.id, id); /* the oldest first */
    ASSERT_STREQ(j.format, "webm");
    ASSERT_EQ(j.attempt, 1);
    ASSERT_UEQ(j.n_inputs, 2);
    ASSERT_STREQ(j.inputs[0], "r/1/v.mjr"); /* in the order given */
    ASSERT_STREQ(j.inputs[1], "r/1/a.mjr");
    catalog_job_release(&j);
    ASSERT_EQ(catalog_job_claim(f.c, "w2", 60000, &j), 1);
    ASSERT_EQ(j.id, later);
    catalog_job_release(&j);
    ASSERT_EQ(catalog_job_claim(f.c, "w3", 60000, &j), 0); /* nothing left */
    ASSERT(j.format == NULL);

    ASSERT_EQ(catalog_job_progress(f.c, id, "w1", 0.5, 60000), 0);
    ASSERT_EQ(catalog_job_progress(f.c, id, "w2", 0.6, 60000), -ESTALE); /* not its job */
    ASSERT_EQ(catalog_job_progress(f.c, 9999, "w1", 0.6, 60000), -ENOENT);
    json_t *o = job(&f, id);
    ASSERT_STREQ(json_string_value(json_object_get(o, "state")), "running");
    ASSERT(json_real_value(json_object_get(o, "progress")) == 0.5);
    ASSERT_EQ(json_integer_value(json_object_get(o, "attempts")), 1);
    ASSERT_EQ(json_array_size(json_object_get(o, "recordings")), 2);
    ASSERT_EQ(json_integer_value(json_array_get(json_object_get(o, "recordings"), 0)), f.rec[1]);
    json_decref(o);

    struct catalog_output out = {
        .path = "outputs/1/meeting.webm", .format = "webm", .size = 12345, .duration_s = 61.5};
    memset(out.sha256, 0x5a, sizeof out.sha256);
    ASSERT_EQ(catalog_job_finish(f.c, id, "w2", 0, NULL, &out, 1), -ESTALE);
    ASSERT_EQ(catalog_job_finish(f.c, id, "w1", 0, NULL, &out, 1), 0);
    ASSERT_EQ(catalog_job_finish(f.c, id, "w1", 0, NULL, &out, 1), -ESTALE); /* over */
    o = job(&f, id);
    ASSERT_STREQ(json_string_value(json_object_get(o, "state")), "done");
    ASSERT(json_real_value(json_object_get(o, "progress")) == 1.0);
    ASSERT(json_is_integer(json_object_get(o, "finished_at")));
    json_t *outs = json_object_get(o, "outputs");
    ASSERT_EQ(json_array_size(outs), 1);
    int64_t oid = json_integer_value(json_array_get(outs, 0));
    json_decref(o);
    ASSERT_EQ(catalog_output_get(f.c, oid, &o), 0);
    ASSERT_EQ(json_integer_value(json_object_get(o, "job")), id);
    ASSERT_STREQ(json_string_value(json_object_get(o, "format")), "webm");
    ASSERT_EQ(json_integer_value(json_object_get(o, "size")), 12345);
    ASSERT(json_real_value(json_object_get(o, "duration")) == 61.5);
    ASSERT_STREQ(json_string_value(json_object_get(o, "sha256")),
                 "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a");
    json_decref(o);
    char path[64];
    ASSERT_EQ(catalog_output_path(f.c, oid, path, sizeof path), 0);
    ASSERT_STREQ(path, "outputs/1/meeting.webm");
    ASSERT_EQ(catalog_output_get(f.c, oid + 100, &o), -ENOENT);

    /* A second job may not claim the same output path: the finish fails as a whole. */
    ASSERT_EQ(catalog_job_finish(f.c, later, "w2", 0, NULL, &out, 1), -EEXIST);
    char st[16];
    ASSERT_STREQ(job_state(&f, later, st, sizeof st), "running");

    struct catalog_filter q = {.state = "done"};
    ASSERT_EQ(catalog_jobs_query(f.c, &q, &o), 0);
    ASSERT_EQ(json_integer_value(json_object_get(o, "total")), 1);
    json_decref(o);
    q.state = "running";
    ASSERT_EQ(catalog_jobs_query(f.c, &q, &o), 0);
    ASSERT_EQ(json_integer_value(json_object_get(o, "total")), 1);
    json_decref(o);
    teardown(&f);
}

static void test_cancel(void)
{
    struct fixture f;
    setup(&f);
    int64_t id = create(&f, f.rec, 1, 0);
    int64_t queued = create(&f, f.rec, 1, 0);
    struct catalog_job j;
    ASSERT_EQ(catalog_job_claim(f.c, "w1", 60000, &j), 1);
    ASSERT_EQ(j.id, id);
    catalog_job_release(&j);
    ASSERT_EQ(catalog_job_cancel(f.c, id), 0);
    ASSERT_EQ(catalog_job_progress(f.c, id, "w1", 0.9, 60000), -ESTALE);
    ASSERT_EQ(catalog_job_finish(f.c, id, "w1", 0, NULL, NULL, 0), -ESTALE);
    char st[16];
    ASSERT_STREQ(job_state(&f, id, st, sizeof st), "cancelled");
    ASSERT_EQ(catalog_job_cancel(f.c, id), -EALREADY);
    ASSERT_EQ(catalog_job_cancel(f.c, 31337), -ENOENT);
    /* A cancelled queued job is never claimed. */
    ASSERT_EQ(catalog_job_cancel(f.c, queued), 0);
    ASSERT_EQ(catalog_job_claim(f.c, "w1", 60000, &j), 0);
    teardown(&f);
}

static void test_lease_expiry(void)
{
    struct fixture f;
    setup(&f);
    int64_t id = create(&f, f.rec, 1, 0);
    struct catalog_job j;
    ASSERT_EQ(catalog_job_claim(f.c, "w1", 1, &j), 1); /* w1 "dies": 1 ms lease */
    catalog_job_release(&j);
    sleep_ms(5);
    ASSERT_EQ(catalog_job_claim(f.c, "w2", 60000, &j), 1);
    ASSERT_EQ(j.id, id);
    ASSERT_EQ(j.attempt, 2);
    catalog_job_release(&j);
    ASSERT_EQ(catalog_job_progress(f.c, id, "w1", 0.2, 60000), -ESTALE); /* taken over */
    ASSERT_EQ(catalog_job_progress(f.c, id, "w2", 0.2, 60000), 0);
    ASSERT_EQ(catalog_job_claim(f.c, "w3", 60000, &j), 0); /* the lease is live again */
    json_t *o = job(&f, id);
    ASSERT_STREQ(json_string_value(json_object_get(o, "worker")), "w2");
    json_decref(o);
    teardown(&f);
}

static void test_max_attempts(void)
{
    struct fixture f;
    setup(&f);
    /* Lease expiries: two attempts, then the job fails instead of a third claim. */
    int64_t id = create(&f, f.rec, 1, 2);
    struct catalog_job j;
    ASSERT_EQ(catalog_job_claim(f.c, "w1", 1, &j), 1);
    catalog_job_release(&j);
    sleep_ms(5);
    ASSERT_EQ(catalog_job_claim(f.c, "w2", 1, &j), 1);
    ASSERT_EQ(j.attempt, 2);
    catalog_job_release(&j);
    sleep_ms(5);
    ASSERT_EQ(catalog_job_claim(f.c, "w3", 60000, &j), 0);
    json_t *o = job(&f, id);
    ASSERT_STREQ(json_string_value(json_object_get(o, "state")), "failed");
    ASSERT(strstr(json_string_value(json_object_get(o, "error")), "lease expired"));
    ASSERT_EQ(json_integer_value(json_object_get(o, "attempts")), 2);
    json_decref(o);

    /* Reported failures: requeued while attempts remain, then failed with the error. */
    id = create(&f, f.rec, 1, 2);
    ASSERT_EQ(catalog_job_claim(f.c, "w1", 60000, &j), 1);
    catalog_job_release(&j);
    ASSERT_EQ(catalog_job_finish(f.c, id, "w1", -EIO, "decoder broke", NULL, 0), 0);
    char st[16];
    ASSERT_STREQ(job_state(&f, id, st, sizeof st), "queued");
    ASSERT_EQ(catalog_job_claim(f.c, "w2", 60000, &j), 1);
    ASSERT_EQ(j.attempt, 2);
    catalog_job_release(&j);
    ASSERT_EQ(catalog_job_finish(f.c, id, "w2", CATALOG_JOB_FAILED, "still broke", NULL, 0), 0);
    o = job(&f, id);
    ASSERT_STREQ(json_string_value(json_object_get(o, "state")), "failed");
    ASSERT_STREQ(json_string_value(json_object_get(o, "error")), "still broke");
    json_decref(o);
    ASSERT_EQ(catalog_job_claim(f.c, "w3", 60000, &j), 0);
    teardown(&f);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"create_validates", test_create_validates},
        {"claim_progress_finish", test_claim_progress_finish},
        {"cancel", test_cancel},
        {"lease_expiry", test_lease_expiry},
        {"max_attempts", test_max_attempts},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
