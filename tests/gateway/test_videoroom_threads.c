/* Concurrency tests of the VideoRoom plugin through a real gateway core: many threads joining
 * and publishing at once get exactly `publishers` slots (the rest 432), joins racing for the
 * same id get exactly one winner (the rest 436), and joins, leaves, detaches, kicks and room
 * destroys racing each other leave consistent rooms (run under ASan/TSan builds too). */
#include <pthread.h>

#include "tests/gateway/test_videoroom.h"

#define THREADS 12

struct job {
    struct vfix *f;
    int index;
    uint64_t room;
    int outcome; /* the error code, or 0 */
};

static pthread_barrier_t start_line;

static int code_of(json_t *data)
{
    json_t *c = json_object_get(data, "error_code");
    int code = c ? (int)json_integer_value(c) : 0;
    json_decref(data);
    return code;
}

static void *join_and_publish(void *arg)
{
    struct job *j = arg;
    uint64_t s = vsession(j->f), h = vattach(j->f, s);
    pthread_barrier_wait(&start_line);
    if (j->index % 2) {
        j->outcome = code_of(vasync_jsep(j->f, s, h, VR_OFFER,
                                         "{\"request\":\"joinandconfigure\",\"ptype\":"
                                         "\"publisher\",\"room\":%" PRIu64 "}",
                                         j->room));
    } else {
        int joined = code_of(
            vasync(j->f, s, h,
                   "{\"request\":\"join\",\"ptype\":\"publisher\",\"room\":%" PRIu64 "}", j->room));
        ASSERT_EQ(joined, 0);
        j->outcome = code_of(vasync_jsep(j->f, s, h, VR_OFFER, "{\"request\":\"publish\"}"));
    }
    return NULL;
}

static void *join_same_id(void *arg)
{
    struct job *j = arg;
    uint64_t s = vsession(j->f), h = vattach(j->f, s);
    pthread_barrier_wait(&start_line);
    j->outcome = code_of(vasync(
        j->f, s, h, "{\"request\":\"join\",\"ptype\":\"publisher\",\"room\":%" PRIu64 ",\"id\":5}",
        j->room));
    return NULL;
}

static void run(struct vfix *f, uint64_t room, void *(*fn)(void *), struct job *jobs)
{
    pthread_t t[THREADS];
    ASSERT_EQ(pthread_barrier_init(&start_line, NULL, THREADS), 0);
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (struct job){.f = f, .index = i, .room = room};
        ASSERT_EQ(pthread_create(&t[i], NULL, fn, &jobs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start_line);
}

static void test_publisher_limit_exact(void)
{
    struct vfix f;
    vfix_init(&f);
    uint64_t s = vsession(&f), h = vattach(&f, s);
    json_decref(vsync(&f, s, h, "{\"request\":\"create\",\"room\":1,\"publishers\":3}"));
    struct job jobs[THREADS];
    run(&f, 1, join_and_publish, jobs);
    int ok = 0, full = 0;
    for (int i = 0; i < THREADS; i++) {
        ok += jobs[i].outcome == 0;
        full += jobs[i].outcome == 432;
    }
    ASSERT_EQ(ok, 3);
    ASSERT_EQ(full, THREADS - 3);
    struct vr_room_state st;
    ASSERT_EQ(vr_room_state_get(f.v, 1, &st), 0);
    ASSERT_EQ(st.publishing, 3);
    ASSERT_EQ(st.participants, THREADS);
    vfix_done(&f);
}

static void test_same_id_once(void)
{
    struct vfix f;
    vfix_init(&f);
    uint64_t s = vsession(&f), h = vattach(&f, s);
    json_decref(vsync(&f, s, h, "{\"request\":\"create\",\"room\":2}"));
    struct job jobs[THREADS];
    run(&f, 2, join_same_id, jobs);
    int ok = 0, taken = 0;
    for (int i = 0; i < THREADS; i++) {
        ok += jobs[i].outcome == 0;
        taken += jobs[i].outcome == 436;
    }
    ASSERT_EQ(ok, 1);
    ASSERT_EQ(taken, THREADS - 1);
    vfix_done(&f);
}

/* Joins and leaves or detaches in a loop while the main thread kicks and recreates the room. */
static void *churn(void *arg)
{
    struct job *j = arg;
    pthread_barrier_wait(&start_line);
    for (int round = 0; round < 20; round++) {
        uint64_t s = vsession(j->f), h = vattach(j->f, s);
        uint64_t id = (uint64_t)(j->index * 100 + round + 1);
        json_t *r = vasync(j->f, s, h,
                           "{\"request\":\"join\",\"ptype\":\"publisher\",\"room\":%" PRIu64
                           ",\"id\":%" PRIu64 "}",
                           j->room, id);
        json_decref(r);
        if (round % 3 == 0)
            json_decref(vasync(j->f, s, h, "{\"request\":\"leave\"}"));
        if (round % 2 == 0)
            json_decref(
                vcall(j->f, s, h, vjson("{\"janus\":\"detach\",\"transaction\":\"d\"}"), NULL));
        json_decref(vcall(
            j->f, 0, 0,
            vjson("{\"janus\":\"destroy\",\"transaction\":\"d\",\"session_id\":%" PRIu64 "}", s),
            NULL));
    }
    return NULL;
}

static void test_churn(void)
{
    struct vfix f;
    vfix_init(&f);
    f.skip_notices = true;
    uint64_t s = vsession(&f), h = vattach(&f, s);
    json_decref(vsync(&f, s, h, "{\"request\":\"create\",\"room\":3}"));
    pthread_t t[THREADS];
    struct job jobs[THREADS];
    ASSERT_EQ(pthread_barrier_init(&start_line, NULL, THREADS + 1), 0);
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (struct job){.f = &f, .index = i, .room = 3};
        ASSERT_EQ(pthread_create(&t[i], NULL, churn, &jobs[i]), 0);
    }
    pthread_barrier_wait(&start_line);
    for (int round = 0; round < 30; round++) {
        for (int k = 1; k < 20; k++)
            json_decref(
                vsync(&f, s, h, "{\"request\":\"kick\",\"room\":3,\"id\":%d}", k * 100 + 1));
        json_decref(vsync(&f, s, h, "{\"request\":\"listparticipants\",\"room\":3}"));
        if (round % 5 == 4) {
            json_decref(vsync(&f, s, h, "{\"request\":\"destroy\",\"room\":3}"));
            json_decref(vsync(&f, s, h, "{\"request\":\"create\",\"room\":3}"));
        }
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start_line);
    /* Every churning session is gone: the room must be empty and consistent. */
    json_t *r = vsync(&f, s, h, "{\"request\":\"listparticipants\",\"room\":3}");
    ASSERT_EQ(json_array_size(json_object_get(r, "participants")), 0);
    json_decref(r);
    struct vr_room_state st;
    ASSERT_EQ(vr_room_state_get(f.v, 3, &st), 0);
    ASSERT_EQ(st.participants, 0);
    vfix_done(&f);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"publisher_limit_exact", test_publisher_limit_exact},
        {"same_id_once", test_same_id_once},
        {"churn", test_churn},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
