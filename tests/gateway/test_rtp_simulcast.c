/* Tests of gateway/rtp/simulcast.c with hand-built VP8 (and H.264) simulcast streams: the
 * substream changes only on a keyframe of the wanted one; a stopped substream falls back to any
 * keyframe; the target falls back to what the publisher sends; temporal layers are dropped above
 * the target and added at layer-sync frames; VP8 picture ids and TL0PICIDX stay continuous
 * across a switch; keyframe requests are rate-limited; and, run together with gw_rtp_switch the
 * way the VideoRoom does, the output has one SSRC-independent continuous sequence. */
#include <errno.h>

#include "common/bytes.h"
#include "gateway/rtp/rtp.h"
#include "gateway/rtp/switch.h"
#include "tests/test.h"

#define MS 1000

/* One substream of a simulcast publisher. */
struct src {
    uint32_t ssrc;
    uint16_t seq;
    uint32_t ts;
    uint16_t picid;
    uint8_t tl0;
};

struct pkt {
    uint8_t b[32];
    size_t len;
};

/* The next VP8 packet of `s`: X S; I L T; 15-bit picid; tl0; tid and Y; frame tag. `start`
 * false makes a continuation packet of the previous frame (same picid). */
static struct pkt vp8(struct src *s, bool keyframe, int tid, bool sync, bool start)
{
    struct pkt p = {.len = 12 + 6 + 4};
    if (start) {
        s->picid = (uint16_t)((s->picid + 1) & 0x7fff);
        s->ts += 3000;
        if (tid == 0)
            s->tl0++;
    }
    p.b[0] = 0x80;
    p.b[1] = 96;
    wr_u16(p.b + 2, s->seq++);
    wr_u32(p.b + 4, s->ts);
    wr_u32(p.b + 8, s->ssrc);
    uint8_t *d = p.b + 12;
    d[0] = start ? 0x90 : 0x80;
    d[1] = 0xe0;
    wr_u16(d + 2, (uint16_t)(0x8000 | s->picid));
    d[4] = s->tl0;
    d[5] = (uint8_t)(tid << 6 | (sync ? 0x20 : 0));
    d[6] = keyframe && start ? 0x50 : 0x51;
    return p;
}

static struct pkt key_of(struct src *s)
{
    return vp8(s, true, 0, false, true);
}

static struct pkt delta_of(struct src *s)
{
    return vp8(s, false, 0, false, true);
}

struct res {
    int fwd;
    bool switched, pli;
};

static struct res run(struct gw_simulcast *sc, int sub, struct pkt *p, int64_t now)
{
    struct res r;
    r.fwd = gw_simulcast_process(sc, sub, p->b, p->len, now, &r.switched, &r.pli);
    return r;
}

static uint16_t picid_of(const struct pkt *p)
{
    struct gw_vp8_desc d;
    ASSERT_EQ(gw_vp8_desc_parse(p->b + 12, p->len - 12, &d), 0);
    return d.picid;
}

static uint8_t tl0_of(const struct pkt *p)
{
    struct gw_vp8_desc d;
    ASSERT_EQ(gw_vp8_desc_parse(p->b + 12, p->len - 12, &d), 0);
    return d.tl0picidx;
}

/* Three substreams with unrelated numbering. */
static void sources(struct src s[3])
{
    s[0] = (struct src){.ssrc = 0x100, .seq = 100, .ts = 1000, .picid = 100, .tl0 = 10};
    s[1] = (struct src){.ssrc = 0x200, .seq = 40000, .ts = 77, .picid = 2000, .tl0 = 200};
    s[2] = (struct src){.ssrc = 0x300, .seq = 65000, .ts = 5, .picid = 30000, .tl0 = 250};
}

/* One delta frame on each substream at `now`; returns which substream got forwarded (-1). */
static int tick(struct gw_simulcast *sc, struct src s[3], int64_t now, const bool on[3])
{
    int got = -1;
    for (int i = 0; i < 3; i++) {
        if (on && !on[i])
            continue;
        struct pkt p = delta_of(&s[i]);
        struct res r = run(sc, i, &p, now);
        ASSERT(!r.switched);
        if (r.fwd) {
            ASSERT_EQ(got, -1);
            got = i;
        }
    }
    return got;
}

static void test_start_and_rate_limit(void)
{
    struct gw_simulcast sc;
    struct src s[3];
    sources(s);
    gw_simulcast_init(&sc, GW_VC_VP8);
    ASSERT_EQ(gw_simulcast_substream(&sc), -1);
    ASSERT_EQ(gw_simulcast_temporal(&sc), -1);
    /* deltas only: nothing forwarded, one keyframe request, then at most one per 500 ms */
    struct pkt p = delta_of(&s[2]);
    struct res r = run(&sc, 2, &p, 0);
    ASSERT(!r.fwd && !r.switched && r.pli);
    int plis = 0;
    for (int64_t t = 30 * MS; t < 1000 * MS; t += 30 * MS) {
        for (int i = 0; i < 3; i++) {
            p = delta_of(&s[i]);
            r = run(&sc, i, &p, t);
            ASSERT(!r.fwd);
            plis += r.pli;
            if (r.pli)
                ASSERT(t == 510 * MS);
        }
    }
    ASSERT_EQ(plis, 1);
    /* the first keyframe of the target: switched and forwarded, no more requests */
    p = key_of(&s[2]);
    r = run(&sc, 2, &p, 1200 * MS);
    ASSERT(r.fwd && r.switched && !r.pli);
    ASSERT_EQ(gw_simulcast_substream(&sc), 2);
    ASSERT_EQ(gw_simulcast_temporal(&sc), 2);
    for (int i = 0; i < 20; i++)
        ASSERT_EQ(tick(&sc, s, 1230 * MS + i * 30 * MS, NULL), 2);
}

/* Brings `sc` to forwarding substream `sub` at time `now` (every substream sending). */
static void settle_on(struct gw_simulcast *sc, struct src s[3], int sub, int64_t now)
{
    gw_simulcast_set_target(sc, sub, -1);
    tick(sc, s, now, NULL);
    struct pkt p = key_of(&s[sub]);
    struct res r = run(sc, sub, &p, now + MS);
    ASSERT(r.fwd);
    ASSERT_EQ(gw_simulcast_substream(sc), sub);
}

static void test_switch_only_on_target_keyframe(void)
{
    struct gw_simulcast sc;
    struct src s[3];
    sources(s);
    gw_simulcast_init(&sc, GW_VC_VP8);
    settle_on(&sc, s, 0, 0);
    /* up to 2: deltas of 2 and a keyframe of 1 do not switch; a keyframe request is made */
    gw_simulcast_set_target(&sc, 2, -1);
    int plis = 0;
    for (int i = 0; i < 20; i++) { /* 600 ms: past the keyframe request interval */
        int64_t now = 30 * MS * (i + 1);
        for (int k = 0; k < 3; k++) {
            struct pkt p = k == 1 ? key_of(&s[1]) : delta_of(&s[k]);
            struct res r = run(&sc, k, &p, now);
            ASSERT(!r.switched);
            ASSERT_EQ(r.fwd, k == 0);
            plis += r.pli;
        }
    }
    ASSERT_EQ(plis, 1); /* at 510 ms: the request at 0 ms started the interval */
    ASSERT_EQ(gw_simulcast_substream(&sc), 0);
    struct pkt p = key_of(&s[2]);
    struct res r = run(&sc, 2, &p, 700 * MS);
    ASSERT(r.fwd && r.switched);
    ASSERT_EQ(gw_simulcast_substream(&sc), 2);
    ASSERT_EQ(tick(&sc, s, 730 * MS, NULL), 2);
    /* down to 1: only on a keyframe of 1, a keyframe of 0 is ignored */
    gw_simulcast_set_target(&sc, 1, -1);
    p = key_of(&s[0]);
    r = run(&sc, 0, &p, 760 * MS);
    ASSERT(!r.fwd && !r.switched);
    ASSERT_EQ(tick(&sc, s, 790 * MS, NULL), 2);
    p = key_of(&s[1]);
    r = run(&sc, 1, &p, 820 * MS);
    ASSERT(r.fwd && r.switched);
    ASSERT_EQ(tick(&sc, s, 850 * MS, NULL), 1);
    /* a keyframe of the current substream is no switch */
    p = key_of(&s[1]);
    r = run(&sc, 1, &p, 880 * MS);
    ASSERT(r.fwd && !r.switched);
}

static void test_fallback_when_current_stops(void)
{
    struct gw_simulcast sc;
    struct src s[3];
    sources(s);
    gw_simulcast_init(&sc, GW_VC_VP8);
    settle_on(&sc, s, 2, 0); /* a keyframe request at 0 ms: the next one from 500 ms */
    int64_t t = 30 * MS;
    for (; t <= 600 * MS; t += 30 * MS)
        ASSERT_EQ(tick(&sc, s, t, NULL), 2);
    /* 2 stops after 600 ms; for 250 ms a keyframe of 0 does not switch */
    const bool low[3] = {true, true, false};
    for (; t <= 840 * MS; t += 30 * MS)
        ASSERT_EQ(tick(&sc, s, t, low), -1);
    struct pkt p = key_of(&s[0]);
    struct res r = run(&sc, 0, &p, 850 * MS);
    ASSERT(!r.switched && !r.fwd && !r.pli);
    /* past 250 ms without 2: whatever delivers a keyframe, here 0 */
    p = key_of(&s[0]);
    r = run(&sc, 0, &p, 862 * MS);
    ASSERT(r.switched && r.fwd);
    ASSERT_EQ(gw_simulcast_substream(&sc), 0);
    /* the wanted one is now the best that is sent (1): asked for (once), taken on its keyframe */
    ASSERT(r.pli);
    p = delta_of(&s[1]);
    r = run(&sc, 1, &p, 870 * MS);
    ASSERT(!r.fwd && !r.pli);
    p = key_of(&s[1]);
    r = run(&sc, 1, &p, 900 * MS);
    ASSERT(r.switched && r.fwd);
    /* settled on 1 while 2 is missing: no more keyframe requests */
    for (t = 930 * MS; t < 2600 * MS; t += 30 * MS) {
        for (int i = 0; i < 2; i++) {
            p = delta_of(&s[i]);
            r = run(&sc, i, &p, t);
            ASSERT(!r.pli);
            ASSERT_EQ(r.fwd, i == 1);
        }
    }
    /* 2 comes back: requested, then switched up on its keyframe */
    p = delta_of(&s[2]);
    r = run(&sc, 2, &p, 2600 * MS);
    ASSERT(!r.fwd && r.pli);
    p = key_of(&s[2]);
    r = run(&sc, 2, &p, 2630 * MS);
    ASSERT(r.switched && r.fwd);
    ASSERT_EQ(gw_simulcast_substream(&sc), 2);
}

static void test_temporal_layers(void)
{
    struct gw_simulcast sc;
    struct src s[3];
    sources(s);
    gw_simulcast_init(&sc, GW_VC_VP8);
    gw_simulcast_set_target(&sc, 0, 0);
    struct pkt p = key_of(&s[0]);
    struct res r = run(&sc, 0, &p, 0);
    ASSERT(r.fwd);
    ASSERT_EQ(gw_simulcast_temporal(&sc), 0);
    /* pattern 0 2 1 2: only tid 0 passes, each frame of two packets */
    static const int pattern[] = {0, 2, 1, 2};
    for (int i = 0; i < 8; i++) {
        int tid = pattern[i % 4];
        struct pkt a = vp8(&s[0], false, tid, false, true);
        struct pkt b = vp8(&s[0], false, tid, false, false);
        ASSERT_EQ(run(&sc, 0, &a, i * MS).fwd, tid == 0);
        ASSERT_EQ(run(&sc, 0, &b, i * MS).fwd, tid == 0);
    }
    /* up to 2: tid 2 without layer sync still dropped; tid 1 with sync raises to 1 */
    gw_simulcast_set_target(&sc, -1, 2);
    p = vp8(&s[0], false, 2, false, true);
    ASSERT_EQ(run(&sc, 0, &p, 10 * MS).fwd, 0);
    ASSERT_EQ(gw_simulcast_temporal(&sc), 0);
    p = vp8(&s[0], false, 1, true, true);
    ASSERT_EQ(run(&sc, 0, &p, 11 * MS).fwd, 1);
    ASSERT_EQ(gw_simulcast_temporal(&sc), 1);
    p = vp8(&s[0], false, 2, false, true);
    ASSERT_EQ(run(&sc, 0, &p, 12 * MS).fwd, 0);
    p = vp8(&s[0], false, 2, true, true);
    ASSERT_EQ(run(&sc, 0, &p, 13 * MS).fwd, 1);
    ASSERT_EQ(gw_simulcast_temporal(&sc), 2);
    p = vp8(&s[0], false, 2, true, false); /* its continuation */
    ASSERT_EQ(run(&sc, 0, &p, 13 * MS).fwd, 1);
    /* down to 0: at the next frame start, mid-frame packets keep the frame's decision */
    gw_simulcast_set_target(&sc, -1, 0);
    p = vp8(&s[0], false, 2, false, false);
    ASSERT_EQ(run(&sc, 0, &p, 14 * MS).fwd, 1);
    p = vp8(&s[0], false, 1, false, true);
    ASSERT_EQ(run(&sc, 0, &p, 15 * MS).fwd, 0);
    ASSERT_EQ(gw_simulcast_temporal(&sc), 0);
    /* up again at a keyframe, without layer sync */
    gw_simulcast_set_target(&sc, -1, 1);
    p = vp8(&s[0], false, 1, false, true);
    ASSERT_EQ(run(&sc, 0, &p, 16 * MS).fwd, 0);
    p = key_of(&s[0]);
    ASSERT_EQ(run(&sc, 0, &p, 17 * MS).fwd, 1);
    ASSERT_EQ(gw_simulcast_temporal(&sc), 1);
    p = vp8(&s[0], false, 1, false, true);
    ASSERT_EQ(run(&sc, 0, &p, 18 * MS).fwd, 1);
    p = vp8(&s[0], false, 2, true, true);
    ASSERT_EQ(run(&sc, 0, &p, 19 * MS).fwd, 0);
}

static void test_picid_continuity(void)
{
    struct gw_simulcast sc;
    struct src s[3];
    sources(s);
    s[2].picid = 0x7ffa; /* the 15-bit picture id and tl0 of 2 wrap after the switch */
    gw_simulcast_init(&sc, GW_VC_VP8);
    gw_simulcast_set_target(&sc, 0, -1);
    struct pkt p = key_of(&s[0]);
    ASSERT(run(&sc, 0, &p, 0).fwd);
    /* the first substream keeps its own numbers */
    ASSERT_EQ(picid_of(&p), 101);
    ASSERT_EQ(tl0_of(&p), 11);
    uint16_t last_pic = 101;
    uint8_t last_tl0 = 11;
    for (int i = 1; i < 5; i++) {
        struct pkt a = delta_of(&s[0]);
        struct pkt b = delta_of(&s[2]);
        ASSERT(run(&sc, 0, &a, i * 30 * MS).fwd);
        ASSERT(!run(&sc, 2, &b, i * 30 * MS).fwd);
        ASSERT_EQ(picid_of(&a), last_pic + 1);
        ASSERT_EQ(tl0_of(&a), (uint8_t)(last_tl0 + 1));
        last_pic = picid_of(&a);
        last_tl0 = tl0_of(&a);
    }
    /* switch to 2 (picid 0x7fff..., tl0 near 255): continues at last + 1 */
    gw_simulcast_set_target(&sc, 2, -1);
    p = key_of(&s[2]);
    struct res r = run(&sc, 2, &p, 200 * MS);
    ASSERT(r.fwd && r.switched);
    ASSERT_EQ(picid_of(&p), last_pic + 1);
    ASSERT_EQ(tl0_of(&p), (uint8_t)(last_tl0 + 1));
    last_pic = picid_of(&p);
    last_tl0 = tl0_of(&p);
    for (int i = 0; i < 4; i++) { /* across the source's wrap of picid and tl0 */
        struct pkt a = delta_of(&s[2]);
        ASSERT(run(&sc, 2, &a, 230 * MS + i * 30 * MS).fwd);
        ASSERT_EQ(picid_of(&a), last_pic + 1);
        ASSERT_EQ(tl0_of(&a), (uint8_t)(last_tl0 + 1));
        last_pic = picid_of(&a);
        last_tl0 = tl0_of(&a);
    }
    /* a 7-bit picture id substream continues in 7 bits */
    gw_simulcast_set_target(&sc, 1, -1);
    uint8_t k7[] = {0x80, 96, 0, 9, 0, 0, 0, 1, 0, 0, 0x02, 0x00, 0x90, 0xc0, 0x05, 0x33, 0x50};
    r.fwd = gw_simulcast_process(&sc, 1, k7, sizeof k7, 400 * MS, &r.switched, &r.pli);
    ASSERT(r.fwd && r.switched);
    ASSERT_EQ(k7[14], (last_pic + 1) & 0x7f);
    ASSERT_EQ(k7[15], (uint8_t)(last_tl0 + 1));
}

/* The VideoRoom's use: simulcast decides, gw_rtp_switch numbers. The output sequence must be
 * gapless through temporal drops and substream switches. */
static void test_with_switch(void)
{
    struct gw_simulcast sc;
    struct gw_rtp_switch sw;
    struct src s[3];
    sources(s);
    gw_simulcast_init(&sc, GW_VC_VP8);
    gw_rtp_switch_init(&sw, 90000);
    gw_simulcast_set_target(&sc, 0, 0);
    int sent = 0, switches = 0;
    uint16_t next_seq = 0;
    uint32_t last_ts = 0;
    static const int pattern[] = {0, 2, 1, 2};
    for (int i = 0; i < 120; i++) {
        int64_t now = i * 33 * MS;
        if (i == 40)
            gw_simulcast_set_target(&sc, 2, 2);
        if (i == 80)
            gw_simulcast_set_target(&sc, 1, 1);
        for (int k = 0; k < 3; k++) {
            bool keyframe = i == 0 || i == 50 || i == 90;
            int tid = keyframe ? 0 : pattern[i % 4];
            struct pkt p = vp8(&s[k], keyframe, tid, tid > 0, true);
            bool switched, pli;
            int fwd = gw_simulcast_process(&sc, k, p.b, p.len, now, &switched, &pli);
            if (!fwd) {
                if (k == gw_simulcast_substream(&sc))
                    gw_rtp_switch_skip(&sw, p.b, p.len);
                continue;
            }
            if (switched) {
                gw_rtp_switch_reset(&sw);
                switches++;
            }
            ASSERT_EQ(gw_rtp_switch_apply(&sw, p.b, p.len, now), 0);
            uint16_t seq = rd_u16(p.b + 2);
            uint32_t ts = rd_u32(p.b + 4);
            if (sent > 0) {
                ASSERT_EQ(seq, next_seq);
                ASSERT_GT((int32_t)(ts - last_ts), 0); /* one packet per frame */
            }
            next_seq = (uint16_t)(seq + 1);
            last_ts = ts;
            sent++;
        }
    }
    /* frames 0-40 on 0 at tid 0 (11); 41-49 on 0 with every layer after a tid-2 sync frame (9);
     * 50 on 0 (its keyframe comes before 2's); 50-79 on 2 (30); 80-89 on 2 with tid <= 1 (5);
     * 90-119 on 1 with tid <= 1 (15) */
    ASSERT_EQ(switches, 3);
    ASSERT_EQ(sent, 11 + 9 + 1 + 30 + 5 + 15);
    ASSERT_EQ(gw_simulcast_substream(&sc), 1);
    ASSERT_EQ(gw_simulcast_temporal(&sc), 1);
}

static void test_old_packets_after_switch(void)
{
    struct gw_simulcast sc;
    struct src s[3];
    sources(s);
    gw_simulcast_init(&sc, GW_VC_VP8);
    gw_simulcast_set_target(&sc, 1, -1);
    struct pkt before = delta_of(&s[1]);
    struct pkt k = key_of(&s[1]);
    ASSERT(run(&sc, 1, &k, 0).switched);
    /* the delta that preceded the keyframe arrives late: dropped */
    ASSERT_EQ(run(&sc, 1, &before, MS).fwd, 0);
    struct pkt after = delta_of(&s[1]);
    ASSERT_EQ(run(&sc, 1, &after, 2 * MS).fwd, 1);
}

static void test_resolve(void)
{
    struct gw_simulcast sc;
    gw_simulcast_init(&sc, GW_VC_VP8);
    ASSERT_EQ(gw_simulcast_set_rid(&sc, 0, "q"), 0);
    ASSERT_EQ(gw_simulcast_set_rid(&sc, 1, "h"), 0);
    ASSERT_EQ(gw_simulcast_set_rid(&sc, 2, "f"), 0);
    ASSERT_EQ(gw_simulcast_set_rid(&sc, 3, "x"), -EINVAL);
    ASSERT_EQ(gw_simulcast_set_rid(&sc, 0, "0123456789abcdefg"), -EINVAL);
    ASSERT_EQ(gw_simulcast_set_rid(&sc, 0, NULL), -EINVAL);
    ASSERT_EQ(gw_simulcast_resolve(&sc, 0x55, NULL, 0), -ENOENT);
    ASSERT_EQ(gw_simulcast_resolve(&sc, 0x55, (const uint8_t *)"h", 1), 1);
    /* learnt: later packets without the rid resolve by SSRC */
    ASSERT_EQ(gw_simulcast_resolve(&sc, 0x55, NULL, 0), 1);
    ASSERT_EQ(gw_simulcast_resolve(&sc, 0x66, (const uint8_t *)"fx", 2), -ENOENT);
    ASSERT_EQ(gw_simulcast_resolve(&sc, 0x66, (const uint8_t *)"f", 1), 2);
    ASSERT_EQ(gw_simulcast_set_ssrc(&sc, 0, 0x77), 0);
    ASSERT_EQ(gw_simulcast_resolve(&sc, 0x77, NULL, 0), 0);
    ASSERT_EQ(gw_simulcast_set_ssrc(&sc, -1, 0x77), -EINVAL);
    /* setting a rid again forgets the SSRC learnt for it */
    ASSERT_EQ(gw_simulcast_set_rid(&sc, 1, "m"), 0);
    ASSERT_EQ(gw_simulcast_resolve(&sc, 0x55, NULL, 0), -ENOENT);
}

static void test_bad_input_and_clamping(void)
{
    struct gw_simulcast sc;
    struct src s[3];
    sources(s);
    gw_simulcast_init(&sc, GW_VC_VP8);
    struct pkt p = key_of(&s[0]);
    struct res r = run(&sc, 3, &p, 0);
    ASSERT(!r.fwd && !r.switched && !r.pli);
    r = run(&sc, -1, &p, 0);
    ASSERT(!r.fwd && !r.switched);
    uint8_t junk[5] = {0x80, 1, 2, 3, 4};
    r.fwd = gw_simulcast_process(&sc, 0, junk, sizeof junk, 0, &r.switched, &r.pli);
    ASSERT(!r.fwd && !r.switched);
    ASSERT_EQ(gw_simulcast_substream(&sc), -1);
    /* targets beyond 2 are clamped: a keyframe of 2 is the target's */
    gw_simulcast_set_target(&sc, 9, 9);
    settle_on(&sc, s, 0, 0);
    gw_simulcast_set_target(&sc, 9, -1);
    p = key_of(&s[2]);
    r = run(&sc, 2, &p, 10 * MS);
    ASSERT(r.switched);
    ASSERT_EQ(gw_simulcast_temporal(&sc), 2);
}

static void test_h264_and_unknown(void)
{
    struct gw_simulcast sc;
    gw_simulcast_init(&sc, GW_VC_H264);
    gw_simulcast_set_target(&sc, 1, 0);
    uint8_t slice[] = {0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0x41, 0x9a};
    uint8_t idr[] = {0x80, 96, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 0x7c, 0x85, 0xb8};
    struct res r;
    r.fwd = gw_simulcast_process(&sc, 1, slice, sizeof slice, 0, &r.switched, &r.pli);
    ASSERT(!r.fwd && r.pli);
    r.fwd = gw_simulcast_process(&sc, 1, idr, sizeof idr, MS, &r.switched, &r.pli);
    ASSERT(r.fwd && r.switched);
    ASSERT_EQ(gw_simulcast_temporal(&sc), 0); /* no temporal information: the target */
    /* an unknown payload: any packet may switch */
    gw_simulcast_init(&sc, GW_VC_UNKNOWN);
    gw_simulcast_set_target(&sc, 0, -1);
    r.fwd = gw_simulcast_process(&sc, 0, slice, sizeof slice, 0, &r.switched, &r.pli);
    ASSERT(r.fwd && r.switched);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"start_and_rate_limit", test_start_and_rate_limit},
        {"switch_only_on_target_keyframe", test_switch_only_on_target_keyframe},
        {"fallback_when_current_stops", test_fallback_when_current_stops},
        {"temporal_layers", test_temporal_layers},
        {"picid_continuity", test_picid_continuity},
        {"with_switch", test_with_switch},
        {"old_packets_after_switch", test_old_packets_after_switch},
        {"resolve", test_resolve},
        {"bad_input_and_clamping", test_bad_input_and_clamping},
        {"h264_and_unknown", test_h264_and_unknown},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
