/* This file implements mjr_pcap_import(): the RTP packets of one SSRC in a capture written
 * as an MJR00002 recording, as Janus's pcap2mjr does it.
 *
 * DESIGN: the recording is written through the writer engine like any live one, with a clock
 * that reads the time of the capture record being converted: the header's "u" is the first
 * selected packet's capture time, "s" is the same (pcap2mjr writes both from that packet),
 * and each frame's t_ms is its capture time relative to the first. The stream is raw (RTP
 * sequence numbers and timestamps are kept as captured) and is only opened at the first
 * selected packet, since "s" comes from it; a capture with none still leaves the 8-byte file
 * pcap2mjr leaves. The converter outruns the writer thread easily, so an append refused for
 * lack of buffer memory waits for the writer and is retried rather than dropped. The engine
 * never overwrites a recording, but pcap2mjr replaces its destination: the stream is written
 * under a unique name next to it and renamed over it once complete.
 *
 * Differences from pcap2mjr: its t_ms are counted from the first capture record whatever it
 * holds, ours from the first selected packet (the engine's rule for every recording); it keeps
 * Ethernet padding after short datagrams as RTP payload, we keep the UDP payload. */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/xalloc.h"

#include "mjr/mjr.h"
#include "mjr/pcap_internal.h"

#define IMPORT_SEGMENT (256u * 1024)
#define RETRY_SLEEP_NS 2000000L /* 2 ms */
#define RETRY_LIMIT 5000        /* 10 s without progress: the writer is stuck */

struct import_clock {
    _Atomic int64_t now_us; /* capture time of the record being converted */
};

struct import {
    const struct mjr_pcap_import_opts *opts;
    const char *mjr_path; /* destination */
    char *work_path;      /* what the engine writes: "<destination>.XXXXXX" */
    enum mjr_kind kind;
    struct import_clock now;
    struct vb_clock clock;
    struct mjr_engine *engine;
    struct mjr_stream *stream;
    uint32_t ssrc;
    bool locked; /* ssrc is chosen (given, or autodetected) */
    uint64_t records, written, truncated, not_rtp, other_ssrc;
    /* Set by on_closed on the writer thread; read after mjr_engine_destroy() joined it. */
    bool closed;
    int status;
    uint64_t frames;
};

static const char *const video_codecs[] = {"vp8", "vp9", "h264", "av1", "h265", NULL};
static const char *const audio_codecs[] = {"opus", "multiopus", "pcmu",   "pcma", "g711",
                                           "g722", "l16",       "l16-48", NULL};

static bool codec_in(const char *codec, const char *const *list)
{
    for (; *list; list++)
        if (strcasecmp(codec, *list) == 0)
            return true;
    return false;
}

/* Kind of recording for a "c" value, or MJR_KIND_UNKNOWN (with a sentence in err). */
static enum mjr_kind codec_kind(const char *codec, char *err, size_t errlen)
{
    if (!codec || !codec[0]) {
        snprintf(err, errlen, "a codec is required");
        return MJR_KIND_UNKNOWN;
    }
    if (codec_in(codec, video_codecs))
        return MJR_KIND_VIDEO;
    if (codec_in(codec, audio_codecs))
        return MJR_KIND_AUDIO;
    if (strcasecmp(codec, "text") == 0 || strcasecmp(codec, "binary") == 0)
        snprintf(err, errlen, "data channels ('%s') are not RTP: not supported", codec);
    else
        snprintf(err, errlen,
                 "unsupported codec '%s' (video: vp8 vp9 h264 av1 h265; audio: opus "
                 "multiopus pcmu pcma g711 g722 l16 l16-48)",
                 codec);
    return MJR_KIND_UNKNOWN;
}

static int64_t clock_now(void *ctx)
{
    struct import_clock *c = ctx;
    return atomic_load_explicit(&c->now_us, memory_order_relaxed);
}

static void on_closed(void *ud, const struct mjr_stream_result *res)
{
    struct import *im = ud;
    im->closed = true;
    im->status = res->status;
    im->frames = res->frames;
}

static int open_stream(struct import *im, int64_t created_us)
{
    struct mjr_stream_opts so = {
        .path = im->work_path,
        .info = {.kind = im->kind, .codec = im->opts->codec, .created_us = created_us},
        .segment_size = IMPORT_SEGMENT,
        .raw = true,
        .on_closed = on_closed,
        .ud = im,
    };
    return mjr_stream_open(im->engine, &so, &im->stream);
}

/* Appends one packet, waiting for the writer when the buffers are full. */
static int write_packet(struct import *im, const uint8_t *pkt, size_t len)
{
    const struct timespec pause = {0, RETRY_SLEEP_NS};
    for (int attempt = 0;; attempt++) {
        int rc = mjr_stream_write_rtp(im->stream, pkt, len);
        if (rc != -EAGAIN || attempt >= RETRY_LIMIT)
            return rc;
        if (attempt == 0)
            mjr_engine_flush(im->engine);
        else
            nanosleep(&pause, NULL);
    }
}

/* Handles one record: selects it or says why not. Returns 0 or a write error. */
static int import_record(struct import *im, const struct mjr_capture_packet *p)
{
    const struct vb_log *log = im->opts->log;
    im->records++;
    if (p->caplen != p->origlen) {
        im->truncated++;
        vb_log_debug(log, "record %llu: cut to %u of %u bytes by the capture, skipped",
                     (unsigned long long)p->index, p->caplen, p->origlen);
        return 0;
    }
    struct mjr_capture_rtp rtp;
    const char *why = NULL;
    if (mjr_capture_decode_rtp(p, &rtp, &why) < 0) {
        im->not_rtp++;
        vb_log_debug(log, "record %llu: %s, skipped", (unsigned long long)p->index, why);
        return 0;
    }
    if (!im->locked) {
        im->locked = true;
        im->ssrc = rtp.ssrc;
        vb_log_info(log, "autodetected SSRC %u (0x%08x)", im->ssrc, im->ssrc);
    }
    if (rtp.ssrc != im->ssrc) {
        im->other_ssrc++;
        vb_log_debug(log, "record %llu: SSRC %u, not %u, skipped", (unsigned long long)p->index,
                     rtp.ssrc, im->ssrc);
        return 0;
    }
    atomic_store_explicit(&im->now.now_us, p->time_us, memory_order_relaxed);
    if (!im->stream) {
        int rc = open_stream(im, p->time_us);
        if (rc < 0)
            return rc;
    }
    int rc = write_packet(im, rtp.rtp, rtp.len);
    if (rc < 0)
        return rc;
    im->written++;
    return 0;
}

/* Converts every record; returns 0 (possibly after a warning about damage) or -errno. */
static int import_all(struct import *im, struct mjr_capture *cap, char *err, size_t errlen)
{
    struct mjr_capture_packet p;
    int rc;
    while ((rc = mjr_capture_next(cap, &p)) == 1) {
        int wrc = import_record(im, &p);
        if (wrc < 0) {
            snprintf(err, errlen, "cannot write %s: %s", im->mjr_path, strerror(-wrc));
            return wrc;
        }
    }
    if (rc == -EIO) {
        snprintf(err, errlen, "cannot read the capture: %s", mjr_capture_diag(cap));
        return rc;
    }
    if (rc < 0)
        vb_log_warn(im->opts->log, "the capture is damaged (%s); converting what came before",
                    mjr_capture_diag(cap));
    return 0;
}

static void report(const struct import *im)
{
    const struct vb_log *log = im->opts->log;
    if (im->written == 0)
        vb_log_warn(log, "no RTP packet%s found in %llu records: %s has no frames",
                    im->opts->ssrc ? " of the requested SSRC" : "", (unsigned long long)im->records,
                    im->mjr_path);
    vb_log_info(log,
                "saved %llu of %llu records (SSRC %u); skipped %llu not RTP, %llu of other "
                "SSRCs, %llu cut short by the capture",
                (unsigned long long)im->written, (unsigned long long)im->records, im->ssrc,
                (unsigned long long)im->not_rtp, (unsigned long long)im->other_ssrc,
                (unsigned long long)im->truncated);
}

/* Reserves a unique name next to the destination for the engine to write. */
static int work_path_make(struct import *im, char *err, size_t errlen)
{
    size_t n = strlen(im->mjr_path);
    im->work_path = xmalloc(n + 8);
    memcpy(im->work_path, im->mjr_path, n);
    memcpy(im->work_path + n, ".XXXXXX", 8);
    int fd = mkstemp(im->work_path);
    if (fd < 0) {
        int rc = -errno;
        snprintf(err, errlen, "cannot create %s: %s", im->mjr_path, strerror(errno));
        free(im->work_path);
        im->work_path = NULL;
        return rc;
    }
    close(fd);
    unlink(im->work_path); /* the engine refuses to overwrite: it must not exist */
    return 0;
}

/* Moves the finished recording into place, or removes what a failure left. */
static int work_path_finish(struct import *im, int rc, char *err, size_t errlen)
{
    if (rc == 0 && rename(im->work_path, im->mjr_path) != 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot rename the recording to %s: %s", im->mjr_path,
                 strerror(errno));
    }
    if (rc < 0) {
        size_t n = strlen(im->work_path);
        char *tmp = xmalloc(n + 5);
        memcpy(tmp, im->work_path, n);
        memcpy(tmp + n, ".tmp", 5);
        unlink(im->work_path);
        unlink(tmp);
        free(tmp);
    }
    return rc;
}

/* Opens the capture and checks that its link type is one we can read. */
static int open_capture(const char *path, struct mjr_capture **cap, char *err, size_t errlen)
{
    char why[256] = "";
    int rc = mjr_capture_open_file(path, cap, why, sizeof(why));
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", path, why[0] ? why : strerror(-rc));
        return rc;
    }
    uint32_t link = mjr_capture_link(*cap);
    if (mjr_capture_format(*cap) == MJR_CAPTURE_PCAP && !mjr_capture_link_supported(link)) {
        snprintf(err, errlen,
                 "unsupported link type %u in %s (supported: Ethernet, Linux SLL, Linux "
                 "SLL2, raw IP)",
                 link, path);
        mjr_capture_destroy(*cap);
        return -EBADMSG;
    }
    return 0;
}

int mjr_pcap_import(const char *pcap_path, const char *mjr_path,
                    const struct mjr_pcap_import_opts *opts, char *err, size_t errlen)
{
    char scratch[8];
    if (!err) {
        err = scratch;
        errlen = sizeof(scratch);
    }
    err[0] = '\0';
    struct import im = {
        .opts = opts, .mjr_path = mjr_path, .ssrc = opts->ssrc, .locked = opts->ssrc != 0};
    im.kind = codec_kind(opts->codec, err, errlen);
    if (im.kind == MJR_KIND_UNKNOWN)
        return -EINVAL;
    im.clock = (struct vb_clock){.mono_us = clock_now, .real_us = clock_now, .ctx = &im.now};
    struct mjr_capture *cap;
    int rc = open_capture(pcap_path, &cap, err, errlen);
    if (rc < 0)
        return rc;
    rc = work_path_make(&im, err, errlen);
    if (rc < 0)
        goto out_capture;
    struct mjr_engine_config cfg = {
        .writer_threads = 1, .buffered = true, .clock = &im.clock, .log = opts->log};
    rc = mjr_engine_create(&cfg, &im.engine);
    if (rc < 0) {
        snprintf(err, errlen, "cannot start the writer: %s", strerror(-rc));
        goto out_work;
    }
    rc = import_all(&im, cap, err, errlen);
    if (!im.stream) {
        int orc = open_stream(&im, 0);
        if (orc < 0 && rc == 0) {
            snprintf(err, errlen, "cannot create %s: %s", mjr_path, strerror(-orc));
            rc = orc;
        }
    }
    mjr_stream_close(im.stream);
    mjr_engine_destroy(im.engine);
    if (rc == 0 && (!im.closed || im.status != 0)) {
        rc = im.closed ? im.status : -EIO;
        snprintf(err, errlen, "cannot write %s: %s", mjr_path, strerror(-rc));
    }
out_work:
    rc = work_path_finish(&im, rc, err, errlen);
    if (rc == 0)
        report(&im);
    free(im.work_path);
out_capture:
    mjr_capture_destroy(cap);
    return rc;
}
