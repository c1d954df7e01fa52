/* This file implements `janus.plugin.echotest`: requests are queued to one worker thread, which
 * answers offers (sdp_answer_generate: the preferred codecs the peer offered, the reverse
 * direction) and pushes the result event; media hooks send every packet back on the m-line it
 * came from, and RTCP feedback back to the peer (the media layer maps the SSRCs).
 *
 * DESIGN: the worker holds a handle reference per queued request and enters the core's hook
 * guard while it uses the handle's state, so a detach meanwhile waits for it to finish. The
 * media hooks read the per-handle switches with relaxed atomics: no lock on the media path. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive/archive.h"
#include "common/clock.h"
#include "common/xalloc.h"
#include "gateway/echotest/echotest.h"
#include "gateway/rtp/rtcp.h"
#include "gateway/rtp/rtp.h"
#include "gateway/sdp/sdp.h"

#define ET_PACKAGE "janus.plugin.echotest"
#define ET_ERR_INVALID_ELEMENT 413
#define ET_ERR_INVALID_SDP 414

struct et_job {
    struct gw_handle *h; /* referenced */
    char *transaction;
    json_t *body, *jsep;
    struct et_job *next;
};

struct echotest {
    const struct vb_log *log;
    struct archive *archive; /* borrowed; NULL = no recording */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct et_job *head, **tail;
    bool stop;
    pthread_t worker;
};

/* What is recorded of one kind: the negotiated m-line and codec, and the open file. */
struct et_track {
    int mindex; /* -1 = not negotiated */
    char codec[16];
    struct archive_rec *rec; /* under et_session.rec_lock */
};

struct et_session {
    const struct gw_plugin_callbacks *cb;
    struct echotest *e;
    uint64_t handle_id;
    /* Recording: the worker opens and closes, media threads write, all under rec_lock (held
     * only for a buffer copy on the media path: archive_rec_write_rtp never blocks). */
    pthread_mutex_t rec_lock;
    bool record;
    char *filename;
    struct et_track rec_audio, rec_video;
    atomic_bool audio, video;
    atomic_uint bitrate;         /* REMB cap, bits/s; 0 = none */
    atomic_uint peer_video_ssrc; /* for the REMB's SSRC list */
    atomic_int_fast64_t last_remb_us;
};

static json_t *error_event(int code, const char *text)
{
    return json_pack("{s:s, s:i, s:s}", "echotest", "event", "error_code", code, "error", text);
}

/* Applies the body's switches; NULL, or an error event. */
static json_t *apply_body(struct et_session *st, json_t *body)
{
    static const char *const bools[] = {"audio", "video", "record"};
    for (size_t i = 0; i < 3; i++) {
        json_t *v = json_object_get(body, bools[i]);
        if (v && !json_is_boolean(v))
            return error_event(ET_ERR_INVALID_ELEMENT, "Invalid element type (should be a bool)");
    }
    json_t *bitrate = json_object_get(body, "bitrate");
    if (bitrate && !(json_is_integer(bitrate) && json_integer_value(bitrate) >= 0))
        return error_event(ET_ERR_INVALID_ELEMENT,
                           "Invalid element type (bitrate should be a positive integer)");
    json_t *a = json_object_get(body, "audio"), *v = json_object_get(body, "video");
    if (a)
        atomic_store(&st->audio, json_is_true(a));
    if (v)
        atomic_store(&st->video, json_is_true(v));
    if (bitrate)
        atomic_store(&st->bitrate, (unsigned)json_integer_value(bitrate));
    return NULL;
}

/* Opens the files of the negotiated tracks that are not open yet (rec_lock held). */
static void rec_open(struct et_session *st)
{
    struct et_track *tracks[2] = {&st->rec_audio, &st->rec_video};
    char participant[32];
    snprintf(participant, sizeof participant, "%" PRIu64, st->handle_id);
    for (int i = 0; i < 2; i++) {
        struct et_track *t = tracks[i];
        if (t->rec || t->mindex < 0 || !st->e->archive)
            continue;
        struct archive_stream_info info = {.room = "echotest",
                                           .participant = participant,
                                           .kind = i == 0 ? MJR_KIND_AUDIO : MJR_KIND_VIDEO,
                                           .mindex = t->mindex,
                                           .codec = t->codec,
                                           .base_name = st->filename};
        int err = archive_rec_open(st->e->archive, &info, &t->rec);
        if (err < 0) {
            vb_log_warn(st->e->log, "echotest: cannot record %s of handle %" PRIu64 ": %s",
                        i == 0 ? "audio" : "video", st->handle_id, strerror(-err));
            t->rec = NULL;
        }
    }
}

/* Closes the open files (rec_lock held): finished, hashed and indexed by the archive. */
static void rec_close(struct et_session *st)
{
    struct et_track *tracks[2] = {&st->rec_audio, &st->rec_video};
    for (int i = 0; i < 2; i++) {
        if (tracks[i]->rec)
            archive_rec_close(tracks[i]->rec);
        tracks[i]->rec = NULL;
    }
}

/* The answer's m-lines and codecs, for the recordings. */
static void tracks_from_answer(struct et_session *st, const struct sdp *answer)
{
    st->rec_audio.mindex = st->rec_video.mindex = -1;
    for (size_t i = 0; i < answer->n_media; i++) {
        const struct sdp_media *m = &answer->media[i];
        struct et_track *t = m->type == SDP_MEDIA_AUDIO   ? &st->rec_audio
                             : m->type == SDP_MEDIA_VIDEO ? &st->rec_video
                                                          : NULL;
        if (!t || t->mindex >= 0 || m->port == 0 || !m->n_codecs || !m->codecs[0].name)
            continue;
        t->mindex = (int)i;
        size_t k = 0;
        for (const char *c = m->codecs[0].name; *c && k + 1 < sizeof t->codec; c++)
            t->codec[k++] = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
        t->codec[k] = '\0';
    }
}

/* The answer to a peer's offer, or NULL with *err set to an error event. */
static json_t *answer_offer(struct et_session *st, json_t *body, json_t *jsep, json_t **err)
{
    const char *type = json_string_value(json_object_get(jsep, "type"));
    const char *text = json_string_value(json_object_get(jsep, "sdp"));
    if (!type || strcmp(type, "offer") != 0 || !text) {
        *err = error_event(ET_ERR_INVALID_SDP, "Only offers are accepted");
        return NULL;
    }
    struct sdp *offer = NULL, *answer = NULL;
    char why[160];
    if (sdp_parse(text, strlen(text), &offer, why, sizeof why) < 0) {
        *err = error_event(ET_ERR_INVALID_SDP, why);
        return NULL;
    }
    const char *prefs[3] = {0};
    size_t n = 0;
    const char *ac = json_string_value(json_object_get(body, "audiocodec"));
    const char *vc = json_string_value(json_object_get(body, "videocodec"));
    if (ac)
        prefs[n++] = ac;
    if (vc)
        prefs[n++] = vc;
    static const char *const defaults[] = {"opus", "vp8",  "vp9", "h264", "g722",
                                           "pcmu", "pcma", "av1", "h265"};
    const char *all[3 + sizeof defaults / sizeof defaults[0]];
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        all[k++] = prefs[i];
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        all[k++] = defaults[i];
    /* Extensions we echo meaningfully. Not abs-send-time or transport-cc: we send no
     * congestion feedback for them, and a peer that keeps one extension map for every m-line
     * (aiortc) misreads audio-level and abs-send-time sharing an id across m-lines. */
    static const char *const exts[] = {SDP_EXT_MID,
                                       SDP_EXT_RID,
                                       SDP_EXT_REPAIRED_RID,
                                       SDP_EXT_AUDIO_LEVEL,
                                       SDP_EXT_VIDEO_ORIENTATION,
                                       SDP_EXT_PLAYOUT_DELAY};
    struct sdp_answer_opts o = {
        .codecs = all, .n_codecs = k, .extmaps = exts, .n_extmaps = sizeof exts / sizeof exts[0]};
    char *out = NULL;
    json_t *j = NULL;
    if (sdp_answer_generate(offer, &o, &answer) == 0 && sdp_write(answer, &out, NULL) == 0) {
        j = json_pack("{s:s, s:s}", "type", "answer", "sdp", out);
        pthread_mutex_lock(&st->rec_lock);
        rec_close(st); /* a new negotiation: new files */
        tracks_from_answer(st, answer);
        pthread_mutex_unlock(&st->rec_lock);
    } else
        *err = error_event(ET_ERR_INVALID_SDP, "Could not answer the offer");
    free(out);
    sdp_free(answer);
    sdp_free(offer);
    return j;
}

/* The body's record / filename. NULL, or an error event. rec_lock held. */
static json_t *apply_record(struct et_session *st, json_t *body)
{
    json_t *rec = json_object_get(body, "record"), *fn = json_object_get(body, "filename");
    if (fn && !json_is_string(fn))
        return error_event(ET_ERR_INVALID_ELEMENT,
                           "Invalid element type (filename should be a string)");
    if (rec && json_is_true(rec) && !st->e->archive)
        return error_event(ET_ERR_INVALID_ELEMENT, "Recording is not available");
    if (fn) {
        free(st->filename);
        st->filename = xstrdup(json_string_value(fn));
    }
    if (rec && !json_is_true(rec)) {
        st->record = false;
        rec_close(st);
    } else if (rec) {
        st->record = true;
    }
    return NULL;
}

static void run_job(struct et_job *job)
{
    if (!gw_handle_hook_enter(job->h)) /* detached meanwhile */
        return;
    struct et_session *st = gw_handle_plugin_state(job->h);
    json_t *err = apply_body(st, job->body);
    json_t *answer = NULL;
    if (!err && job->jsep)
        answer = answer_offer(st, job->body, job->jsep, &err);
    pthread_mutex_lock(&st->rec_lock);
    if (!err)
        err = apply_record(st, job->body);
    if (!err && st->record)
        rec_open(st);
    pthread_mutex_unlock(&st->rec_lock);
    json_t *data = err ? err : json_pack("{s:s, s:s}", "echotest", "event", "result", "ok");
    st->cb->push_event(job->h, job->transaction, data, answer);
    gw_handle_hook_leave(job->h);
}

static void *worker(void *arg)
{
    struct echotest *e = arg;
    pthread_mutex_lock(&e->lock);
    for (;;) {
        while (!e->head && !e->stop)
            pthread_cond_wait(&e->cond, &e->lock);
        if (e->stop)
            break;
        struct et_job *job = e->head;
        e->head = job->next;
        if (!e->head)
            e->tail = &e->head;
        pthread_mutex_unlock(&e->lock);
        run_job(job);
        gw_handle_unref(job->h);
        free(job->transaction);
        json_decref(job->body);
        json_decref(job->jsep);
        free(job);
        pthread_mutex_lock(&e->lock);
    }
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

/* ---- the vtable ---- */

static int et_create_session(void *ctx, const struct gw_plugin_callbacks *cb, struct gw_handle *h,
                             void **state)
{
    (void)ctx;
    (void)h;
    struct et_session *st = xcalloc(1, sizeof *st);
    st->cb = cb;
    st->e = ctx;
    st->handle_id = gw_handle_id(h);
    st->rec_audio.mindex = st->rec_video.mindex = -1;
    pthread_mutex_init(&st->rec_lock, NULL);
    atomic_init(&st->audio, true);
    atomic_init(&st->video, true);
    *state = st;
    return 0;
}

static void et_destroy_session(void *ctx, struct gw_handle *h, void *state)
{
    (void)ctx;
    (void)h;
    struct et_session *st = state;
    pthread_mutex_lock(&st->rec_lock);
    rec_close(st);
    pthread_mutex_unlock(&st->rec_lock);
    pthread_mutex_destroy(&st->rec_lock);
    free(st->filename);
    free(st);
}

static int et_handle_message(void *ctx, struct gw_handle *h, void *state, const char *transaction,
                             json_t *body, json_t *jsep, json_t **result)
{
    (void)state;
    (void)result;
    struct echotest *e = ctx;
    struct et_job *job = xcalloc(1, sizeof *job);
    gw_handle_ref(h);
    job->h = h;
    job->transaction = transaction ? xstrdup(transaction) : NULL;
    job->body = json_incref(body);
    job->jsep = json_incref(jsep);
    pthread_mutex_lock(&e->lock);
    *e->tail = job;
    e->tail = &job->next;
    pthread_cond_signal(&e->cond);
    pthread_mutex_unlock(&e->lock);
    return GW_PLUGIN_ASYNC;
}

static void et_incoming_rtp(void *ctx, struct gw_handle *h, void *state, int mindex, bool video,
                            const uint8_t *pkt, size_t len)
{
    (void)ctx;
    struct et_session *st = state;
    if (video && len >= GW_RTP_HEADER_MIN)
        atomic_store_explicit(&st->peer_video_ssrc,
                              (unsigned)pkt[8] << 24 | (unsigned)pkt[9] << 16 |
                                  (unsigned)pkt[10] << 8 | pkt[11],
                              memory_order_relaxed);
    struct et_track *t = video ? &st->rec_video : &st->rec_audio;
    pthread_mutex_lock(&st->rec_lock);
    if (t->rec && t->mindex == mindex)
        archive_rec_write_rtp(t->rec, pkt, len);
    pthread_mutex_unlock(&st->rec_lock);
    if (atomic_load_explicit(video ? &st->video : &st->audio, memory_order_relaxed))
        st->cb->relay_rtp(h, mindex, pkt, len);
}

/* A REMB with the configured cap, at most once a second, next to the relayed feedback. */
static void send_remb(struct et_session *st, struct gw_handle *h, int mindex)
{
    unsigned bitrate = atomic_load_explicit(&st->bitrate, memory_order_relaxed);
    uint32_t ssrc = atomic_load_explicit(&st->peer_video_ssrc, memory_order_relaxed);
    int64_t now = vb_clock_mono_us();
    if (!bitrate || !ssrc || now - atomic_load(&st->last_remb_us) < 1000000)
        return;
    atomic_store(&st->last_remb_us, now);
    uint8_t buf[64];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    if (gw_rtcp_write_remb(&w, 0, bitrate, &ssrc, 1) == 0)
        st->cb->relay_rtcp(h, mindex, buf, w.len);
}

static void et_incoming_rtcp(void *ctx, struct gw_handle *h, void *state, int mindex, bool video,
                             const uint8_t *pkt, size_t len)
{
    (void)ctx;
    (void)video;
    struct et_session *st = state;
    st->cb->relay_rtcp(h, mindex, pkt, len);
    send_remb(st, h, mindex);
}

static void et_hangup_media(void *ctx, struct gw_handle *h, void *state)
{
    (void)ctx;
    struct et_session *st = state;
    atomic_store(&st->audio, true);
    atomic_store(&st->video, true);
    atomic_store(&st->bitrate, 0);
    pthread_mutex_lock(&st->rec_lock);
    rec_close(st);
    st->record = false;
    pthread_mutex_unlock(&st->rec_lock);
    st->cb->push_event(h, NULL, json_pack("{s:s, s:s}", "echotest", "event", "result", "done"),
                       NULL);
}

static json_t *et_query_session(void *ctx, struct gw_handle *h, void *state)
{
    (void)ctx;
    (void)h;
    struct et_session *st = state;
    return json_pack("{s:b, s:b, s:i}", "audio_active", atomic_load(&st->audio), "video_active",
                     atomic_load(&st->video), "bitrate", (int)atomic_load(&st->bitrate));
}

static const struct gw_plugin et_plugin = {
    .name = "JANUS EchoTest plugin",
    .package = ET_PACKAGE,
    .author = "the Verbatim authors",
    .description = "Sends back what it receives: audio, video and RTCP feedback",
    .version_string = "0.1.0",
    .version = 1,
    .create_session = et_create_session,
    .destroy_session = et_destroy_session,
    .handle_message = et_handle_message,
    .incoming_rtp = et_incoming_rtp,
    .incoming_rtcp = et_incoming_rtcp,
    .hangup_media = et_hangup_media,
    .query_session = et_query_session,
};

const struct gw_plugin *echotest_plugin(void)
{
    return &et_plugin;
}

int echotest_create(const struct vb_log *log, struct archive *archive, struct echotest **out)
{
    struct echotest *e = xcalloc(1, sizeof *e);
    e->log = log;
    e->archive = archive;
    e->tail = &e->head;
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->cond, NULL);
    int err = pthread_create(&e->worker, NULL, worker, e);
    if (err) {
        pthread_cond_destroy(&e->cond);
        pthread_mutex_destroy(&e->lock);
        free(e);
        return -err;
    }
    *out = e;
    return 0;
}

void echotest_destroy(struct echotest *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    e->stop = true;
    pthread_cond_signal(&e->cond);
    pthread_mutex_unlock(&e->lock);
    pthread_join(e->worker, NULL);
    while (e->head) {
        struct et_job *job = e->head;
        e->head = job->next;
        gw_handle_unref(job->h);
        free(job->transaction);
        json_decref(job->body);
        json_decref(job->jsep);
        free(job);
    }
    pthread_cond_destroy(&e->cond);
    pthread_mutex_destroy(&e->lock);
    free(e);
}
