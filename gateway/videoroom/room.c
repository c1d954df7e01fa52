/* This file implements the VideoRoom rooms: the validation of a room's keys (create, the
 * configuration and the rooms file share it), the codec lists, the `list` and rooms-file JSON of
 * a room, the room object with its ACL, and the rooms table.
 *
 * DESIGN: values are converted exactly as Janus stores them (an int for publishers, uint32 for
 * bitrate, uint16 for fir_freq), so the same input gives the same `list` output. The table is a
 * fixed array of hash chains under one mutex held only for lookups and links; everything about
 * a room itself is under the room's own lock. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "gateway/videoroom/vr_internal.h"

static const char *const audio_codecs[] = {"opus", "multiopus", "isac32", "isac16", "pcmu",
                                           "pcma", "g722",      "l16-48", "l16"};
static const char *const video_codecs[] = {"vp8", "vp9", "h264", "av1", "h265"};
#define N_AUDIO (sizeof audio_codecs / sizeof audio_codecs[0])
#define N_VIDEO (sizeof video_codecs / sizeof video_codecs[0])

int vr_audio_codec(const char *name)
{
    for (size_t i = 0; name && i < N_AUDIO; i++)
        if (strcasecmp(name, audio_codecs[i]) == 0)
            return (int)i;
    return -1;
}

int vr_video_codec(const char *name)
{
    for (size_t i = 0; name && i < N_VIDEO; i++)
        if (strcasecmp(name, video_codecs[i]) == 0)
            return (int)i;
    return -1;
}

const char *vr_audio_codec_name(int i)
{
    return i >= 0 && (size_t)i < N_AUDIO ? audio_codecs[i] : NULL;
}

const char *vr_video_codec_name(int i)
{
    return i >= 0 && (size_t)i < N_VIDEO ? video_codecs[i] : NULL;
}

/* Splits a comma-separated list as Janus does (at most VR_CODECS entries are looked at; an empty
 * entry is an error). With `out` NULL it only validates. false on an unknown codec. */
static bool codec_list(const char *text, int (*lookup)(const char *), int *out)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    if (buf[0] == '\0')
        return true;
    char *p = buf;
    for (int i = 0; p && i < VR_CODECS; i++) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        int c = lookup(p);
        if (c < 0)
            return false;
        if (out)
            out[i] = c;
        p = comma ? comma + 1 : NULL;
    }
    return true;
}

static bool has_codec(const int *list, int c)
{
    for (int i = 0; i < VR_CODECS; i++)
        if (list[i] == c)
            return true;
    return false;
}

static char *dup_or_null(const json_t *v)
{
    return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

static bool flag(const json_t *obj, const char *key, bool dflt)
{
    const json_t *v = json_object_get(obj, key);
    return v ? json_is_true(v) : dflt;
}

static void parse_codecs(const json_t *obj, struct vr_room_settings *s)
{
    for (int i = 0; i < VR_CODECS; i++)
        s->acodec[i] = s->vcodec[i] = -1;
    s->acodec[0] = vr_audio_codec("opus");
    s->vcodec[0] = vr_video_codec("vp8");
    const char *a = json_string_value(json_object_get(obj, "audiocodec"));
    const char *v = json_string_value(json_object_get(obj, "videocodec"));
    if (a && a[0])
        codec_list(a, vr_audio_codec, s->acodec);
    if (v && v[0])
        codec_list(v, vr_video_codec, s->vcodec);
    int opus = vr_audio_codec("opus");
    s->opus_fec = flag(obj, "opus_fec", true) && has_codec(s->acodec, opus);
    s->opus_dtx = flag(obj, "opus_dtx", false) && has_codec(s->acodec, opus);
    int vp9 = vr_video_codec("vp9");
    bool vp9_only = s->vcodec[0] == vp9;
    for (int i = 1; i < VR_CODECS; i++)
        vp9_only = vp9_only && s->vcodec[i] < 0;
    s->video_svc = flag(obj, "video_svc", false) && vp9_only;
    if (has_codec(s->vcodec, vp9))
        s->vp9_profile = dup_or_null(json_object_get(obj, "vp9_profile"));
    if (has_codec(s->vcodec, vr_video_codec("h264")))
        s->h264_profile = dup_or_null(json_object_get(obj, "h264_profile"));
}

static void parse_numbers(const json_t *obj, struct vr_room_settings *s)
{
    const json_t *pubs = json_object_get(obj, "publishers");
    s->max_publishers = 3;
    if (pubs)
        s->max_publishers = (int32_t)(uint32_t)json_integer_value(pubs);
    if (s->max_publishers < 0)
        s->max_publishers = 3;
    s->bitrate = (uint32_t)json_integer_value(json_object_get(obj, "bitrate"));
    if (s->bitrate > 0 && s->bitrate < 64000)
        s->bitrate = 64000;
    s->fir_freq = (uint16_t)json_integer_value(json_object_get(obj, "fir_freq"));
    if (s->audiolevel_event) {
        json_int_t packets = json_integer_value(json_object_get(obj, "audio_active_packets"));
        json_int_t average = json_integer_value(json_object_get(obj, "audio_level_average"));
        s->audio_active_packets = packets > 0 ? (int32_t)(uint32_t)packets : 100;
        s->audio_level_average = average > 0 ? (int32_t)(uint32_t)average : 25;
    }
}

static const struct vr_param create_params[] = {
    {"description", GW_JSON_STRING, false},
    {"is_private", GW_JSON_BOOL, false},
    {"allowed", GW_JSON_ARRAY, false},
    {"secret", GW_JSON_STRING, false},
    {"pin", GW_JSON_STRING, false},
    {"require_pvtid", GW_JSON_BOOL, false},
    {"signed_tokens", GW_JSON_BOOL, false},
    {"bitrate", GW_JSON_UINT, false},
    {"bitrate_cap", GW_JSON_BOOL, false},
    {"fir_freq", GW_JSON_UINT, false},
    {"publishers", GW_JSON_UINT, false},
    {"audiocodec", GW_JSON_STRING, false},
    {"videocodec", GW_JSON_STRING, false},
    {"vp9_profile", GW_JSON_STRING, false},
    {"h264_profile", GW_JSON_STRING, false},
    {"opus_fec", GW_JSON_BOOL, false},
    {"opus_dtx", GW_JSON_BOOL, false},
    {"video_svc", GW_JSON_BOOL, false},
    {"audiolevel_ext", GW_JSON_BOOL, false},
    {"audiolevel_event", GW_JSON_BOOL, false},
    {"audio_active_packets", GW_JSON_UINT, false},
    {"audio_level_average", GW_JSON_UINT, false},
    {"videoorient_ext", GW_JSON_BOOL, false},
    {"playoutdelay_ext", GW_JSON_BOOL, false},
    {"transport_wide_cc_ext", GW_JSON_BOOL, false},
    {"record", GW_JSON_BOOL, false},
    {"rec_dir", GW_JSON_STRING, false},
    {"lock_record", GW_JSON_BOOL, false},
    {"permanent", GW_JSON_BOOL, false},
    {"notify_joining", GW_JSON_BOOL, false},
    {"require_e2ee", GW_JSON_BOOL, false},
    {"dummy_publisher", GW_JSON_BOOL, false},
    {"dummy_streams", GW_JSON_ARRAY, false},
    {"threads", GW_JSON_UINT, false},
};

int vr_settings_check(const json_t *obj, struct vr_err *e)
{
    return VR_CHECK(obj, create_params, e);
}

int vr_settings_parse(struct vr *v, const json_t *obj, struct vr_room_settings *out,
                      struct vr_err *e)
{
    memset(out, 0, sizeof *out);
    const char *a = json_string_value(json_object_get(obj, "audiocodec"));
    if (a && !codec_list(a, vr_audio_codec, NULL))
        return vr_fail(e, VR_ERR_INVALID_ELEMENT,
                       "Invalid element (audiocodec can only be or "
                       "contain opus, isac32, isac16, pcmu, pcma or "
                       "g722)");
    const char *vc = json_string_value(json_object_get(obj, "videocodec"));
    if (vc && !codec_list(vc, vr_video_codec, NULL))
        return vr_fail(e, VR_ERR_INVALID_ELEMENT,
                       "Invalid element (videocodec can only be or contain vp8, vp9, av1, h264 "
                       "or h265)");
    const json_t *allowed = json_object_get(obj, "allowed");
    for (size_t i = 0; i < json_array_size(allowed); i++)
        if (!json_is_string(json_array_get(allowed, i)))
            return vr_fail(e, VR_ERR_INVALID_ELEMENT,
                           "Invalid element in the allowed array (not a string)");
    if (json_array_size(allowed) > VR_ALLOWED_MAX)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT,
                       "Invalid element (at most %d tokens in the allowed array)", VR_ALLOWED_MAX);
    const char *desc = json_string_value(json_object_get(obj, "description"));
    out->description = desc && desc[0] ? xstrdup(desc) : NULL;
    out->secret = dup_or_null(json_object_get(obj, "secret"));
    out->pin = dup_or_null(json_object_get(obj, "pin"));
    out->rec_dir = dup_or_null(json_object_get(obj, "rec_dir"));
    out->is_private = flag(obj, "is_private", false);
    out->require_pvtid = flag(obj, "require_pvtid", false);
    out->signed_tokens = flag(obj, "signed_tokens", false);
    if (out->signed_tokens && !v->token_room_ok) {
        vb_log_warn(v->log, "videoroom: signed_tokens ignored, signed tokens are off");
        out->signed_tokens = false;
    }
    out->require_e2ee = flag(obj, "require_e2ee", false);
    out->dummy_publisher = flag(obj, "dummy_publisher", false);
    out->bitrate_cap = flag(obj, "bitrate_cap", false);
    out->audiolevel_ext = flag(obj, "audiolevel_ext", true);
    out->audiolevel_event = flag(obj, "audiolevel_event", false);
    out->videoorient_ext = flag(obj, "videoorient_ext", true);
    out->playoutdelay_ext = flag(obj, "playoutdelay_ext", true);
    out->transport_wide_cc_ext = flag(obj, "transport_wide_cc_ext", true);
    out->notify_joining = flag(obj, "notify_joining", false);
    out->record = flag(obj, "record", false) || v->record_all;
    out->lock_record = flag(obj, "lock_record", false);
    parse_codecs(obj, out);
    parse_numbers(obj, out);
    return 0;
}

void vr_settings_clear(struct vr_room_settings *s)
{
    free(s->description);
    free(s->secret);
    free(s->pin);
    free(s->rec_dir);
    free(s->vp9_profile);
    free(s->h264_profile);
    memset(s, 0, sizeof *s);
}

static void codecs_text(const int *list, const char *(*name)(int), char *out, size_t size)
{
    size_t at = 0;
    out[0] = '\0';
    for (int i = 0; i < VR_CODECS; i++) {
        const char *n = name(list[i]);
        if (!n)
            continue;
        int w = snprintf(out + at, size - at, "%s%s", at ? "," : "", n);
        if (w < 0 || (size_t)w >= size - at)
            break;
        at += (size_t)w;
    }
}

void vr_settings_codecs(const struct vr_room_settings *s, char *audio, char *video, size_t size)
{
    codecs_text(s->acodec, vr_audio_codec_name, audio, size);
    codecs_text(s->vcodec, vr_video_codec_name, video, size);
}

json_t *vr_room_list_json(const struct vr_room *r)
{
    const struct vr_room_settings *s = &r->set;
    char ac[100], vc[100];
    vr_settings_codecs(s, ac, vc, sizeof ac);
    json_t *o = json_object();
    json_object_set_new(o, "room", json_integer((json_int_t)r->id));
    json_object_set_new(o, "description", json_string(s->description));
    json_object_set_new(o, "pin_required", json_boolean(s->pin));
    json_object_set_new(o, "is_private", json_boolean(s->is_private));
    json_object_set_new(o, "max_publishers", json_integer(s->max_publishers));
    json_object_set_new(o, "bitrate", json_integer(s->bitrate));
    if (s->bitrate_cap)
        json_object_set_new(o, "bitrate_cap", json_true());
    json_object_set_new(o, "fir_freq", json_integer(s->fir_freq));
    json_object_set_new(o, "require_pvtid", json_boolean(s->require_pvtid));
    json_object_set_new(o, "require_e2ee", json_boolean(s->require_e2ee));
    json_object_set_new(o, "dummy_publisher", json_boolean(s->dummy_publisher));
    json_object_set_new(o, "notify_joining", json_boolean(s->notify_joining));
    json_object_set_new(o, "audiocodec", json_string(ac));
    json_object_set_new(o, "videocodec", json_string(vc));
    if (s->opus_fec)
        json_object_set_new(o, "opus_fec", json_true());
    if (s->opus_dtx)
        json_object_set_new(o, "opus_dtx", json_true());
    if (s->video_svc)
        json_object_set_new(o, "video_svc", json_true());
    json_object_set_new(o, "record", json_boolean(s->record));
    if (s->rec_dir)
        json_object_set_new(o, "rec_dir", json_string(s->rec_dir));
    json_object_set_new(o, "lock_record", json_boolean(s->lock_record));
    json_object_set_new(o, "num_participants", json_integer((json_int_t)r->nparticipants));
    json_object_set_new(o, "audiolevel_ext", json_boolean(s->audiolevel_ext));
    json_object_set_new(o, "audiolevel_event", json_boolean(s->audiolevel_event));
    if (s->audiolevel_event) {
        json_object_set_new(o, "audio_active_packets", json_integer(s->audio_active_packets));
        json_object_set_new(o, "audio_level_average", json_integer(s->audio_level_average));
    }
    json_object_set_new(o, "videoorient_ext", json_boolean(s->videoorient_ext));
    json_object_set_new(o, "playoutdelay_ext", json_boolean(s->playoutdelay_ext));
    json_object_set_new(o, "transport_wide_cc_ext", json_boolean(s->transport_wide_cc_ext));
    return o;
}

static void set_str(json_t *o, const char *key, const char *v)
{
    if (v)
        json_object_set_new(o, key, json_string(v));
}

json_t *vr_room_persist_json(const struct vr_room *r)
{
    const struct vr_room_settings *s = &r->set;
    char ac[100], vc[100];
    vr_settings_codecs(s, ac, vc, sizeof ac);
    json_t *o = json_pack(
        "{s:I, s:s, s:b, s:b, s:b, s:b, s:b, s:I, s:b, s:i, s:i, s:s, s:s, s:b, s:b, s:b, s:b, "
        "s:b, s:b, s:b, s:b, s:b, s:b, s:b}",
        "room", (json_int_t)r->id, "description", s->description, "is_private", s->is_private,
        "require_pvtid", s->require_pvtid, "signed_tokens", s->signed_tokens, "require_e2ee",
        s->require_e2ee, "dummy_publisher", s->dummy_publisher, "bitrate", (json_int_t)s->bitrate,
        "bitrate_cap", s->bitrate_cap, "publishers", s->max_publishers, "fir_freq",
        (int)s->fir_freq, "audiocodec", ac, "videocodec", vc, "opus_fec", s->opus_fec, "opus_dtx",
        s->opus_dtx, "video_svc", s->video_svc, "audiolevel_ext", s->audiolevel_ext,
        "audiolevel_event", s->audiolevel_event, "videoorient_ext", s->videoorient_ext,
        "playoutdelay_ext", s->playoutdelay_ext, "transport_wide_cc_ext", s->transport_wide_cc_ext,
        "notify_joining", s->notify_joining, "record", s->record, "lock_record", s->lock_record);
    if (s->audiolevel_event) {
        json_object_set_new(o, "audio_active_packets", json_integer(s->audio_active_packets));
        json_object_set_new(o, "audio_level_average", json_integer(s->audio_level_average));
    }
    set_str(o, "vp9_profile", s->vp9_profile);
    set_str(o, "h264_profile", s->h264_profile);
    set_str(o, "secret", s->secret);
    set_str(o, "pin", s->pin);
    set_str(o, "rec_dir", s->rec_dir);
    return o;
}

struct vr_room *vr_room_new(uint64_t id, struct vr_room_settings *set)
{
    struct vr_room *r = xcalloc(1, sizeof *r);
    atomic_init(&r->refs, 1);
    r->id = id;
    pthread_mutex_init(&r->lock, NULL);
    r->set = *set;
    memset(set, 0, sizeof *set);
    return r;
}

void vr_room_ref(struct vr_room *r)
{
    atomic_fetch_add(&r->refs, 1);
}

void vr_room_unref(struct vr_room *r)
{
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    vr_settings_clear(&r->set);
    for (size_t i = 0; i < r->nallowed; i++)
        free(r->allowed[i]);
    free(r->allowed);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

bool vr_room_allowed_has(const struct vr_room *r, const char *token)
{
    for (size_t i = 0; token && i < r->nallowed; i++)
        if (strcmp(r->allowed[i], token) == 0)
            return true;
    return false;
}

void vr_room_allowed_add(struct vr_room *r, const char *token)
{
    if (vr_room_allowed_has(r, token))
        return;
    if (r->nallowed == r->capallowed) {
        r->capallowed = r->capallowed ? r->capallowed * 2 : 4;
        r->allowed = xrealloc(r->allowed, r->capallowed * sizeof *r->allowed);
    }
    r->allowed[r->nallowed++] = xstrdup(token);
}

void vr_room_allowed_remove(struct vr_room *r, const char *token)
{
    for (size_t i = 0; i < r->nallowed; i++) {
        if (strcmp(r->allowed[i], token) != 0)
            continue;
        free(r->allowed[i]);
        memmove(r->allowed + i, r->allowed + i + 1, (r->nallowed - i - 1) * sizeof *r->allowed);
        r->nallowed--;
        return;
    }
}

/* ---- the table ---- */

static struct vr_room **chain_of(struct vr_rooms *t, uint64_t id)
{
    return &t->buckets[id % VR_ROOM_BUCKETS];
}

static struct vr_room *find_locked(struct vr_rooms *t, uint64_t id)
{
    struct vr_room *r = *chain_of(t, id);
    while (r && r->id != id)
        r = r->next;
    return r;
}

int vr_rooms_insert(struct vr_rooms *t, struct vr_room *r)
{
    pthread_mutex_lock(&t->lock);
    if (r->id == 0) {
        do
            r->id = vr_random_id();
        while (find_locked(t, r->id));
    } else if (find_locked(t, r->id)) {
        pthread_mutex_unlock(&t->lock);
        return -EEXIST;
    }
    if (!r->set.description) {
        char name[64];
        snprintf(name, sizeof name, "Room %" PRIu64, r->id);
        r->set.description = xstrdup(name);
    }
    vr_room_ref(r);
    r->next = *chain_of(t, r->id);
    *chain_of(t, r->id) = r;
    t->n++;
    pthread_mutex_unlock(&t->lock);
    return 0;
}

struct vr_room *vr_rooms_get(struct vr_rooms *t, uint64_t id)
{
    pthread_mutex_lock(&t->lock);
    struct vr_room *r = find_locked(t, id);
    if (r)
        vr_room_ref(r);
    pthread_mutex_unlock(&t->lock);
    return r;
}

bool vr_rooms_has(struct vr_rooms *t, uint64_t id)
{
    pthread_mutex_lock(&t->lock);
    bool has = find_locked(t, id) != NULL;
    pthread_mutex_unlock(&t->lock);
    return has;
}

struct vr_room *vr_rooms_remove(struct vr_rooms *t, uint64_t id)
{
    pthread_mutex_lock(&t->lock);
    struct vr_room *found = NULL;
    for (struct vr_room **pp = chain_of(t, id); *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            found = *pp;
            *pp = found->next;
            found->next = NULL;
            t->n--;
            break;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return found;
}

static int by_id(const void *a, const void *b)
{
    uint64_t x = (*(struct vr_room *const *)a)->id, y = (*(struct vr_room *const *)b)->id;
    return x < y ? -1 : x > y;
}

struct vr_room **vr_rooms_snapshot(struct vr_rooms *t, size_t *n)
{
    pthread_mutex_lock(&t->lock);
    struct vr_room **all = xmalloc((t->n ? t->n : 1) * sizeof *all);
    size_t k = 0;
    for (size_t b = 0; b < VR_ROOM_BUCKETS; b++) {
        for (struct vr_room *r = t->buckets[b]; r; r = r->next) {
            vr_room_ref(r);
            all[k++] = r;
        }
    }
    pthread_mutex_unlock(&t->lock);
    qsort(all, k, sizeof *all, by_id);
    *n = k;
    return all;
}

void vr_rooms_clear(struct vr_rooms *t)
{
    for (size_t b = 0; b < VR_ROOM_BUCKETS; b++) {
        while (t->buckets[b]) {
            struct vr_room *r = t->buckets[b];
            t->buckets[b] = r->next;
            vr_room_unref(r);
        }
    }
    t->n = 0;
}
