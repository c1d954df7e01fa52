/* This file implements the SDP candidate attribute (RFC 8839 section 5.1): a strict parser
 * for what peers send us and the writer for what we advertise, plus small address and
 * credential helpers shared by the ICE files.
 *
 * The parser works on a bounded copy split at spaces; every number is range-checked and
 * addresses must be numeric (we never resolve host names, mDNS ".local" ones included). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "gateway/ice/ice_internal.h"

#define MAX_TOKENS 48

static const char ice_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void ice_random_chars(char *out, size_t len)
{
    if (len == 0)
        return;
    unsigned char raw[256];
    size_t n = len - 1 < sizeof raw ? len - 1 : sizeof raw;
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(raw + got, n - got, 0);
        if (r < 0 && errno != EINTR)
            abort(); /* the kernel always has getrandom on the systems we support */
        if (r > 0)
            got += (size_t)r;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = ice_alphabet[raw[i] % 64];
    out[n] = '\0';
}

static bool is_ice_char(char c)
{
    return isalnum((unsigned char)c) || c == '+' || c == '/';
}

bool ice_chars_valid(const char *s, size_t max)
{
    size_t n = 0;
    if (!s)
        return false;
    for (; s[n]; n++)
        if (n >= max || !is_ice_char(s[n]))
            return false;
    return n > 0;
}

void ice_sockaddr_ip(const struct sockaddr *sa, char *buf, size_t len)
{
    const void *src = NULL;
    if (sa->sa_family == AF_INET)
        src = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    else if (sa->sa_family == AF_INET6)
        src = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    if (!src || !inet_ntop(sa->sa_family, src, buf, (socklen_t)len))
        buf[0] = '\0';
}

uint16_t ice_sockaddr_port(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port);
    if (sa->sa_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
    return 0;
}

void ice_sockaddr_set_port(struct sockaddr_storage *ss, uint16_t port)
{
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
    else if (ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

int ice_sockaddr_from_ip(const char *ip, uint16_t port, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof *out);
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        return 0;
    }
    if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        return 0;
    }
    return -EINVAL;
}

static int parse_uint(const char *s, unsigned maxdigits, uint64_t max, uint64_t *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > maxdigits)
        return -EINVAL;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -EINVAL;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

/* A numeric address (0), a plausible host name (-EAFNOSUPPORT) or junk (-EINVAL). */
static int parse_addr(const char *ip, const char *port, struct sockaddr_storage *out)
{
    uint64_t p;
    if (parse_uint(port, 5, 65535, &p) < 0)
        return -EINVAL;
    if (ice_sockaddr_from_ip(ip, (uint16_t)p, out) == 0)
        return 0;
    size_t n = strlen(ip);
    bool letters = false;
    if (n == 0 || n > 253)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)ip[i]) && ip[i] != '-' && ip[i] != '.')
            return -EINVAL;
        letters |= isalpha((unsigned char)ip[i]) != 0;
    }
    return letters ? -EAFNOSUPPORT : -EINVAL; /* "127.0.0.300" is a bad address, not a name */
}

static const char *const type_names[] = {"host", "srflx", "prflx", "relay"};
static const char *const tcp_names[] = {"", "active", "passive", "so"};

const char *ice_cand_type_name(enum ice_cand_type type)
{
    return (unsigned)type < 4 ? type_names[type] : "host";
}

static int lookup(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcasecmp(s, names[i]) == 0)
            return i;
    return -1;
}

/* Copies `text` without "a=" and trailing CR/LF/blanks and splits it at spaces. */
static int tokenize(const char *text, char *buf, size_t len, char **tok, int *ntok)
{
    if (strncmp(text, "a=", 2) == 0)
        text += 2;
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\r' || text[n - 1] == '\n' || text[n - 1] == ' '))
        n--;
    if (n == 0 || n >= len)
        return -EINVAL;
    memcpy(buf, text, n);
    buf[n] = '\0';
    *ntok = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        if (*ntok == MAX_TOKENS)
            return -EINVAL;
        for (const char *c = t; *c; c++)
            if (!isgraph((unsigned char)*c))
                return -EINVAL;
        tok[(*ntok)++] = t;
    }
    return 0;
}

/* The "name value" pairs after the candidate type. */
static int parse_extensions(char **tok, int ntok, struct ice_candidate *c)
{
    const char *raddr = NULL, *rport = NULL;
    if (ntok % 2 != 0)
        return -EINVAL;
    for (int i = 0; i < ntok; i += 2) {
        if (strcmp(tok[i], "raddr") == 0)
            raddr = tok[i + 1];
        else if (strcmp(tok[i], "rport") == 0)
            rport = tok[i + 1];
        else if (strcmp(tok[i], "tcptype") == 0) {
            int t = lookup(tok[i + 1], tcp_names + 1, 3);
            if (t < 0)
                return -EINVAL;
            c->tcptype = (enum ice_tcp_type)(t + 1);
        }
    }
    if (c->transport != ICE_TRANSPORT_TCP) /* tcptype means nothing on a UDP candidate */
        c->tcptype = ICE_TCP_NONE;
    /* A related address that is not numeric (some stacks hide it) is simply left out. */
    if (raddr && rport && parse_addr(raddr, rport, &c->related) == 0)
        c->has_related = true;
    else if ((raddr != NULL) != (rport != NULL))
        return -EINVAL;
    return 0;
}

int ice_candidate_parse(const char *text, struct ice_candidate *out)
{
    char buf[ICE_CANDIDATE_MAX];
    char *tok[MAX_TOKENS];
    int ntok;
    uint64_t v;
    if (!text || tokenize(text, buf, sizeof buf, tok, &ntok) < 0 || ntok < 8)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    if (strncmp(tok[0], "candidate:", 10) != 0)
        return -EINVAL;
    const char *foundation = tok[0] + 10;
    if (!ice_chars_valid(foundation, ICE_FOUNDATION_MAX))
        return -EINVAL;
    strcpy(out->foundation, foundation);
    if (parse_uint(tok[1], 3, 256, &v) < 0 || v == 0)
        return -EINVAL;
    out->component = (unsigned)v;
    if (strcasecmp(tok[2], "udp") == 0)
        out->transport = ICE_TRANSPORT_UDP;
    else if (strcasecmp(tok[2], "tcp") == 0)
        out->transport = ICE_TRANSPORT_TCP;
    else
        return -EINVAL;
    if (parse_uint(tok[3], 10, UINT32_MAX, &v) < 0)
        return -EINVAL;
    out->priority = (uint32_t)v;
    if (strcmp(tok[6], "typ") != 0)
        return -EINVAL;
    int type = lookup(tok[7], type_names, 4);
    if (type < 0)
        return -EINVAL;
    out->type = (enum ice_cand_type)type;
    int rc = parse_extensions(tok + 8, ntok - 8, out);
    if (rc < 0)
        return rc;
    /* The address last, so that a host name is only reported for an otherwise valid line. */
    return parse_addr(tok[4], tok[5], &out->addr);
}

int ice_candidate_format(const struct ice_candidate *c, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN], rip[INET6_ADDRSTRLEN];
    ice_sockaddr_ip((const struct sockaddr *)&c->addr, ip, sizeof ip);
    int n =
        snprintf(buf, len, "candidate:%s %u %s %u %s %u typ %s", c->foundation, c->component,
                 c->transport == ICE_TRANSPORT_TCP ? "tcp" : "udp", c->priority, ip,
                 ice_sockaddr_port((const struct sockaddr *)&c->addr), ice_cand_type_name(c->type));
    if (n < 0 || (size_t)n >= len)
        return -ENOSPC;
    if (c->has_related) {
        ice_sockaddr_ip((const struct sockaddr *)&c->related, rip, sizeof rip);
        n += snprintf(buf + n, len - (size_t)n, " raddr %s rport %u", rip,
                      ice_sockaddr_port((const struct sockaddr *)&c->related));
        if ((size_t)n >= len)
            return -ENOSPC;
    }
    if (c->transport == ICE_TRANSPORT_TCP && c->tcptype != ICE_TCP_NONE &&
        (unsigned)c->tcptype < 4) {
        n += snprintf(buf + n, len - (size_t)n, " tcptype %s", tcp_names[c->tcptype]);
        if ((size_t)n >= len)
            return -ENOSPC;
    }
    return n;
}
