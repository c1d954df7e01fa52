/* Conversion timing on synthetic recordings: reordering, duplicates, loss, sequence and
 * timestamp wraps, DTX gaps sized from the real Opus frame duration, SSRC changes, a video
 * that starts late in an A/V merge, PCM gaps in WAV, text data to SRT. Each test writes an
 * MJR file by hand, converts it with transcode_job_run(), and reads the output back with
 * libavformat. */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/transcode/mjr_synth.h"
#include "transcode/transcode.h"

static char dir[256];

static void path_in(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static int convert_with(const char *const *in, size_t n, const char *out,
                        const struct tc_options *o, struct tc_result *res)
{
    struct tc_job job = {.inputs = in, .n_inputs = n, .output = out, .opts = *o};
    return transcode_job_run(&job, NULL, NULL, res);
}

static int convert(const char *const *in, size_t n, const char *out, struct tc_result *res)
{
    struct tc_options o;
    tc_options_default(&o);
    return convert_with(in, n, out, &o, res);
}

static bool exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static const uint8_t opus20[] = {0xf8, 0x01, 0x02, 0x03}; /* CELT FB 20 ms, one frame */
static const uint8_t opus10[] = {0xf0, 0x01, 0x02};       /* CELT FB 10 ms */

#define NEAR(a, b, tol) ASSERT((a) > (b) - (tol) && (a) < (b) + (tol))

static void opus_reorder_duplicates_loss_and_wraps(void)
{
    char mjr[300], out[300];
    path_in(mjr, sizeof(mjr), "a.mjr");
    path_in(out, sizeof(out), "a.mka");
    struct synth s;
    synth_open(&s, mjr, MJR_KIND_AUDIO, "opus", 1700000000000000, false);
    const uint16_t seq0 = 65400;                 /* wraps after 136 packets */
    const uint32_t ts0 = 0xffffffffu - 960 * 99; /* wraps after 100 packets */
    for (uint32_t i = 0; i < 500; i++) {
        uint32_t k = i;
        if (i % 10 == 4) /* swap each 4th/5th pair */
            k = i + 1;
        else if (i % 10 == 5)
            k = i - 1;
        if (k == 200 || k == 201 || k == 300)
            continue; /* lost */
        synth_rtp(&s, 20 * k, 111, false, (uint16_t)(seq0 + k), ts0 + 960 * k, 0x1234, opus20,
                  sizeof(opus20));
        if (k % 50 == 7) /* a duplicate right after */
            synth_rtp(&s, 20 * k, 111, false, (uint16_t)(seq0 + k), ts0 + 960 * k, 0x1234, opus20,
                      sizeof(opus20));
    }
    synth_close(&s);
    struct tc_result res;
    const char *in[] = {mjr};
    ASSERT_EQ(convert(in, 1, out, &res), 0);
    ASSERT_UEQ(res.tracks[0].lost, 3);
    ASSERT_UEQ(res.tracks[0].duplicates, 10);
    ASSERT_UEQ(res.tracks[0].filled_frames, 3);
    struct probe_stream ps[2];
    ASSERT_EQ(probe_file(out, ps, 2), 1);
    ASSERT_EQ(ps[0].codec, AV_CODEC_ID_OPUS);
    ASSERT_EQ(ps[0].packets, 500); /* 497 received + 3 filled */
    ASSERT(ps[0].monotonic);
    NEAR(ps[0].first_s, 0.0, 0.0005);
    NEAR(ps[0].end_s, 10.0, 0.0015);
    NEAR(ps[0].max_step_s, 0.020, 0.0015); /* no hole anywhere, wraps included */
}

static void opus_dtx_gap_uses_real_frame_duration(void)
{
    char mjr[300], out[300];
    path_in(mjr, sizeof(mjr), "dtx.mjr");
    path_in(out, sizeof(out), "dtx.mka");
    struct synth s;
    synth_open(&s, mjr, MJR_KIND_AUDIO, "opus", 1700000000000000, false);
    uint16_t seq = 10;
    uint32_t ts = 1000;
    for (int i = 0; i < 100; i++, seq++, ts += 480) /* 1 s of 10 ms frames */
        synth_rtp(&s, (uint32_t)(10 * i), 111, false, seq, ts, 7, opus10, sizeof(opus10));
    ts += 2 * 48000; /* 2 s of DTX: sequence numbers go on without a gap */
    for (int i = 0; i < 100; i++, seq++, ts += 480)
        synth_rtp(&s, (uint32_t)(3000 + 10 * i), 111, false, seq, ts, 7, opus10, sizeof(opus10));
    synth_close(&s);
    struct tc_result res;
    const char *in[] = {mjr};
    ASSERT_EQ(convert(in, 1, out, &res), 0);
    ASSERT_UEQ(res.tracks[0].lost, 0);
    ASSERT_UEQ(res.tracks[0].filled_frames, 200); /* 2 s of 10 ms frames, not 100 of 20 ms */
    struct probe_stream ps[1];
    ASSERT_EQ(probe_file(out, ps, 1), 1);
    ASSERT_EQ(ps[0].packets, 400);
    NEAR(ps[0].end_s, 4.0, 0.0015);
    NEAR(ps[0].max_step_s, 0.010, 0.0015);
}

/* A new SSRC whose numbers jump (another recorder than Janus) continues the old one. */
static void ssrc_change_is_a_continuation(void)
{
    char mjr[300], out[300];
    path_in(mjr, sizeof(mjr), "ssrc.mjr");
    path_in(out, sizeof(out), "ssrc.opus");
    struct synth s;
    synth_open(&s, mjr, MJR_KIND_AUDIO, "opus", 1700000000000000, false);
    for (uint32_t i = 0; i < 100; i++)
        synth_rtp(&s, 20 * i, 111, false, (uint16_t)(1000 + i), 5000 + 960 * i, 0xaaaa, opus20,
                  sizeof(opus20));
    for (uint32_t i = 0; i < 100; i++)
        synth_rtp(&s, 2000 + 20 * i, 111, false, (uint16_t)(30000 + i), 3000000000u + 960 * i,
                  0xbbbb, opus20, sizeof(opus20));
    /* Janus-style: a third SSRC whose numbers already continue (rewritten at recording). */
    for (uint32_t i = 0; i < 100; i++)
        synth_rtp(&s, 4000 + 20 * i, 111, false, (uint16_t)(30100 + i),
                  3000000000u + 960 * (100 + i), 0xcccc, opus20, sizeof(opus20));
    synth_close(&s);
    struct tc_result res;
    const char *in[] = {mjr};
    ASSERT_EQ(convert(in, 1, out, &res), 0);
    ASSERT_UEQ(res.tracks[0].refused, 0);
    ASSERT_UEQ(res.tracks[0].lost, 0);
    ASSERT_UEQ(res.tracks[0].filled_frames, 0);
    struct probe_stream ps[1];
    ASSERT_EQ(probe_file(out, ps, 1), 1);
    ASSERT_EQ(ps[0].packets, 300);
    NEAR(ps[0].end_s, 6.0, 0.0015);
    NEAR(ps[0].max_step_s, 0.020, 0.0015);
}

/* -r: a sender that paused (arrival times jump 3 s) while its RTP time went on seamlessly
 * (as Janus rewrites a resume) keeps its wall-clock place only with restamping. */
static void restamp_moves_audio_after_a_latency_jump(void)
{
    char mjr[300], out[300];
    path_in(mjr, sizeof(mjr), "restamp.mjr");
    path_in(out, sizeof(out), "restamp.mka");
    struct synth s;
    synth_open(&s, mjr, MJR_KIND_AUDIO, "opus", 1700000000000000, false);
    for (uint32_t i = 0; i < 200; i++)
        synth_rtp(&s, 20 * i + (i >= 100 ? 3000 : 0), 111, false, (uint16_t)i, 960 * i, 9, opus20,
                  sizeof(opus20));
    synth_close(&s);
    struct tc_result res;
    const char *in[] = {mjr};
    struct probe_stream ps[1];
    ASSERT_EQ(convert(in, 1, out, &res), 0);
    ASSERT_EQ(probe_file(out, ps, 1), 1);
    NEAR(ps[0].end_s, 4.0, 0.0015); /* RTP time only */
    struct tc_options o;
    tc_options_default(&o);
    o.restamp = 1500;
    ASSERT_EQ(convert_with(in, 1, out, &o, &res), 0);
    ASSERT_UEQ(res.tracks[0].filled_frames, 150); /* the 3 s pause, in 20 ms frames */
    ASSERT_EQ(probe_file(out, ps, 1), 1);
    ASSERT_EQ(ps[0].packets, 350);
    NEAR(ps[0].end_s, 7.0, 0.0015);
}

/* -S: a sender whose audio clock runs 1 % fast (RTP time gains 0.2 ms per 20 ms packet on
 * the arrival times) or 1 % slow is brought back to the wall clock: packets dropped, or the
 * timeline jumped forward (and filled). Without -S the output follows RTP time. */
static void audioskew_follows_the_wall_clock(void)
{
    static const struct {
        const char *name;
        int arrival_us; /* per 20 ms of RTP time */
        double plain_s, skewed_s;
    } cases[] = {{"fast.mjr", 19800, 30.0, 29.7}, {"slow.mjr", 20200, 30.0, 30.3}};
    for (size_t c = 0; c < 2; c++) {
        char mjr[300], out[300];
        path_in(mjr, sizeof(mjr), cases[c].name);
        path_in(out, sizeof(out), "skew.mka");
        struct synth s;
        synth_open(&s, mjr, MJR_KIND_AUDIO, "opus", 1700000000000000, false);
        for (uint32_t i = 0; i < 1500; i++) /* 30 s of RTP time */
            synth_rtp(&s, (uint32_t)((int64_t)i * cases[c].arrival_us / 1000), 111, false,
                      (uint16_t)i, 960 * i, 5, opus20, sizeof(opus20));
        synth_close(&s);
        struct tc_result res;
        const char *in[] = {mjr};
        struct probe_stream ps[1];
        ASSERT_EQ(convert(in, 1, out, &res), 0);
        ASSERT_EQ(probe_file(out, ps, 1), 1);
        NEAR(ps[0].end_s, cases[c].plain_s, 0.0015);
        struct tc_options o;
        tc_options_default(&o);
        o.audioskew_ms = 40;
        ASSERT_EQ(convert_with(in, 1, out, &o, &res), 0);
        ASSERT_EQ(probe_file(out, ps, 1), 1);
        ASSERT(ps[0].monotonic);
        /* Drift is let grow to the threshold (40 ms) as seen through the 1/64 average (which
         * trails a steady drift by about 13 ms), and is corrected a packet (20 ms) at a time. */
        NEAR(ps[0].end_s, cases[c].skewed_s, 0.080);
        if (c == 0)
            ASSERT(res.tracks[0].skew_dropped > 0);
        else
            ASSERT(res.tracks[0].filled_frames > 0);
    }
}

/* -C: a marked packet a few sequence numbers on but far ahead in RTP time is dropped. */
static void silence_distance_drops_the_suppression_marker(void)
{
    char mjr[300], out[300];
    path_in(mjr, sizeof(mjr), "ssup.mjr");
    path_in(out, sizeof(out), "ssup.opus");
    struct synth s;
    synth_open(&s, mjr, MJR_KIND_AUDIO, "opus", 1700000000000000, false);
    uint32_t ts = 0;
    for (uint32_t i = 0; i < 60; i++) {
        if (i == 50)
            ts += 5 * 48000; /* the marked packet jumps 5 s */
        synth_rtp(&s, 20 * i, 111, i == 50, (uint16_t)i, ts, 9, opus20, sizeof(opus20));
        ts += 960;
    }
    synth_close(&s);
    struct tc_result res;
    const char *in[] = {mjr};
    ASSERT_EQ(convert(in, 1, out, &res), 0);
    ASSERT_UEQ(res.tracks[0].refused, 0);
    struct tc_options o;
    tc_options_default(&o);
    o.silence_distance = 5;
    ASSERT_EQ(convert_with(in, 1, out, &o, &res), 0);
    ASSERT_UEQ(res.tracks[0].refused, 1);
    ASSERT_UEQ(res.tracks[0].frames, 59);
}

/* A VP8 frame: descriptor (S=1), then a key frame header of 320x240 or an inter frame. */
static size_t vp8_frame_sized(uint8_t *p, bool key, int w, int h)
{
    size_t n = 0;
    p[n++] = 0x10;
    p[n++] = key ? 0x50 : 0x51; /* frame tag: bit 0 is 0 for a key frame */
    p[n++] = 0x02;
    p[n++] = 0x00;
    if (key) {
        const uint8_t hdr[] = {
            0x9d, 0x01, 0x2a, (uint8_t)w, (uint8_t)(w >> 8), (uint8_t)h, (uint8_t)(h >> 8)};
        memcpy(p + n, hdr, sizeof(hdr));
        n += sizeof(hdr);
    }
    for (int i = 0; i < 20; i++)
        p[n++] = (uint8_t)(i * 7);
    return n;
}

static size_t vp8_frame(uint8_t *p, bool key)
{
    return vp8_frame_sized(p, key, 320, 240);
}

/* A sender that changes resolution: every change is reported, the output holds all frames. */
static void resolution_changes_are_reported(void)
{
    char mjr[300], out[300];
    path_in(mjr, sizeof(mjr), "res.mjr");
    path_in(out, sizeof(out), "res.webm");
    struct synth s;
    synth_open(&s, mjr, MJR_KIND_VIDEO, "vp8", 1700000000000000, false);
    uint8_t buf[64];
    for (uint32_t i = 0; i < 90; i++) { /* 320x240, then 640x480 from 1 s, 1280x720 from 2 s */
        int w = i < 30 ? 320 : i < 60 ? 640 : 1280, h = i < 30 ? 240 : i < 60 ? 480 : 720;
        size_t n = vp8_frame_sized(buf, i % 30 == 0, w, h);
        synth_rtp(&s, (i * 100) / 3, 96, true, (uint16_t)i, 3000 * i, 2, buf, n);
    }
    synth_close(&s);
    struct tc_options o;
    tc_options_default(&o);
    struct tc_description d;
    char err[256];
    ASSERT_EQ(transcode_describe(mjr, &o, &d, err, sizeof(err)), 0);
    ASSERT_EQ(d.n_resolutions, 3);
    ASSERT_EQ(d.resolutions[1].width, 640);
    ASSERT_EQ(d.resolutions[1].height, 480);
    NEAR(d.resolutions[1].at_s, 1.0, 0.001);
    ASSERT_EQ(d.resolutions[2].width, 1280);
    NEAR(d.resolutions[2].at_s, 2.0, 0.001);
    struct tc_result res;
    const char *in[] = {mjr};
    ASSERT_EQ(convert(in, 1, out, &res), 0);
    struct probe_stream ps[1];
    ASSERT_EQ(probe_file(out, ps, 1), 1);
    ASSERT_EQ(ps[0].packets, 90);
    ASSERT_EQ(ps[0].width, 320); /* the container declares the first keyframe's size */
}

/* Multiopus (5.1 as WebRTC sends it) gets a family-1 OpusHead with six channels. */
static void multiopus_has_six_channels(void)
{
    char mjr[300], out[300];
    path_in(mjr, sizeof(mjr), "multi.mjr");
    path_in(out, sizeof(out), "multi.mka");
    struct synth s;
    synth_open(&s, mjr, MJR_KIND_AUDIO, "multiopus", 1700000000000000, false);
    for (uint32_t i = 0; i < 50; i++)
        synth_rtp(&s, 20 * i, 111, false, (uint16_t)i, 960 * i, 5, opus20, sizeof(opus20));
    synth_close(&s);
    struct tc_result res;
    const char *in[] = {mjr};
    ASSERT_EQ(convert(in, 1, out, &res), 0);
    struct probe_stream ps[1];
    ASSERT_EQ(probe_file(out, ps, 1), 1);
    ASSERT_EQ(ps[0].codec, AV_CODEC_ID_OPUS);
    ASSERT_EQ(ps[0].channels, 6);
    ASSERT_EQ(ps[0].packets, 50);
}

static void merge_aligns_a_late_video_on_wall_clock(void)
{
    char a[300], v[300], out[300];
    path_in(a, sizeof(a), "m-audio.mjr");
    path_in(v, sizeof(v), "m-video.mjr");
    path_in(out, sizeof(out), "m.webm");
    const int64_t u = 1700000000000000;
    struct synth s;
    synth_open(&s, a, MJR_KIND_AUDIO, "opus", u, false);
    for (uint32_t i = 0; i < 250; i++) /* 5 s */
        synth_rtp(&s, 20 * i, 111, false, (uint16_t)(i + 1), 960 * i, 1, opus20, sizeof(opus20));
    synth_close(&s);
    synth_open(&s, v, MJR_KIND_VIDEO, "vp8", u + 2000000, false); /* starts 2 s later */
    uint8_t buf[64];
    for (uint32_t i = 0; i < 90; i++) { /* 3 s at 30 fps */
        size_t n = vp8_frame(buf, i % 30 == 0);
        synth_rtp(&s, (i * 100) / 3, 96, true, (uint16_t)(500 + i), 123456 + 3000 * i, 2, buf, n);
    }
    synth_close(&s);
    struct tc_result res;
    const char *in[] = {a, v};
    ASSERT_EQ(convert(in, 2, out, &res), 0);
    ASSERT_EQ(res.n_tracks, 2);
    ASSERT_EQ(res.tracks[1].start_us, 2000000);
    ASSERT_EQ(res.tracks[1].width, 320);
    struct probe_stream ps[2];
    ASSERT_EQ(probe_file(out, ps, 2), 2);
    ASSERT_EQ(ps[0].codec, AV_CODEC_ID_OPUS);
    ASSERT_EQ(ps[1].codec, AV_CODEC_ID_VP8);
    ASSERT_EQ(ps[0].packets, 250);
    ASSERT_EQ(ps[1].packets, 90);
    ASSERT_EQ(ps[1].width, 320);
    ASSERT_EQ(ps[1].height, 240);
    NEAR(ps[0].first_s, 0.0, 0.020);
    NEAR(ps[1].first_s, 2.0, 0.020); /* within 20 ms of the headers' wall clocks */
    NEAR(ps[0].end_s, 5.0, 0.020);
    NEAR(ps[1].first_s + 89.0 / 30.0, 4.967, 0.020);
}

/* A jump of an hour in RTP time that the arrival times do not show (a corrupt or reset
 * timestamp) is closed up, not filled with an hour of silence. */
static void rtp_time_jump_is_closed_up(void)
{
    char mjr[300], out[300];
    path_in(mjr, sizeof(mjr), "jump.mjr");
    path_in(out, sizeof(out), "jump.mka");
    struct synth s;
    synth_open(&s, mjr, MJR_KIND_AUDIO, "opus", 1700000000000000, false);
    for (uint32_t i = 0; i < 100; i++)
        synth_rtp(&s, 20 * i, 111, false, (uint16_t)i, 960 * i + (i >= 50 ? 3600u * 48000 : 0), 4,
                  opus20, sizeof(opus20));
    synth_close(&s);
    struct tc_result res;
    const char *in[] = {mjr};
    ASSERT_EQ(convert(in, 1, out, &res), 0);
    ASSERT_UEQ(res.tracks[0].discontinuities, 1);
    ASSERT_UEQ(res.tracks[0].filled_frames, 0);
    struct probe_stream ps[1];
    ASSERT_EQ(probe_file(out, ps, 1), 1);
    ASSERT_EQ(ps[0].packets, 100);
    NEAR(ps[0].end_s, 2.0, 0.0015);
}

/* Several participants of one room: each recording becomes its own track, placed where its
 * header's wall clock says (here three talkers joining 0, 1.5 and 4 s into the meeting). */
static void merge_of_a_room_keeps_each_participant_in_place(void)
{
    const int64_t u = 1700000000000000, offsets_us[3] = {0, 1500000, 4000000};
    char paths[3][300], out[300];
    const char *in[3];
    for (int p = 0; p < 3; p++) {
        char name[32];
        snprintf(name, sizeof(name), "room-p%d.mjr", p);
        path_in(paths[p], sizeof(paths[p]), name);
        in[p] = paths[p];
        struct synth s;
        synth_open(&s, paths[p], MJR_KIND_AUDIO, "opus", u + offsets_us[p], false);
        for (uint32_t i = 0; i < 100; i++) /* 2 s each */
            synth_rtp(&s, 20 * i, 111, false, (uint16_t)(1000 * p + i), 777 * (uint32_t)p + 960 * i,
                      (uint32_t)p + 1, opus20, sizeof(opus20));
        synth_close(&s);
    }
    path_in(out, sizeof(out), "room.mka");
    struct tc_result res;
    ASSERT_EQ(convert(in, 3, out, &res), 0);
    ASSERT_EQ(res.n_tracks, 3);
    struct probe_stream ps[3];
    ASSERT_EQ(probe_file(out, ps, 3), 3);
    for (int p = 0; p < 3; p++) {
        ASSERT_EQ(ps[p].codec, AV_CODEC_ID_OPUS);
        ASSERT_EQ(ps[p].packets, 100);
        ASSERT_EQ(res.tracks[p].start_us, offsets_us[p]);
        NEAR(ps[p].first_s, (double)offsets_us[p] / 1e6, 0.002);
        NEAR(ps[p].end_s, (double)offsets_us[p] / 1e6 + 2.0, 0.002);
    }
}

static void pcmu_gap_in_wav_keeps_the_length(void)
{
    char mjr[300], out[300];
    path_in(mjr, sizeof(mjr), "g711.mjr");
    path_in(out, sizeof(out), "g711.wav");
    struct synth s;
    synth_open(&s, mjr, MJR_KIND_AUDIO, "pcmu", 1700000000000000, false);
    uint8_t pcm[160];
    memset(pcm, 0x55, sizeof(pcm));
    for (uint32_t i = 0; i < 105; i++)
        if (i < 50 || i >= 55) /* 5 packets (100 ms) lost */
            synth_rtp(&s, 20 * i, 0, false, (uint16_t)(7 + i), 160 * i, 3, pcm, sizeof(pcm));
    synth_close(&s);
    struct tc_result res;
    const char *in[] = {mjr};
    ASSERT_EQ(convert(in, 1, out, &res), 0);
    size_t len;
    FILE *fp = fopen(out, "rb");
    ASSERT(fp != NULL);
    uint8_t *b = malloc(1 << 20);
    len = fread(b, 1, 1 << 20, fp);
    fclose(fp);
    ASSERT(len > 44);
    ASSERT(memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WAVE", 4) == 0);
    ASSERT_EQ(rd_le32(b + 4), len - 8); /* RIFF size */
    size_t at = 12;
    bool found = false;
    while (at + 8 <= len) {
        uint32_t sz = rd_le32(b + at + 4);
        if (memcmp(b + at, "data", 4) == 0) {
            ASSERT_EQ(sz, 105 * 160);              /* the lost 100 ms are silence, not missing */
            ASSERT_EQ(b[at + 8 + 50 * 160], 0xff); /* µ-law silence */
            ASSERT_EQ(b[at + 8 + 49 * 160], 0x55);
            found = true;
            break;
        }
        at += 8 + sz + (sz & 1);
    }
    ASSERT(found);
    free(b);
}

/* Cue times count from the recording's creation ("s", 1 ms before "u" here); a cue ends
 * 1 ms before the next, the last lasts 5 s: janus-pp-rec's timing, with its '.' made ','. */
static void text_data_to_srt_with_commas(void)
{
    char mjr[300], out[300];
    path_in(mjr, sizeof(mjr), "chat.mjr");
    path_in(out, sizeof(out), "chat.srt");
    const int64_t u = 1700000000000000;
    struct synth s;
    synth_open(&s, mjr, MJR_KIND_DATA, "text", u, false);
    synth_data(&s, 0, u, "hello");
    synth_data(&s, 1500, u + 1500000, "second line");
    synth_data(&s, 4250, u + 4250000, "bye");
    synth_close(&s);
    struct tc_result res;
    const char *in[] = {mjr};
    ASSERT_EQ(convert(in, 1, out, &res), 0);
    FILE *fp = fopen(out, "rb");
    ASSERT(fp != NULL);
    char text[1024] = {0};
    ASSERT(fread(text, 1, sizeof(text) - 1, fp) > 0);
    fclose(fp);
    ASSERT(strstr(text, "00:00:00,001 --> 00:00:01,500\nhello") != NULL);
    ASSERT(strstr(text, "00:00:01,501 --> 00:00:04,250\nsecond line") != NULL);
    ASSERT(strstr(text, "00:00:04,251 --> 00:00:09,251\nbye") != NULL);
}

/* Bad inputs: a clear error, and nothing under the output's name or its temporary one. */
static void bad_inputs_leave_nothing(void)
{
    char mjr[300], out[300], part[310];
    path_in(out, sizeof(out), "bad.webm");
    snprintf(part, sizeof(part), "%s.part", out);
    struct tc_result res;
    const char *in[] = {mjr};
    struct synth s;
    uint8_t buf[64];

    path_in(mjr, sizeof(mjr), "e2ee.mjr");
    synth_open(&s, mjr, MJR_KIND_VIDEO, "vp8", 1700000000000000, true);
    synth_rtp(&s, 0, 96, true, 1, 0, 1, buf, vp8_frame(buf, true));
    synth_close(&s);
    ASSERT_EQ(convert(in, 1, out, &res), -ENOTSUP);
    if (!strstr(res.error, "encrypted"))
        TEST_FAIL_("unexpected error: %s", res.error);
    ASSERT(!exists(out) && !exists(part));

    path_in(mjr, sizeof(mjr), "empty.mjr");
    synth_open(&s, mjr, MJR_KIND_VIDEO, "vp8", 1700000000000000, false);
    synth_close(&s);
    ASSERT_EQ(convert(in, 1, out, &res), -ENODATA);
    ASSERT(!exists(out) && !exists(part));

    path_in(mjr, sizeof(mjr), "notmjr.mjr");
    FILE *fp = fopen(mjr, "wb");
    fputs("this is not a recording", fp);
    fclose(fp);
    ASSERT_EQ(convert(in, 1, out, &res), -EBADMSG);
    ASSERT(res.error[0] != '\0');
    ASSERT(!exists(out) && !exists(part));

    path_in(mjr, sizeof(mjr), "vp8.mjr");
    synth_open(&s, mjr, MJR_KIND_VIDEO, "vp8", 1700000000000000, false);
    for (uint32_t i = 0; i < 10; i++)
        synth_rtp(&s, 33 * i, 96, true, (uint16_t)i, 3000 * i, 1, buf, vp8_frame(buf, i == 0));
    synth_close(&s);
    char mp4[300];
    path_in(mp4, sizeof(mp4), "bad.mp4");
    ASSERT_EQ(convert(in, 1, mp4, &res), -ENOTSUP);
    ASSERT(strstr(res.error, "webm") != NULL); /* says where it can go */
    ASSERT(!exists(mp4));

    /* Only inter frames: nothing decodable. */
    path_in(mjr, sizeof(mjr), "nokey.mjr");
    synth_open(&s, mjr, MJR_KIND_VIDEO, "vp8", 1700000000000000, false);
    for (uint32_t i = 0; i < 10; i++)
        synth_rtp(&s, 33 * i, 96, true, (uint16_t)i, 3000 * i, 1, buf, vp8_frame(buf, false));
    synth_close(&s);
    ASSERT_EQ(convert(in, 1, out, &res), -ENODATA);
    ASSERT(!exists(out) && !exists(part));

    /* A recording cut in the middle of a frame converts what is whole. */
    path_in(mjr, sizeof(mjr), "cut.mjr");
    synth_open(&s, mjr, MJR_KIND_AUDIO, "opus", 1700000000000000, false);
    for (uint32_t i = 0; i < 50; i++)
        synth_rtp(&s, 20 * i, 111, false, (uint16_t)i, 960 * i, 1, opus20, sizeof(opus20));
    synth_close(&s);
    struct stat st;
    ASSERT_EQ(stat(mjr, &st), 0);
    ASSERT_EQ(truncate(mjr, st.st_size - 5), 0);
    char opus[300];
    path_in(opus, sizeof(opus), "cut.opus");
    ASSERT_EQ(convert(in, 1, opus, &res), 0);
    struct probe_stream ps[1];
    ASSERT_EQ(probe_file(opus, ps, 1), 1);
    ASSERT_EQ(ps[0].packets, 49);
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/vb-timing-XXXXXX");
    ASSERT(mkdtemp(dir) != NULL);
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ASSERT_EQ(system(cmd), 0);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"opus_reorder_duplicates_loss_and_wraps", opus_reorder_duplicates_loss_and_wraps},
        {"opus_dtx_gap_uses_real_frame_duration", opus_dtx_gap_uses_real_frame_duration},
        {"ssrc_change_is_a_continuation", ssrc_change_is_a_continuation},
        {"restamp_moves_audio_after_a_latency_jump", restamp_moves_audio_after_a_latency_jump},
        {"audioskew_follows_the_wall_clock", audioskew_follows_the_wall_clock},
        {"silence_distance_drops_the_suppression_marker",
         silence_distance_drops_the_suppression_marker},
        {"resolution_changes_are_reported", resolution_changes_are_reported},
        {"multiopus_has_six_channels", multiopus_has_six_channels},
        {"merge_aligns_a_late_video_on_wall_clock", merge_aligns_a_late_video_on_wall_clock},
        {"rtp_time_jump_is_closed_up", rtp_time_jump_is_closed_up},
        {"merge_of_a_room_keeps_each_participant_in_place",
         merge_of_a_room_keeps_each_participant_in_place},
        {"pcmu_gap_in_wav_keeps_the_length", pcmu_gap_in_wav_keeps_the_length},
        {"text_data_to_srt_with_commas", text_data_to_srt_with_commas},
        {"bad_inputs_leave_nothing", bad_inputs_leave_nothing},
        {NULL, NULL},
    };
    setup();
    int rc = test_main(cases, argc, argv);
    teardown();
    return rc;
}
