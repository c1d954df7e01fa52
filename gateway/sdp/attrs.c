/* This file implements the parsers of the SDP attributes the model types (candidate, extmap,
 * fingerprint, setup, ssrc, ssrc-group, rid, rtpmap, fmtp parameters) and the strict number and
 * token helpers under them. Each parser either fills its struct completely and returns 0, or
 * leaves nothing allocated and returns -EINVAL with a message for the line. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "gateway/sdp/sdp_internal.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

int sdp_parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    if (n == 0 || n > 20)
        return -EINVAL;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -EINVAL;
        v = v * 10 + d;
    }
    if (v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

int sdp_parse_num(const char *s, uint64_t max, uint64_t *out)
{
    return sdp_parse_u64(s, strlen(s), max, out);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

int sdp_split(char *s, char **tok, int max)
{
    int n = 0;
    size_t len = strlen(s);
    while (len > 0 && is_blank(s[len - 1]))
        s[--len] = '\0';
    while (*s && n < max) {
        while (is_blank(*s))
            s++;
        if (!*s)
            break;
        tok[n++] = s;
        if (n == max)
            break;
        while (*s && !is_blank(*s))
            s++;
        if (*s)
            *s++ = '\0';
    }
    return n;
}

bool sdp_is_token(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s == 0x7f)
            return false;
    return true;
}

bool sdp_fmtp_param(const char *fmtp, const char *key, char *val, size_t vlen)
{
    if (!fmtp || !vlen)
        return false;
    size_t kl = strlen(key);
    const char *p = fmtp;
    while (*p) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        if (!end)
            end = p + strlen(p);
        if ((size_t)(end - p) > kl && strncasecmp(p, key, kl) == 0 && p[kl] == '=') {
            const char *v = p + kl + 1;
            size_t n = (size_t)(end - v);
            while (n > 0 && v[n - 1] == ' ')
                n--;
            if (n >= vlen)
                return false;
            memcpy(val, v, n);
            val[n] = '\0';
            return true;
        }
        p = end;
    }
    return false;
}

void sdp_codec_set_fmtp(struct sdp_codec *c, const char *fmtp)
{
    sdp_set(&c->fmtp, fmtp);
    char v[16];
    uint64_t apt;
    c->apt = -1;
    if (sdp_fmtp_param(fmtp, "apt", v, sizeof v) && sdp_parse_num(v, 127, &apt) == 0)
        c->apt = (int)apt;
}

int sdp_candidate_parse(const char *value, struct sdp_candidate *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->rport = -1;
    if (strncmp(value, "candidate:", 10) == 0)
        value += 10;
    size_t len = strlen(value);
    if (len == 0 || len > SDP_MAX_LINE - 12 || strpbrk(value, "\r\n"))
        return fail(err, errlen, "a=candidate: empty, too long or with a line break");
    char *copy = xstrdup(value), *t[32];
    int n = sdp_split(copy, t, 32);
    uint64_t comp, prio, port, rport;
    if (n < 8 || strcmp(t[6], "typ") != 0) {
        free(copy);
        return fail(err, errlen,
                    "a=candidate: needs <foundation> <component> <transport> "
                    "<priority> <address> <port> typ <type>");
    }
    if (strlen(t[0]) > 32 || sdp_parse_num(t[1], 256, &comp) < 0 || comp == 0 ||
        sdp_parse_num(t[3], UINT32_MAX, &prio) < 0 || sdp_parse_num(t[5], 65535, &port) < 0) {
        free(copy);
        return fail(err, errlen, "a=candidate: bad foundation, component, priority or port");
    }
    for (int i = 8; i + 1 < n; i += 2) {
        if (strcmp(t[i], "raddr") == 0) {
            sdp_set(&c->raddr, t[i + 1]);
        } else if (strcmp(t[i], "rport") == 0) {
            if (sdp_parse_num(t[i + 1], 65535, &rport) < 0) {
                free(copy);
                sdp_candidate_clear(c);
                return fail(err, errlen, "a=candidate: bad rport");
            }
            c->rport = (int)rport;
        }
    }
    c->raw = xstrdup(value);
    c->foundation = xstrdup(t[0]);
    c->component = (unsigned)comp;
    c->transport = xstrdup(t[2]);
    c->priority = (uint32_t)prio;
    c->address = xstrdup(t[4]);
    c->port = (uint16_t)port;
    c->type = xstrdup(t[7]);
    free(copy);
    return 0;
}

int sdp_extmap_parse(char *value, struct sdp_extmap *e, char *err, size_t errlen)
{
    char *t[3];
    int n = sdp_split(value, t, 3);
    if (n < 2)
        return fail(err, errlen, "a=extmap: needs <id> <uri>");
    memset(e, 0, sizeof *e);
    char *slash = strchr(t[0], '/');
    if (slash) {
        *slash = '\0';
        e->dir = sdp_direction_parse(slash + 1);
        if (e->dir == SDP_DIR_NONE)
            return fail(err, errlen, "a=extmap: bad direction");
    }
    uint64_t id;
    if (sdp_parse_num(t[0], 4351, &id) < 0 || id == 0 || (id > 255 && id < 4096))
        return fail(err, errlen, "a=extmap: bad id");
    e->id = (unsigned)id;
    e->uri = xstrdup(t[1]);
    e->params = n > 2 ? xstrdup(t[2]) : NULL;
    return 0;
}

int sdp_fingerprint_parse(char *value, struct sdp_fingerprint *f, char *err, size_t errlen)
{
    char *t[3];
    if (sdp_split(value, t, 3) != 2)
        return fail(err, errlen, "a=fingerprint: needs <hash> <value>");
    f->hash = xstrdup(t[0]);
    f->value = xstrdup(t[1]);
    return 0;
}

int sdp_setup_parse(const char *value, enum sdp_setup *s, char *err, size_t errlen)
{
    for (int i = SDP_SETUP_ACTPASS; i <= SDP_SETUP_HOLDCONN; i++) {
        if (strcmp(value, sdp_setup_name((enum sdp_setup)i)) == 0) {
            *s = (enum sdp_setup)i;
            return 0;
        }
    }
    return fail(err, errlen, "a=setup: not actpass, active, passive or holdconn");
}

int sdp_ssrc_parse(char *value, struct sdp_ssrc *s, char *err, size_t errlen)
{
    char *t[2];
    uint64_t v;
    if (sdp_split(value, t, 2) != 2 || sdp_parse_num(t[0], UINT32_MAX, &v) < 0)
        return fail(err, errlen, "a=ssrc: needs <ssrc> <attribute>[:<value>]");
    char *colon = strchr(t[1], ':');
    if (colon)
        *colon = '\0';
    if (!sdp_is_token(t[1]))
        return fail(err, errlen, "a=ssrc: bad attribute name");
    s->ssrc = (uint32_t)v;
    s->attr = xstrdup(t[1]);
    s->value = colon ? xstrdup(colon + 1) : NULL;
    return 0;
}

int sdp_ssrc_group_parse(char *value, struct sdp_ssrc_group *g, char *err, size_t errlen)
{
    char *t[SDP_MAX_LINE / 2];
    int n = sdp_split(value, t, (int)(sizeof t / sizeof t[0]));
    if (n < 1)
        return fail(err, errlen, "a=ssrc-group: needs <semantics>");
    memset(g, 0, sizeof *g);
    if (n > 1)
        g->ssrcs = xmalloc((size_t)(n - 1) * sizeof *g->ssrcs);
    for (int i = 1; i < n; i++) {
        uint64_t v;
        if (sdp_parse_num(t[i], UINT32_MAX, &v) < 0) {
            free(g->ssrcs);
            g->ssrcs = NULL;
            return fail(err, errlen, "a=ssrc-group: bad ssrc");
        }
        g->ssrcs[g->n_ssrcs++] = (uint32_t)v;
    }
    g->semantics = xstrdup(t[0]);
    return 0;
}

int sdp_rid_parse(char *value, struct sdp_rid *r, char *err, size_t errlen)
{
    char *t[3];
    int n = sdp_split(value, t, 3);
    if (n < 2 || (strcmp(t[1], "send") != 0 && strcmp(t[1], "recv") != 0))
        return fail(err, errlen, "a=rid: needs <id> send|recv");
    r->id = xstrdup(t[0]);
    r->recv = strcmp(t[1], "recv") == 0;
    r->params = n > 2 ? xstrdup(t[2]) : NULL;
    return 0;
}

int sdp_rtpmap_parse(char *rest, struct sdp_codec *c, char *err, size_t errlen)
{
    char *t[2];
    if (sdp_split(rest, t, 2) != 1)
        return fail(err, errlen, "a=rtpmap: needs <pt> <name>/<clock rate>[/<channels>]");
    char *s1 = strchr(t[0], '/');
    if (!s1 || s1 == t[0])
        return fail(err, errlen, "a=rtpmap: needs <name>/<clock rate>");
    *s1++ = '\0';
    char *s2 = strchr(s1, '/');
    if (s2)
        *s2++ = '\0';
    uint64_t clock, ch = 0;
    if (sdp_parse_num(s1, UINT32_MAX, &clock) < 0 || clock == 0 ||
        (s2 && (sdp_parse_num(s2, 255, &ch) < 0 || ch == 0)))
        return fail(err, errlen, "a=rtpmap: bad clock rate or channels");
    sdp_set(&c->name, t[0]);
    c->clock_rate = (uint32_t)clock;
    c->channels = (unsigned)ch;
    return 0;
}
