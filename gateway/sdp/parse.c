/* This file implements sdp_parse(): SDP text to the model. Lines end in LF or CRLF; blanks at
 * the end of a line are dropped, blank lines skipped, control characters other than tab
 * refused. v= must come first; o=, s= and t= are required once each; other line types may come
 * in any order within their section.
 *
 * DESIGN: one pass, one line at a time, copied into a stack buffer of SDP_MAX_LINE bytes so the
 * field parsers can cut it up in place. An attribute the model types is parsed strictly (a bad
 * one fails the whole SDP, naming the line); a second occurrence of a single-valued one, a flag
 * given a value, and every attribute the model does not type are kept verbatim in order. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "gateway/sdp/sdp_internal.h"

struct parser {
    struct sdp *s;
    struct sdp_media *m; /* the current m-line; NULL in the session section */
    unsigned line;
    bool seen_v, seen_o, seen_s, seen_t;
    char *err;
    size_t errlen;
};

static int perr(struct parser *p, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr(struct parser *p, int rc, const char *fmt, ...)
{
    if (p->err && p->errlen) {
        int n = p->line ? snprintf(p->err, p->errlen, "line %u: ", p->line) : 0;
        if (n >= 0 && (size_t)n < p->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return rc;
}

/* Stores a typed single value the first time; false when it was already set. */
static bool first(char **field, const char *value)
{
    if (*field)
        return false;
    *field = xstrdup(value);
    return true;
}

static void push_line(struct sdp_line **arr, size_t *n, char type, const char *value)
{
    struct sdp_line *l = SDP_PUSH(*arr, *n);
    l->type = type;
    l->value = xstrdup(value);
}

static void push_str(char ***arr, size_t *n, const char *value)
{
    char **slot = SDP_PUSH(*arr, *n);
    *slot = xstrdup(value);
}

static int parse_origin(struct parser *p, char *v)
{
    char *t[7];
    if (p->seen_o || p->m)
        return perr(p, -EINVAL, "o= twice or after m=");
    if (sdp_split(v, t, 7) != 6)
        return perr(p, -EINVAL, "o= needs <user> <id> <version> <nettype> <addrtype> <address>");
    uint64_t id, ver;
    if (sdp_parse_num(t[1], UINT64_MAX, &id) < 0 || sdp_parse_num(t[2], UINT64_MAX, &ver) < 0)
        return perr(p, -EINVAL, "o=: bad session id or version");
    struct sdp *s = p->s;
    s->origin_user = xstrdup(t[0]);
    s->sess_id = id;
    s->sess_version = ver;
    s->origin_nettype = xstrdup(t[3]);
    s->origin_addrtype = xstrdup(t[4]);
    s->origin_addr = xstrdup(t[5]);
    p->seen_o = true;
    return 0;
}

static int parse_timing(struct parser *p, char *v)
{
    if (p->m)
        return perr(p, -EINVAL, "t= after m=");
    char copy[SDP_MAX_LINE + 1], *t[3];
    uint64_t start, stop;
    snprintf(copy, sizeof copy, "%s", v);
    if (sdp_split(copy, t, 3) != 2 || sdp_parse_num(t[0], UINT64_MAX, &start) < 0 ||
        sdp_parse_num(t[1], UINT64_MAX, &stop) < 0)
        return perr(p, -EINVAL, "t= needs <start> <stop>");
    if (p->seen_t) {
        push_line(&p->s->extra, &p->s->n_extra, 't', v);
        return 0;
    }
    p->s->t_start = start;
    p->s->t_stop = stop;
    p->seen_t = true;
    return 0;
}

static int check_connection(struct parser *p, const char *v, char **field)
{
    char copy[SDP_MAX_LINE + 1], *t[4];
    snprintf(copy, sizeof copy, "%s", v);
    if (sdp_split(copy, t, 4) != 3)
        return perr(p, -EINVAL, "c= needs <nettype> <addrtype> <address>");
    if (*field)
        return perr(p, -EINVAL, "a second c= line");
    *field = xstrdup(v);
    return 0;
}

static int check_bandwidth(struct parser *p, const char *v)
{
    const char *colon = strchr(v, ':');
    uint64_t bw;
    if (!colon || colon == v || sdp_parse_num(colon + 1, UINT64_MAX, &bw) < 0)
        return perr(p, -EINVAL, "b= needs <type>:<bandwidth>");
    return 0;
}

static int parse_port(struct parser *p, char *tok, struct sdp_media *m)
{
    char *slash = strchr(tok, '/');
    uint64_t port, count = 0;
    if (slash)
        *slash = '\0';
    if (sdp_parse_num(tok, 65535, &port) < 0 ||
        (slash && (sdp_parse_num(slash + 1, 65535, &count) < 0 || count == 0)))
        return perr(p, -EINVAL, "m=: bad port");
    m->port = (uint16_t)port;
    m->port_count = (unsigned)count;
    return 0;
}

static struct sdp_codec *find_codec(struct sdp_media *m, int pt)
{
    for (size_t i = 0; i < m->n_codecs; i++)
        if (m->codecs[i].pt == pt)
            return &m->codecs[i];
    return NULL;
}

static int parse_media_line(struct parser *p, char *v)
{
    char *t[SDP_MAX_FORMATS + 4];
    int n = sdp_split(v, t, SDP_MAX_FORMATS + 4);
    if (n < 4)
        return perr(p, -EINVAL, "m= needs <media> <port> <proto> <format>...");
    if (n > SDP_MAX_FORMATS + 3)
        return perr(p, -E2BIG, "m= has more than %d formats", SDP_MAX_FORMATS);
    if (p->s->n_media >= SDP_MAX_MEDIA)
        return perr(p, -E2BIG, "more than %d m-lines", SDP_MAX_MEDIA);
    enum sdp_media_type type = SDP_MEDIA_OTHER;
    if (strcmp(t[0], "audio") == 0)
        type = SDP_MEDIA_AUDIO;
    else if (strcmp(t[0], "video") == 0)
        type = SDP_MEDIA_VIDEO;
    else if (strcmp(t[0], "application") == 0)
        type = SDP_MEDIA_APPLICATION;
    struct sdp_media *m = sdp_media_add(p->s, type, t[2]);
    sdp_set(&m->type_name, t[0]);
    p->m = m;
    int rc = parse_port(p, t[1], m);
    if (rc < 0)
        return rc;
    for (int i = 3; i < n; i++) {
        if (!m->rtp) {
            push_str(&m->fmts, &m->n_fmts, t[i]);
            continue;
        }
        uint64_t pt;
        if (sdp_parse_num(t[i], 127, &pt) < 0)
            return perr(p, -EINVAL, "m=: bad payload type \"%s\"", t[i]);
        if (find_codec(m, (int)pt))
            return perr(p, -EINVAL, "m=: payload type %d twice", (int)pt);
        sdp_codec_add(m, (int)pt, NULL, 0, 0);
    }
    return 0;
}

/* "<pt> <rest>" of rtpmap/fmtp/rtcp-fb: the codec on this m-line and the rest, or NULL when the
 * attribute does not name one of its payload types (it is then kept verbatim). */
static struct sdp_codec *pt_attr(struct sdp_media *m, char *value, char **rest)
{
    if (!m->rtp || !value)
        return NULL;
    char *sp = strpbrk(value, " \t");
    uint64_t pt;
    if (!sp || sdp_parse_u64(value, (size_t)(sp - value), 127, &pt) < 0)
        return NULL;
    while (*sp == ' ' || *sp == '\t')
        sp++;
    if (!*sp)
        return NULL;
    *rest = sp;
    return find_codec(m, (int)pt);
}

/* The attributes typed for payload types. 1: handled; 0: keep verbatim; <0: error. */
static int codec_attr(struct parser *p, struct sdp_media *m, const char *name, char *value)
{
    char *rest, msg[160];
    bool rtpmap = strcmp(name, "rtpmap") == 0, fmtp = strcmp(name, "fmtp") == 0;
    if (!rtpmap && !fmtp && strcmp(name, "rtcp-fb") != 0)
        return 0;
    if (m->rtp && strspn(value, "0123456789") == strlen(value))
        return perr(p, -EINVAL, "a=%s: needs <pt> and a value", name);
    struct sdp_codec *c = pt_attr(m, value, &rest);
    if (!c)
        return 0;
    if (rtpmap) {
        if (c->name)
            return 0;
        if (sdp_rtpmap_parse(rest, c, msg, sizeof msg) < 0)
            return perr(p, -EINVAL, "%s", msg);
    } else if (fmtp) {
        if (c->fmtp)
            return 0;
        sdp_codec_set_fmtp(c, rest);
    } else {
        sdp_codec_add_fb(c, rest);
    }
    return 1;
}

static int parse_flag(struct sdp_media *m, const char *name)
{
    enum sdp_direction d = sdp_direction_parse(name);
    if (d != SDP_DIR_NONE) {
        if (m->dir != SDP_DIR_NONE)
            return 0;
        m->dir = d;
        return 1;
    }
    bool *flag = strcmp(name, "rtcp-mux") == 0             ? &m->rtcp_mux
                 : strcmp(name, "rtcp-rsize") == 0         ? &m->rtcp_rsize
                 : strcmp(name, "bundle-only") == 0        ? &m->bundle_only
                 : strcmp(name, "end-of-candidates") == 0  ? &m->end_of_candidates
                 : strcmp(name, "extmap-allow-mixed") == 0 ? &m->extmap_allow_mixed
                                                           : NULL;
    if (!flag || *flag)
        return 0;
    *flag = true;
    return 1;
}

/* The attributes whose value is one string kept as is. */
static char **string_field(struct sdp_media *m, const char *name)
{
    if (strcmp(name, "rtcp") == 0)
        return &m->rtcp;
    if (strcmp(name, "ice-ufrag") == 0)
        return &m->ice_ufrag;
    if (strcmp(name, "ice-pwd") == 0)
        return &m->ice_pwd;
    if (strcmp(name, "ice-options") == 0)
        return &m->ice_options;
    if (strcmp(name, "msid") == 0)
        return &m->msid;
    if (strcmp(name, "simulcast") == 0)
        return &m->simulcast;
    if (strcmp(name, "sctpmap") == 0)
        return &m->sctpmap;
    return NULL;
}

static int media_number(struct parser *p, struct sdp_media *m, const char *name, const char *value)
{
    uint64_t v;
    if (strcmp(name, "sctp-port") == 0) {
        if (m->sctp_port >= 0)
            return 0;
        if (sdp_parse_num(value, 65535, &v) < 0)
            return perr(p, -EINVAL, "a=sctp-port: bad port");
        m->sctp_port = (int)v;
        return 1;
    }
    if (strcmp(name, "max-message-size") == 0) {
        if (m->max_msg_size >= 0)
            return 0;
        if (sdp_parse_num(value, INT64_MAX, &v) < 0)
            return perr(p, -EINVAL, "a=max-message-size: bad size");
        m->max_msg_size = (int64_t)v;
        return 1;
    }
    return 0;
}

static bool has_ext_id(const struct sdp_media *m, unsigned id)
{
    for (size_t i = 0; i < m->n_extmaps; i++)
        if (m->extmaps[i].id == id)
            return true;
    return false;
}

/* The typed media attributes with a value. 1: handled; 0: keep verbatim; <0: error. */
static int media_value(struct parser *p, struct sdp_media *m, const char *name, char *value)
{
    char msg[160];
    int rc = 0;
    char **field = string_field(m, name);
    if (field)
        return first(field, value) ? 1 : 0;
    if (strcmp(name, "mid") == 0) {
        if (m->mid)
            return perr(p, -EINVAL, "a second a=mid on one m-line");
        if (!sdp_is_token(value))
            return perr(p, -EINVAL, "a=mid: bad value");
        m->mid = xstrdup(value);
        return 1;
    }
    if (strcmp(name, "candidate") == 0) {
        struct sdp_candidate c;
        if (sdp_candidate_parse(value, &c, msg, sizeof msg) < 0)
            return perr(p, -EINVAL, "%s", msg);
        *SDP_PUSH(m->cands, m->n_cands) = c;
        return 1;
    }
    if (strcmp(name, "extmap") == 0) {
        struct sdp_extmap e;
        if (sdp_extmap_parse(value, &e, msg, sizeof msg) < 0)
            return perr(p, -EINVAL, "%s", msg);
        if (sdp_media_extmap_id(m, e.uri) >= 0 || has_ext_id(m, e.id)) {
            free(e.uri);
            free(e.params);
            return perr(p, -EINVAL, "a=extmap: id %u or its URI used twice", e.id);
        }
        *SDP_PUSH(m->extmaps, m->n_extmaps) = e;
        return 1;
    }
    if (strcmp(name, "fingerprint") == 0) {
        if (m->fingerprint.hash)
            return 0;
        rc = sdp_fingerprint_parse(value, &m->fingerprint, msg, sizeof msg);
    } else if (strcmp(name, "setup") == 0) {
        if (m->setup != SDP_SETUP_NONE)
            return 0;
        rc = sdp_setup_parse(value, &m->setup, msg, sizeof msg);
    } else if (strcmp(name, "ssrc") == 0) {
        struct sdp_ssrc s;
        rc = sdp_ssrc_parse(value, &s, msg, sizeof msg);
        if (rc == 0)
            *SDP_PUSH(m->ssrcs, m->n_ssrcs) = s;
    } else if (strcmp(name, "ssrc-group") == 0) {
        struct sdp_ssrc_group g;
        rc = sdp_ssrc_group_parse(value, &g, msg, sizeof msg);
        if (rc == 0)
            *SDP_PUSH(m->ssrc_groups, m->n_ssrc_groups) = g;
    } else if (strcmp(name, "rid") == 0) {
        struct sdp_rid r;
        rc = sdp_rid_parse(value, &r, msg, sizeof msg);
        if (rc == 0)
            *SDP_PUSH(m->rids, m->n_rids) = r;
    } else {
        return media_number(p, m, name, value);
    }
    return rc < 0 ? perr(p, -EINVAL, "%s", msg) : 1;
}

/* Attribute names whose value is required: without one the SDP is malformed. */
static bool needs_value(const char *name)
{
    static const char *const names[] = {
        "mid",        "candidate",
        "extmap",     "fingerprint",
        "setup",      "ssrc",
        "ssrc-group", "rid",
        "ice-ufrag",  "ice-pwd",
        "sctp-port",  "msid",
        "simulcast",  "max-message-size",
        "rtpmap",     "fmtp",
        "rtcp-fb",    "ice-options",
        "group",      "msid-semantic",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

static int media_attr(struct parser *p, struct sdp_media *m, const char *name, char *value)
{
    int rc;
    if (!value)
        rc = parse_flag(m, name);
    else if ((rc = codec_attr(p, m, name, value)) == 0)
        rc = media_value(p, m, name, value);
    if (rc < 0)
        return rc;
    if (rc == 0)
        sdp_attr_push(&m->attrs, &m->n_attrs, name, value);
    return 0;
}

static int session_bundle(struct parser *p, char *value)
{
    char copy[SDP_MAX_LINE + 1], *t[SDP_MAX_LINE / 2];
    snprintf(copy, sizeof copy, "%s", value);
    int n = sdp_split(copy, t, (int)(sizeof t / sizeof t[0]));
    if (n < 1 || strcmp(t[0], "BUNDLE") != 0 || p->s->bundle)
        return 0;
    p->s->bundle = true;
    for (int i = 1; i < n; i++)
        push_str(&p->s->bundle_mids, &p->s->n_bundle_mids, t[i]);
    return 1;
}

/* 1: handled; 0: keep verbatim; <0: error. */
static int session_typed(struct parser *p, const char *name, char *value)
{
    struct sdp *s = p->s;
    char msg[160];
    if (!value) {
        enum sdp_direction d = sdp_direction_parse(name);
        bool *flag = strcmp(name, "ice-lite") == 0             ? &s->ice_lite
                     : strcmp(name, "extmap-allow-mixed") == 0 ? &s->extmap_allow_mixed
                                                               : NULL;
        if (d != SDP_DIR_NONE && s->dir == SDP_DIR_NONE) {
            s->dir = d;
            return 1;
        }
        if (flag && !*flag)
            return (*flag = true);
        return 0;
    }
    if (strcmp(name, "group") == 0)
        return session_bundle(p, value);
    if (strcmp(name, "ice-ufrag") == 0)
        return first(&s->ice_ufrag, value);
    if (strcmp(name, "ice-pwd") == 0)
        return first(&s->ice_pwd, value);
    if (strcmp(name, "ice-options") == 0)
        return first(&s->ice_options, value);
    if (strcmp(name, "msid-semantic") == 0)
        return first(&s->msid_semantic, value);
    if (strcmp(name, "fingerprint") == 0 && !s->fingerprint.hash) {
        if (sdp_fingerprint_parse(value, &s->fingerprint, msg, sizeof msg) < 0)
            return perr(p, -EINVAL, "%s", msg);
        return 1;
    }
    if (strcmp(name, "setup") == 0 && s->setup == SDP_SETUP_NONE) {
        if (sdp_setup_parse(value, &s->setup, msg, sizeof msg) < 0)
            return perr(p, -EINVAL, "%s", msg);
        return 1;
    }
    return 0;
}

static int parse_attr(struct parser *p, char *v)
{
    char *colon = strchr(v, ':');
    char *value = NULL;
    if (colon) {
        *colon = '\0';
        value = colon + 1;
    }
    if (!sdp_is_token(v))
        return perr(p, -EINVAL, "a=: bad attribute name");
    if (needs_value(v) && (!value || !*value))
        return perr(p, -EINVAL, "a=%s needs a value", v);
    if (p->m)
        return media_attr(p, p->m, v, value);
    int rc = session_typed(p, v, value);
    if (rc == 0)
        sdp_attr_push(&p->s->attrs, &p->s->n_attrs, v, value);
    return rc < 0 ? rc : 0;
}

static int parse_line(struct parser *p, char type, char *v)
{
    struct sdp *s = p->s;
    if (!p->seen_v && type != 'v')
        return perr(p, -EINVAL, "an SDP starts with v=0");
    switch (type) {
    case 'v':
        if (p->seen_v || strcmp(v, "0") != 0)
            return perr(p, -EINVAL, "v= must be the first line and 0");
        p->seen_v = true;
        return 0;
    case 'o':
        return parse_origin(p, v);
    case 's':
        if (p->seen_s || p->m)
            return perr(p, -EINVAL, "s= twice or after m=");
        p->seen_s = true;
        s->name = xstrdup(v);
        return 0;
    case 't':
        return parse_timing(p, v);
    case 'c':
        return check_connection(p, v, p->m ? &p->m->connection : &s->connection);
    case 'b':
        if (check_bandwidth(p, v) < 0)
            return -EINVAL;
        if (p->m)
            push_str(&p->m->bandwidth, &p->m->n_bandwidth, v);
        else
            push_str(&s->bandwidth, &s->n_bandwidth, v);
        return 0;
    case 'i':
    case 'u':
    case 'e':
    case 'p':
    case 'r':
    case 'z':
    case 'k':
        if (p->m)
            push_line(&p->m->extra, &p->m->n_extra, type, v);
        else
            push_line(&s->extra, &s->n_extra, type, v);
        return 0;
    case 'm':
        return parse_media_line(p, v);
    case 'a':
        return parse_attr(p, v);
    default:
        return perr(p, -EINVAL, "unknown line type '%c'", type);
    }
}

/* Checks what only the whole SDP can tell: the required lines and unique mids. */
static int finish(struct parser *p)
{
    p->line = 0;
    if (!p->seen_v)
        return perr(p, -EINVAL, "empty SDP");
    if (!p->seen_o || !p->seen_s || !p->seen_t)
        return perr(p, -EINVAL, "missing %s line", !p->seen_o ? "o=" : !p->seen_s ? "s=" : "t=");
    for (size_t i = 0; i < p->s->n_media; i++) {
        const char *mid = p->s->media[i].mid;
        if (mid && sdp_find_mid(p->s, mid) != (int)i)
            return perr(p, -EINVAL, "mid \"%s\" on two m-lines", mid);
    }
    return 0;
}

/* One line into buf: its length without the line end and trailing blanks, or an error. */
static int read_line(struct parser *p, const char **cur, const char *end, char *buf)
{
    const char *nl = memchr(*cur, '\n', (size_t)(end - *cur));
    size_t n = (size_t)((nl ? nl : end) - *cur);
    const char *start = *cur;
    *cur = nl ? nl + 1 : end;
    p->line++;
    if (n > 0 && start[n - 1] == '\r')
        n--;
    while (n > 0 && (start[n - 1] == ' ' || start[n - 1] == '\t'))
        n--;
    if (n > SDP_MAX_LINE)
        return perr(p, -E2BIG, "longer than %d bytes", SDP_MAX_LINE);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)start[i];
        if (c == '\0')
            return perr(p, -EINVAL, "NUL byte");
        if (c == '\r')
            return perr(p, -EINVAL, "CR inside a line");
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return perr(p, -EINVAL, "control character 0x%02x", c);
    }
    memcpy(buf, start, n);
    buf[n] = '\0';
    return (int)n;
}

int sdp_parse(const char *text, size_t len, struct sdp **out, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!out)
        return -EINVAL;
    *out = NULL;
    struct parser p = {.err = err, .errlen = errlen};
    if (!text)
        return perr(&p, -EINVAL, "no SDP");
    if (len > SDP_MAX_LEN)
        return perr(&p, -E2BIG, "SDP longer than %d bytes", SDP_MAX_LEN);
    p.s = xcalloc(1, sizeof *p.s);
    const char *cur = text, *end = text + len;
    char buf[SDP_MAX_LINE + 1];
    int rc = 0;
    while (cur < end && rc == 0) {
        int n = read_line(&p, &cur, end, buf);
        if (n < 0)
            rc = n;
        else if (n == 0)
            continue;
        else if (n < 2 || buf[1] != '=' || buf[0] < 'a' || buf[0] > 'z')
            rc = perr(&p, -EINVAL, "not a <type>=<value> line");
        else
            rc = parse_line(&p, buf[0], buf + 2);
    }
    if (rc == 0)
        rc = finish(&p);
    if (rc < 0) {
        sdp_free(p.s);
        return rc;
    }
    *out = p.s;
    return 0;
}
