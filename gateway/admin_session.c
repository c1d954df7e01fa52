/* This file implements the Admin API verbs of session paths (list_handles, destroy_session,
 * set_session_timeout for one session) and of handle paths (handle_info, detach_handle,
 * hangup_webrtc, start_pcap, stop_pcap), with Janus 1.1.2's replies.
 *
 * DESIGN: handle_info is built in two parts, as Janus orders its keys: the core's part (ids,
 * times, opaque_id, token, plugin and the plugin's own query_session answer), which is all that
 * plugin_only asks for, then the WebRTC part (flags, SDPs, ICE/DTLS and media state) in
 * webrtc_info(), where the media layer will add what it knows; until it exists, the flags a
 * handle can have without a PeerConnection are reported (alert after a hangup, trickle after
 * a trickle), the rest are false and no packet is ever queued. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/fs.h"
#include "gateway/admin_internal.h"

static int do_list_handles(struct admin_req *r, json_t **reply)
{
    *reply = gw_admin_success(r);
    json_object_set_new(*reply, "handles", gw_session_handle_list(r->s));
    return 0;
}

static int do_destroy_session(struct admin_req *r, json_t **reply)
{
    /* As the Janus API's destroy: the handles are detached silently. */
    gw_session_end(r->s, NULL);
    *reply = gw_admin_success(r);
    return 0;
}

static int do_session_timeout(struct admin_req *r, json_t **reply)
{
    json_t *t;
    int code = gw_admin_param(r, reply, "timeout", GW_JSON_INT, true, &t);
    if (code)
        return code;
    json_int_t secs = json_integer_value(t);
    if (secs < -1)
        return gw_fail(reply, r->sid, r->tr, GW_ERR_INVALID_ELEMENT_TYPE,
                       "Invalid element type (timeout should be a non-negative integer or -1)");
    if (gw_core_session_set_timeout(r->a->core, r->sid, secs) < 0)
        return gw_fail(reply, r->sid, r->tr, GW_ERR_SESSION_NOT_FOUND, "No such session %" PRIu64,
                       r->sid);
    /* Janus's reply for a session: no session_id up front, one after the timeout. */
    *reply = gw_message("success", 0, r->tr);
    json_object_set_new(*reply, "timeout", json_integer(secs));
    json_object_set_new(*reply, "session_id", json_integer((json_int_t)r->sid));
    return 0;
}

const struct admin_verb gw_admin_session_verbs[] = {
    {"list_handles", do_list_handles},
    {"destroy_session", do_destroy_session},
    {"set_session_timeout", do_session_timeout},
    {NULL, NULL},
};

/* Janus's handle flags in its order; only "alert" and "trickle" can be set without media. */
static json_t *flags_info(bool alert, bool trickled)
{
    static const char *const names[] = {
        "got-offer",
        "got-answer",
        "negotiated",
        "processing-offer",
        "starting",
        "ice-restart",
        "ready",
        "stopped",
        "alert",
        "trickle",
        "all-trickles",
        "resend-trickles",
        "trickle-synced",
        "data-channels",
        "has-audio",
        "has-video",
        "new-datachan-sdp",
        "rfc4588-rtx",
        "cleaning",
        "e2ee",
    };
    json_t *flags = json_object();
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        bool on = (alert && strcmp(names[i], "alert") == 0) ||
                  (trickled && strcmp(names[i], "trickle") == 0);
        json_object_set_new(flags, names[i], json_boolean(on));
    }
    return flags;
}

/* The WebRTC part of handle_info: the flags and trickles the core knows, then what the media
 * layer adds ("sdps" {local, remote}, ICE, DTLS and per-m-line media state). */
static void webrtc_info(struct gw_handle *h, json_t *info)
{
    pthread_mutex_lock(&h->session->lock);
    bool alert = h->alert, trickled = h->trickled;
    size_t pending = json_array_size(h->trickles);
    pthread_mutex_unlock(&h->session->lock);
    json_object_set_new(info, "flags", flags_info(alert, trickled));
    json_object_set_new(info, "sdps", json_object());
    if (pending)
        json_object_set_new(info, "pending-trickles", json_integer((json_int_t)pending));
    json_object_set_new(info, "queued-packets", json_integer(0)); /* we never queue packets */
    const struct gw_media_ops *m = h->session->core->media_ops;
    if (m) /* sdps, webrtc {ice, dtls, media} and the media flags when there is a PC */
        m->info(m->ctx, h, info);
}

/* The core's part of handle_info. */
static json_t *core_info(struct admin_req *r)
{
    struct gw_session *s = r->s;
    struct gw_handle *h = r->h;
    pthread_mutex_lock(&s->lock);
    int64_t last = s->last_activity_us;
    const char *transport = s->transport;
    bool detached = h->detached;
    pthread_mutex_unlock(&s->lock);
    json_t *info =
        json_pack("{s:I, s:I, s:I}", "session_id", (json_int_t)s->id, "session_last_activity",
                  (json_int_t)last, "session_timeout", (json_int_t)gw_session_timeout_of(s));
    if (transport)
        json_object_set_new(info, "session_transport", json_string(transport));
    json_object_set_new(info, "handle_id", json_integer((json_int_t)h->id));
    if (h->opaque_id)
        json_object_set_new(info, "opaque_id", json_string(h->opaque_id));
    if (h->token)
        json_object_set_new(info, "token", json_string(h->token));
    /* Janus runs a loop per handle; ours are served by shared threads, so the handle's "loop"
     * runs exactly while the handle is attached. */
    json_object_set_new(info, "loop-running", json_boolean(!detached));
    json_object_set_new(info, "created", json_integer(h->created_us));
    json_object_set_new(info, "current_time", json_integer(vb_clock_mono(r->a->core->clock)));
    if (detached)
        return info;
    const struct gw_plugin *p = h->reg->plugin;
    json_object_set_new(info, "plugin", json_string(p->package));
    json_t *q = NULL;
    if (p->query_session && gw_handle_hook_enter(h)) {
        q = p->query_session(h->reg->ctx, h, h->state);
        gw_handle_hook_leave(h);
    }
    if (json_is_object(q))
        json_object_set_new(info, "plugin_specific", q);
    else
        json_decref(q); /* Janus ignores an answer that is not an object */
    return info;
}

static int do_handle_info(struct admin_req *r, json_t **reply)
{
    json_t *only;
    int code = gw_admin_param(r, reply, "plugin_only", GW_JSON_BOOL, false, &only);
    if (code)
        return code;
    json_t *info = core_info(r);
    if (!json_is_true(only))
        webrtc_info(r->h, info);
    *reply = gw_admin_success(r);
    json_object_set_new(*reply, "handle_id", json_integer((json_int_t)r->h->id));
    json_object_set_new(*reply, "info", info);
    return 0;
}

static int do_detach_handle(struct admin_req *r, json_t **reply)
{
    return gw_verb_detach(r->h, r->sid, r->tr, reply); /* the same as the Janus API's detach */
}

static int do_hangup_webrtc(struct admin_req *r, json_t **reply)
{
    gw_handle_hangup(r->h, "Admin API");
    *reply = gw_admin_success(r);
    return 0;
}

/* start_pcap / stop_pcap: a capture of the handle's PeerConnection into a pcap file (the media
 * layer's gateway/media/pcap.h), with Janus's parameter checks, errors (490) and replies (a
 * success without session_id). Unlike Janus, a capture needs a PeerConnection and ends with it.
 * The file is FOLDER/FILENAME (FOLDER created if needed; a name is made up when none is given),
 * or FILENAME relative to the server's working folder without a folder. */
static int pcap_path(const char *folder, const char *filename, char *path, size_t size)
{
    char made[64];
    if (!filename) {
        snprintf(made, sizeof made, "verbatim-pcap-%" PRIu32 ".pcap", (uint32_t)gw_random_id());
        filename = made;
    }
    if (folder && vb_mkdir_p(folder, 0755) < 0)
        return -errno;
    int n = folder ? snprintf(path, size, "%s/%s", folder, filename)
                   : snprintf(path, size, "%s", filename);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int do_start_pcap(struct admin_req *r, json_t **reply)
{
    json_t *folder, *filename, *truncate;
    int code = gw_admin_param(r, reply, "folder", GW_JSON_STRING, false, &folder);
    if (!code)
        code = gw_admin_param(r, reply, "filename", GW_JSON_STRING, false, &filename);
    if (!code)
        code = gw_admin_param(r, reply, "truncate", GW_JSON_UINT, false, &truncate);
    if (code)
        return code;
    const struct gw_media_ops *m = r->h->session->core->media_ops;
    char path[4096];
    int err = -ENOTCONN;
    if (m && m->start_pcap) {
        err = pcap_path(json_string_value(folder), json_string_value(filename), path, sizeof path);
        if (err == 0)
            err = m->start_pcap(m->ctx, r->h, path, (size_t)json_integer_value(truncate));
    }
    if (err == -EALREADY)
        return gw_fail(reply, r->sid, r->tr, GW_ERR_UNKNOWN, "pcap already started");
    if (err == -ENOTCONN)
        return gw_fail(reply, r->sid, r->tr, GW_ERR_UNKNOWN,
                       "Error starting pcap dump (no PeerConnection)");
    if (err < 0) {
        vb_log_warn(r->a->log, "start_pcap on handle %" PRIu64 ": %s", r->h->id, strerror(-err));
        return gw_fail(reply, r->sid, r->tr, GW_ERR_UNKNOWN, "Error starting pcap dump");
    }
    *reply = gw_message("success", 0, r->tr);
    return 0;
}

static int do_stop_pcap(struct admin_req *r, json_t **reply)
{
    const struct gw_media_ops *m = r->h->session->core->media_ops;
    if (!m || !m->stop_pcap || m->stop_pcap(m->ctx, r->h) < 0)
        return gw_fail(reply, r->sid, r->tr, GW_ERR_UNKNOWN, "Capture not started");
    *reply = gw_message("success", 0, r->tr);
    return 0;
}

const struct admin_verb gw_admin_handle_verbs[] = {
    {"handle_info", do_handle_info},
    {"detach_handle", do_detach_handle},
    {"hangup_webrtc", do_hangup_webrtc},
    {"start_pcap", do_start_pcap}, /* pcap; start_text2pcap is not implemented */
    {"stop_pcap", do_stop_pcap},
    {NULL, NULL},
};
