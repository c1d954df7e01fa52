/* Tests automatic conversion jobs (catalog_jobs_auto): one job per participant once all their
 * recordings are finished, the container chosen from the codecs, each participant considered
 * once, nothing for a participant still recording or with only data. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "tests/catalog/catalog_util.h"
#include "tests/test.h"

/* Opens (and unless `open`, closes) a recording of participant `who` in room "9". */
static void record(struct catalog *c, const char *who, const char *kind, const char *codec,
                   int mindex, bool open)
{
    char path[128];
    snprintf(path, sizeof path, "recordings/9/%s-%s-%d.mjr", who, kind, mindex);
    struct catalog_event ev = {.kind = CATALOG_RECORDING_OPENED,
                               .room = "9",
                               .participant = who,
                               .kind_name = kind,
                               .mindex = mindex,
                               .codec = codec,
                               .path = path};
    ASSERT_EQ(catalog_post(c, &ev), 0);
    if (!open) {
        ev = (struct catalog_event){.kind = CATALOG_RECORDING_CLOSED, .path = path, .size = 100};
        ASSERT_EQ(catalog_post(c, &ev), 0);
    }
}

static void close_rec(struct catalog *c, const char *who, const char *kind, int mindex)
{
    char path[128];
    snprintf(path, sizeof path, "recordings/9/%s-%s-%d.mjr", who, kind, mindex);
    struct catalog_event ev = {.kind = CATALOG_RECORDING_CLOSED, .path = path, .size = 100};
    ASSERT_EQ(catalog_post(c, &ev), 0);
}

/* The jobs in creation order, as "format:n_inputs" joined by spaces. */
static void jobs_summary(struct catalog *c, char *out, size_t len)
{
    json_t *o = NULL;
    ASSERT_EQ(catalog_jobs_query(c, NULL, &o), 0);
    out[0] = '\0';
    size_t i;
    json_t *j;
    json_array_foreach(json_object_get(o, "jobs"), i, j)
    {
        size_t at = strlen(out);
        snprintf(out + at, len - at, "%s%s:%zu", at ? " " : "",
                 json_string_value(json_object_get(j, "format")),
                 json_array_size(json_object_get(j, "recordings")));
    }
    json_decref(o);
}

static void jobs_follow_finished_participants(void)
{
    char dir[64], db[128];
    struct catalog *c = cat_open_tmp(dir, sizeof dir, db, sizeof db, "auto");

    record(c, "vp8user", "audio", "opus", 0, false);
    record(c, "vp8user", "video", "vp8", 1, false);
    record(c, "h264user", "audio", "opus", 0, false);
    record(c, "h264user", "video", "h264", 1, false);
    record(c, "h264user", "data", "text", 2, false);
    record(c, "voice", "audio", "opus", 0, false);
    record(c, "phone", "audio", "pcmu", 0, false);
    record(c, "chat", "data", "text", 0, false);
    record(c, "live", "audio", "opus", 0, false);
    record(c, "live", "video", "vp9", 1, true); /* still recording */
    catalog_flush(c);

    unsigned created = 99;
    ASSERT_EQ(catalog_jobs_auto(c, "auto", &created), 0);
    ASSERT_EQ(created, 4);
    char sum[512];
    jobs_summary(c, sum, sizeof sum);
    ASSERT_STREQ(sum, "webm:2 mp4:2 opus:1 wav:1");

    /* Considered once: nothing new, even when asked again. */
    ASSERT_EQ(catalog_jobs_auto(c, "auto", &created), 0);
    ASSERT_EQ(created, 0);

    /* The participant still recording gets a job once the last recording closes. */
    close_rec(c, "live", "video", 1);
    catalog_flush(c);
    ASSERT_EQ(catalog_jobs_auto(c, "auto", &created), 0);
    ASSERT_EQ(created, 1);
    jobs_summary(c, sum, sizeof sum);
    ASSERT_STREQ(sum, "webm:2 mp4:2 opus:1 wav:1 webm:2");

    json_t *o = NULL;
    ASSERT_EQ(catalog_jobs_query(c, NULL, &o), 0);
    json_t *first = json_array_get(json_object_get(o, "jobs"), 0);
    ASSERT_STREQ(json_string_value(json_object_get(first, "state")), "queued");
    ASSERT_STREQ(json_string_value(json_object_get(first, "requested_by")), "auto");
    json_decref(o);

    catalog_close(c);
    cat_rm_tree(dir);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"jobs_follow_finished_participants", jobs_follow_finished_participants},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
