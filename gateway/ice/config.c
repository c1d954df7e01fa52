/* This file implements the ICE configuration: defaults, the setters that parse the text of
 * Janus-style `nat` settings (port range, enforce/ignore lists, STUN server, 1:1 NAT), the
 * choice of local addresses from the host's interfaces, and the one-time preparation.
 *
 * DESIGN. Enforce and ignore entries match by prefix, on the interface name or on the numeric
 * address, as Janus's do ("eth", "192.168."); the ignore list is not used when an enforce list
 * is set. Loopback interfaces are skipped unless an enforce entry names them, so that tests may
 * gather on 127.0.0.1 on purpose while a default configuration never does. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "gateway/ice/ice_internal.h"

#define ENTRY_MAX 64 /* longest list entry */

static char *dup_n(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static char **list_new(void)
{
    return xcalloc(1, sizeof(char *));
}

static void list_free(char **list)
{
    if (!list)
        return;
    for (char **p = list; *p; p++)
        free(*p);
    free(list);
}

static size_t list_len(char *const *list)
{
    size_t n = 0;
    while (list && list[n])
        n++;
    return n;
}

static void set_err(char *err, size_t errlen, const char *what, const char *text)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: \"%.80s\"", what, text ? text : "");
}

/* Splits a comma list into a new owned list; blanks around entries are dropped, empty
 * entries skipped. NULL on a bad list (too many or too long entries, inner blanks). */
static char **list_parse(const char *text)
{
    char **list = xcalloc(ICE_LIST_MAX + 1, sizeof(char *));
    size_t n = 0;
    const char *p = text ? text : "";
    while (*p) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        for (const char *q = a; q < b; q++)
            if (isspace((unsigned char)*q) || !isprint((unsigned char)*q))
                goto out_bad;
        if (b > a) {
            if (n == ICE_LIST_MAX || (size_t)(b - a) > ENTRY_MAX)
                goto out_bad;
            list[n++] = dup_n(a, (size_t)(b - a));
        }
        p = *end ? end + 1 : end;
    }
    return list;
out_bad:
    list_free(list);
    return NULL;
}

void ice_config_init(struct ice_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->enforce_list = list_new();
    cfg->ignore_list = list_parse("vmnet");
    cfg->nat_1_1 = list_new();
    cfg->stun_port = 3478;
    cfg->keepalive_conncheck = true;
    cfg->consent_freshness = true;
}

void ice_config_free(struct ice_config *cfg)
{
    if (!cfg)
        return;
    list_free(cfg->enforce_list);
    list_free(cfg->ignore_list);
    list_free(cfg->nat_1_1);
    free(cfg->stun_server);
    memset(cfg, 0, sizeof *cfg);
}

static int parse_port(const char *s, size_t n, unsigned *out)
{
    if (n == 0 || n > 5)
        return -EINVAL;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -EINVAL;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535)
        return -EINVAL;
    *out = v;
    return 0;
}

int ice_config_set_port_range(struct ice_config *cfg, const char *text, char *err, size_t errlen)
{
    if (!text || !*text) {
        cfg->port_min = cfg->port_max = 0;
        return 0;
    }
    const char *dash = strchr(text, '-');
    unsigned lo, hi;
    if (!dash || parse_port(text, (size_t)(dash - text), &lo) < 0 ||
        parse_port(dash + 1, strlen(dash + 1), &hi) < 0 || lo > hi || (lo == 0 && hi != 0)) {
        set_err(err, errlen, "RTP port range must be MIN-MAX with 1 <= MIN <= MAX <= 65535", text);
        return -EINVAL;
    }
    cfg->port_min = (uint16_t)lo;
    cfg->port_max = (uint16_t)hi;
    return 0;
}

static int set_list(char ***field, const char *text, const char *what, char *err, size_t errlen)
{
    char **list = list_parse(text);
    if (!list) {
        set_err(err, errlen, what, text);
        return -EINVAL;
    }
    list_free(*field);
    *field = list;
    return 0;
}

int ice_config_set_enforce_list(struct ice_config *cfg, const char *text, char *err, size_t errlen)
{
    return set_list(&cfg->enforce_list, text,
                    "ICE enforce list: bad entry (too long, blanks inside, or too many)", err,
                    errlen);
}

int ice_config_set_ignore_list(struct ice_config *cfg, const char *text, char *err, size_t errlen)
{
    return set_list(&cfg->ignore_list, text,
                    "ICE ignore list: bad entry (too long, blanks inside, or too many)", err,
                    errlen);
}

static bool is_numeric_ip(const char *s)
{
    struct sockaddr_storage ss;
    return ice_sockaddr_from_ip(s, 0, &ss) == 0;
}

static bool valid_host(const char *s, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.' && s[i] != ':')
            return false;
    return true;
}

int ice_config_set_stun_server(struct ice_config *cfg, const char *text, char *err, size_t errlen)
{
    const char *what = "STUN server must be HOST, HOST:PORT or [IPV6]:PORT";
    if (!text || !*text) {
        free(cfg->stun_server);
        cfg->stun_server = NULL;
        return 0;
    }
    const char *host = text, *port = NULL;
    size_t hlen = strlen(text);
    const char *colon = strrchr(text, ':');
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || (close[1] && close[1] != ':'))
            goto out_bad;
        host = text + 1;
        hlen = (size_t)(close - host);
        port = close[1] ? close + 2 : NULL;
    } else if (colon && strchr(text, ':') == colon) {
        hlen = (size_t)(colon - text);
        port = colon + 1;
    }
    unsigned p = 3478;
    if (!valid_host(host, hlen) || (port && (parse_port(port, strlen(port), &p) < 0 || !p)))
        goto out_bad;
    free(cfg->stun_server);
    cfg->stun_server = dup_n(host, hlen);
    cfg->stun_port = (uint16_t)p;
    return 0;
out_bad:
    set_err(err, errlen, what, text);
    return -EINVAL;
}

int ice_config_set_nat_1_1(struct ice_config *cfg, const char *text, char *err, size_t errlen)
{
    char **list = list_parse(text);
    bool ok = list && list_len(list) <= ICE_NAT_1_1_MAX;
    for (char **p = list; ok && *p; p++)
        ok = is_numeric_ip(*p);
    if (!ok) {
        list_free(list);
        set_err(err, errlen, "1:1 NAT mapping must be a comma list of up to 4 numeric IPs", text);
        return -EINVAL;
    }
    list_free(cfg->nat_1_1);
    cfg->nat_1_1 = list;
    return 0;
}

static bool prefix_in(char *const *list, const char *s)
{
    for (char *const *p = list; p && *p; p++)
        if (strncmp(s, *p, strlen(*p)) == 0)
            return true;
    return false;
}

bool ice_config_address_wanted(const struct ice_config *cfg, const char *ifname, unsigned flags,
                               int family, const char *ip)
{
    if (family != AF_INET && family != AF_INET6)
        return false;
    if (family == AF_INET6) {
        if (!cfg->ipv6)
            return false;
        if (!cfg->ipv6_linklocal && strncasecmp(ip, "fe8", 3) == 0)
            return false;
    }
    if (!(flags & IFF_UP))
        return false;
    if (list_len(cfg->enforce_list) > 0)
        return prefix_in(cfg->enforce_list, ifname) || prefix_in(cfg->enforce_list, ip);
    if (flags & IFF_LOOPBACK)
        return false;
    return !prefix_in(cfg->ignore_list, ifname) && !prefix_in(cfg->ignore_list, ip);
}

int ice_config_local_addresses(const struct ice_config *cfg, struct ice_local_addr *out, size_t max,
                               size_t *n)
{
    struct ifaddrs *ifs;
    *n = 0;
    if (getifaddrs(&ifs) < 0)
        return -errno;
    for (struct ifaddrs *i = ifs; i && *n < max; i = i->ifa_next) {
        if (!i->ifa_addr || !i->ifa_name)
            continue;
        int family = i->ifa_addr->sa_family;
        char ip[INET6_ADDRSTRLEN];
        ice_sockaddr_ip(i->ifa_addr, ip, sizeof ip);
        if (!ip[0] || !ice_config_address_wanted(cfg, i->ifa_name, i->ifa_flags, family, ip))
            continue;
        bool dup = false;
        for (size_t k = 0; k < *n && !dup; k++)
            dup = strcmp(out[k].ip, ip) == 0;
        if (dup)
            continue;
        struct ice_local_addr *a = &out[(*n)++];
        snprintf(a->ifname, sizeof a->ifname, "%s", i->ifa_name);
        snprintf(a->ip, sizeof a->ip, "%s", ip);
        a->family = family;
    }
    freeifaddrs(ifs);
    return 0;
}

/* Resolves the STUN host into cfg->stun_ip (a blocking lookup). */
static int resolve_stun(struct ice_config *cfg, char *err, size_t errlen)
{
    cfg->stun_ip[0] = '\0';
    if (!cfg->stun_server || !*cfg->stun_server)
        return 0;
    struct addrinfo hints = {.ai_family = cfg->ipv6 ? AF_UNSPEC : AF_INET,
                             .ai_socktype = SOCK_DGRAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(cfg->stun_server, NULL, &hints, &res) != 0 || !res) {
        set_err(err, errlen, "cannot resolve the STUN server", cfg->stun_server);
        return -EINVAL;
    }
    ice_sockaddr_ip(res->ai_addr, cfg->stun_ip, sizeof cfg->stun_ip);
    freeaddrinfo(res);
    return 0;
}

int ice_config_prepare(struct ice_config *cfg, char *err, size_t errlen)
{
    if (!cfg->enforce_list || !cfg->ignore_list || !cfg->nat_1_1) {
        set_err(err, errlen, "ICE config not initialised", "");
        return -EINVAL;
    }
    if (cfg->port_min > cfg->port_max || (cfg->port_min == 0 && cfg->port_max != 0)) {
        set_err(err, errlen, "RTP port range: MIN must be 1..MAX", "");
        return -EINVAL;
    }
    if (list_len(cfg->nat_1_1) > ICE_NAT_1_1_MAX) {
        set_err(err, errlen, "1:1 NAT mapping: too many addresses", "");
        return -EINVAL;
    }
    for (char **p = cfg->nat_1_1; *p; p++) {
        if (!is_numeric_ip(*p)) {
            set_err(err, errlen, "1:1 NAT mapping: not a numeric IP", *p);
            return -EINVAL;
        }
    }
    struct ice_local_addr addrs[ICE_ADDRS_MAX];
    size_t n = 0;
    int rc = ice_config_local_addresses(cfg, addrs, ICE_ADDRS_MAX, &n);
    if (rc < 0 || n == 0) {
        set_err(err, errlen,
                "no local address for ICE (check the enforce/ignore lists and ipv6); enforce list",
                cfg->enforce_list[0] ? cfg->enforce_list[0] : "");
        return -EINVAL;
    }
    rc = resolve_stun(cfg, err, errlen);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        vb_log_info(cfg->log, "ice: gathering on %s (%s)", addrs[i].ip, addrs[i].ifname);
    cfg->prepared = true;
    return 0;
}

static json_t *list_json(char *const *list)
{
    char buf[ICE_LIST_MAX * (ENTRY_MAX + 1) + 1];
    size_t off = 0;
    buf[0] = '\0';
    for (char *const *p = list; p && *p && off < sizeof buf; p++)
        off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s", off ? "," : "", *p);
    return json_string(buf);
}

json_t *ice_config_to_json(const struct ice_config *cfg)
{
    char range[16];
    snprintf(range, sizeof range, "%u-%u", cfg->port_min, cfg->port_max);
    json_t *o = json_object();
    json_object_set_new(o, "rtp_port_range", json_string(range));
    json_object_set_new(o, "ice_enforce_list", list_json(cfg->enforce_list));
    json_object_set_new(o, "ice_ignore_list", list_json(cfg->ignore_list));
    json_object_set_new(o, "stun_server", json_string(cfg->stun_server ? cfg->stun_server : ""));
    json_object_set_new(o, "stun_port", json_integer(cfg->stun_port));
    json_object_set_new(o, "nat_1_1_mapping", list_json(cfg->nat_1_1));
    json_object_set_new(o, "keep_private_host", json_boolean(cfg->keep_private_host));
    json_object_set_new(o, "ice_tcp", json_boolean(cfg->ice_tcp));
    json_object_set_new(o, "ipv6", json_boolean(cfg->ipv6));
    json_object_set_new(o, "ipv6_linklocal", json_boolean(cfg->ipv6_linklocal));
    json_object_set_new(o, "full_trickle", json_boolean(cfg->full_trickle));
    json_object_set_new(o, "ice_lite", json_boolean(cfg->ice_lite));
    json_object_set_new(o, "ice_nomination",
                        json_string(cfg->regular_nomination ? "regular" : "aggressive"));
    json_object_set_new(o, "ice_keepalive_conncheck", json_boolean(cfg->keepalive_conncheck));
    json_object_set_new(o, "ice_consent_freshness", json_boolean(cfg->consent_freshness));
    return o;
}
