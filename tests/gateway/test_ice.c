/* This file implements the tests of gateway/ice/ that need no network: the configuration
 * setters and address selection, and the candidate parser and writer. */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "gateway/ice/ice.h"
#include "tests/test.h"

static void test_config_defaults(void)
{
    struct ice_config cfg;
    ice_config_init(&cfg);
    ASSERT_EQ(cfg.port_min, 0);
    ASSERT_EQ(cfg.port_max, 0);
    ASSERT(cfg.enforce_list[0] == NULL);
    ASSERT_STREQ(cfg.ignore_list[0], "vmnet");
    ASSERT(cfg.ignore_list[1] == NULL);
    ASSERT(cfg.stun_server == NULL);
    ASSERT_EQ(cfg.stun_port, 3478);
    ASSERT(cfg.nat_1_1[0] == NULL);
    ASSERT(!cfg.ice_tcp && !cfg.ipv6 && !cfg.full_trickle && !cfg.ice_lite);
    ASSERT(cfg.consent_freshness && cfg.keepalive_conncheck);
    ASSERT(!cfg.prepared);
    json_t *j = ice_config_to_json(&cfg);
    ASSERT_STREQ(json_string_value(json_object_get(j, "ice_ignore_list")), "vmnet");
    ASSERT_STREQ(json_string_value(json_object_get(j, "rtp_port_range")), "0-0");
    ASSERT_STREQ(json_string_value(json_object_get(j, "ice_nomination")), "aggressive");
    ASSERT(json_is_false(json_object_get(j, "ice_tcp")));
    json_decref(j);
    ice_config_free(&cfg);
    ice_config_free(NULL);
}

static void test_config_port_range(void)
{
    struct ice_config cfg;
    char err[200];
    ice_config_init(&cfg);
    ASSERT_EQ(ice_config_set_port_range(&cfg, "20000-40000", err, sizeof err), 0);
    ASSERT_EQ(cfg.port_min, 20000);
    ASSERT_EQ(cfg.port_max, 40000);
    ASSERT_EQ(ice_config_set_port_range(&cfg, "5000-5000", err, sizeof err), 0);
    ASSERT_EQ(cfg.port_min, 5000);
    static const char *const bad[] = {"40000-20000", "1-65536", "-",  "10-",   "-10",  "a-b",
                                      "10 -20",      "0-10",    "10", "1-2-3", "+1-2", NULL};
    for (int i = 0; bad[i]; i++) {
        err[0] = '\0';
        ASSERT_EQ(ice_config_set_port_range(&cfg, bad[i], err, sizeof err), -EINVAL);
        ASSERT(strstr(err, "port range") != NULL);
        ASSERT_EQ(cfg.port_min, 5000); /* unchanged */
    }
    ASSERT_EQ(ice_config_set_port_range(&cfg, "0-0", err, sizeof err), 0);
    ASSERT_EQ(cfg.port_max, 0);
    ASSERT_EQ(ice_config_set_port_range(&cfg, "1-65535", err, sizeof err), 0);
    ASSERT_EQ(ice_config_set_port_range(&cfg, "", err, sizeof err), 0);
    ASSERT_EQ(cfg.port_min, 0);
    ice_config_free(&cfg);
}

static void test_config_lists(void)
{
    struct ice_config cfg;
    char err[200];
    ice_config_init(&cfg);
    ASSERT_EQ(ice_config_set_enforce_list(&cfg, " eth0 ,192.168., ,veth1", err, sizeof err), 0);
    ASSERT_STREQ(cfg.enforce_list[0], "eth0");
    ASSERT_STREQ(cfg.enforce_list[1], "192.168.");
    ASSERT_STREQ(cfg.enforce_list[2], "veth1");
    ASSERT(cfg.enforce_list[3] == NULL);
    ASSERT_EQ(ice_config_set_enforce_list(&cfg, "eth 0", err, sizeof err), -EINVAL);
    ASSERT_STREQ(cfg.enforce_list[0], "eth0"); /* unchanged */
    char longer[100];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    ASSERT_EQ(ice_config_set_ignore_list(&cfg, longer, err, sizeof err), -EINVAL);
    char many[400] = "";
    for (int i = 0; i < ICE_LIST_MAX + 1; i++)
        strcat(many, "a,");
    ASSERT_EQ(ice_config_set_ignore_list(&cfg, many, err, sizeof err), -EINVAL);
    ASSERT_EQ(ice_config_set_ignore_list(&cfg, "", err, sizeof err), 0);
    ASSERT(cfg.ignore_list[0] == NULL);
    ASSERT_EQ(ice_config_set_ignore_list(&cfg, "docker,10.", err, sizeof err), 0);
    json_t *j = ice_config_to_json(&cfg);
    ASSERT_STREQ(json_string_value(json_object_get(j, "ice_enforce_list")), "eth0,192.168.,veth1");
    ASSERT_STREQ(json_string_value(json_object_get(j, "ice_ignore_list")), "docker,10.");
    json_decref(j);
    ice_config_free(&cfg);
}

static void test_config_stun_nat(void)
{
    struct ice_config cfg;
    char err[200];
    ice_config_init(&cfg);
    ASSERT_EQ(ice_config_set_stun_server(&cfg, "stun.example.org:19302", err, sizeof err), 0);
    ASSERT_STREQ(cfg.stun_server, "stun.example.org");
    ASSERT_EQ(cfg.stun_port, 19302);
    ASSERT_EQ(ice_config_set_stun_server(&cfg, "192.0.2.1", err, sizeof err), 0);
    ASSERT_STREQ(cfg.stun_server, "192.0.2.1");
    ASSERT_EQ(cfg.stun_port, 3478);
    ASSERT_EQ(ice_config_set_stun_server(&cfg, "[2001:db8::1]:3479", err, sizeof err), 0);
    ASSERT_STREQ(cfg.stun_server, "2001:db8::1");
    ASSERT_EQ(cfg.stun_port, 3479);
    ASSERT_EQ(ice_config_set_stun_server(&cfg, "2001:db8::2", err, sizeof err), 0);
    ASSERT_STREQ(cfg.stun_server, "2001:db8::2");
    static const char *const bad[] = {"host:0", "host:99999", "host:", "[::1", "[::1]x",
                                      "a b:1",  ":3478",      "h/x",   NULL};
    for (int i = 0; bad[i]; i++)
        ASSERT_EQ(ice_config_set_stun_server(&cfg, bad[i], err, sizeof err), -EINVAL);
    ASSERT_STREQ(cfg.stun_server, "2001:db8::2");
    ASSERT_EQ(ice_config_set_stun_server(&cfg, "", err, sizeof err), 0);
    ASSERT(cfg.stun_server == NULL);

    ASSERT_EQ(ice_config_set_nat_1_1(&cfg, "203.0.113.7, 2001:db8::7", err, sizeof err), 0);
    ASSERT_STREQ(cfg.nat_1_1[0], "203.0.113.7");
    ASSERT_STREQ(cfg.nat_1_1[1], "2001:db8::7");
    ASSERT_EQ(ice_config_set_nat_1_1(&cfg, "example.org", err, sizeof err), -EINVAL);
    ASSERT_EQ(
        ice_config_set_nat_1_1(&cfg, "1.2.3.4,1.2.3.5,1.2.3.6,1.2.3.7,1.2.3.8", err, sizeof err),
        -EINVAL);
    ASSERT(strstr(err, "1:1 NAT") != NULL);
    ASSERT_STREQ(cfg.nat_1_1[0], "203.0.113.7");
    ice_config_free(&cfg);
}

static void test_config_address_wanted(void)
{
    struct ice_config cfg;
    char err[200];
    const unsigned up = IFF_UP, lo = IFF_UP | IFF_LOOPBACK;
    ice_config_init(&cfg);
    /* Defaults: everything up but loopback, vmnet* and IPv6. */
    ASSERT(ice_config_address_wanted(&cfg, "eth0", up, AF_INET, "192.168.1.2"));
    ASSERT(!ice_config_address_wanted(&cfg, "eth0", 0, AF_INET, "192.168.1.2"));
    ASSERT(!ice_config_address_wanted(&cfg, "lo", lo, AF_INET, "127.0.0.1"));
    ASSERT(!ice_config_address_wanted(&cfg, "vmnet8", up, AF_INET, "172.16.0.1"));
    ASSERT(!ice_config_address_wanted(&cfg, "eth0", up, AF_INET6, "2001:db8::2"));
    ASSERT(!ice_config_address_wanted(&cfg, "eth0", up, AF_PACKET, ""));
    cfg.ipv6 = true;
    ASSERT(ice_config_address_wanted(&cfg, "eth0", up, AF_INET6, "2001:db8::2"));
    ASSERT(!ice_config_address_wanted(&cfg, "eth0", up, AF_INET6, "fe80::1"));
    cfg.ipv6_linklocal = true;
    ASSERT(ice_config_address_wanted(&cfg, "eth0", up, AF_INET6, "fe80::1"));
    /* Ignore list by interface prefix or by address prefix. */
    ASSERT_EQ(ice_config_set_ignore_list(&cfg, "docker,10.0.", err, sizeof err), 0);
    ASSERT(!ice_config_address_wanted(&cfg, "docker0", up, AF_INET, "172.17.0.1"));
    ASSERT(!ice_config_address_wanted(&cfg, "eth1", up, AF_INET, "10.0.3.4"));
    ASSERT(ice_config_address_wanted(&cfg, "eth1", up, AF_INET, "10.1.3.4"));
    ASSERT(ice_config_address_wanted(&cfg, "vmnet8", up, AF_INET, "172.16.0.1"));
    /* An enforce list wins over the ignore list, and may name a loopback address. */
    ASSERT_EQ(ice_config_set_enforce_list(&cfg, "docker0,127.0.0.2", err, sizeof err), 0);
    ASSERT(ice_config_address_wanted(&cfg, "docker0", up, AF_INET, "172.17.0.1"));
    ASSERT(ice_config_address_wanted(&cfg, "va", up, AF_INET, "127.0.0.2"));
    ASSERT(ice_config_address_wanted(&cfg, "lo", lo, AF_INET, "127.0.0.2"));
    ASSERT(!ice_config_address_wanted(&cfg, "lo", lo, AF_INET, "127.0.0.1"));
    ASSERT(!ice_config_address_wanted(&cfg, "eth0", up, AF_INET, "192.168.1.2"));
    ASSERT(!ice_config_address_wanted(&cfg, "va", 0, AF_INET, "127.0.0.2"));
    ice_config_free(&cfg);
}

static void test_config_prepare(void)
{
    struct ice_config cfg;
    char err[300];
    ice_config_init(&cfg);
    ASSERT_EQ(ice_config_set_enforce_list(&cfg, "no-such-interface-h12", err, sizeof err), 0);
    err[0] = '\0';
    ASSERT_EQ(ice_config_prepare(&cfg, err, sizeof err), -EINVAL);
    ASSERT(strstr(err, "no local address") != NULL);
    ASSERT(!cfg.prepared);
    /* The loopback interface exists everywhere; enforcing it is allowed. */
    ASSERT_EQ(ice_config_set_enforce_list(&cfg, "127.0.0.1", err, sizeof err), 0);
    ASSERT_EQ(ice_config_prepare(&cfg, err, sizeof err), 0);
    ASSERT(cfg.prepared);
    ASSERT_STREQ(cfg.stun_ip, "");
    struct ice_local_addr addrs[ICE_ADDRS_MAX];
    size_t n = 99;
    ASSERT_EQ(ice_config_local_addresses(&cfg, addrs, ICE_ADDRS_MAX, &n), 0);
    ASSERT_EQ(n, 1);
    ASSERT_STREQ(addrs[0].ip, "127.0.0.1");
    ASSERT_EQ(addrs[0].family, AF_INET);
    /* A numeric STUN server needs no lookup; an impossible range is refused. */
    ASSERT_EQ(ice_config_set_stun_server(&cfg, "192.0.2.9:3478", err, sizeof err), 0);
    ASSERT_EQ(ice_config_prepare(&cfg, err, sizeof err), 0);
    ASSERT_STREQ(cfg.stun_ip, "192.0.2.9");
    cfg.port_min = 30;
    cfg.port_max = 20;
    ASSERT_EQ(ice_config_prepare(&cfg, err, sizeof err), -EINVAL);
    ice_config_free(&cfg);
}

static void parse_ok(const char *text, struct ice_candidate *c)
{
    int rc = ice_candidate_parse(text, c);
    if (rc != 0)
        TEST_FAIL_("parse \"%s\": %d", text, rc);
}

static void roundtrip(const char *text, const char *expect)
{
    struct ice_candidate c;
    char out[ICE_CANDIDATE_MAX];
    parse_ok(text, &c);
    ASSERT_GT(ice_candidate_format(&c, out, sizeof out), 0);
    ASSERT_STREQ(out, expect);
}

static void test_candidate_parse(void)
{
    struct ice_candidate c;
    char ip[INET6_ADDRSTRLEN];
    /* Chromium's host candidate, with its extensions. */
    parse_ok("candidate:1467250027 1 udp 2122260223 127.0.0.2 46243 typ host generation 0 "
             "ufrag Xy+/ network-id 1 network-cost 10",
             &c);
    ASSERT_STREQ(c.foundation, "1467250027");
    ASSERT_EQ(c.component, 1);
    ASSERT_EQ(c.transport, ICE_TRANSPORT_UDP);
    ASSERT_UEQ(c.priority, 2122260223u);
    ASSERT_EQ(c.type, ICE_CAND_HOST);
    ASSERT(!c.has_related);
    ASSERT_EQ(c.addr.ss_family, AF_INET);
    const struct sockaddr_in *in = (const struct sockaddr_in *)&c.addr;
    ASSERT_EQ(ntohs(in->sin_port), 46243);
    inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
    ASSERT_STREQ(ip, "127.0.0.2");
    /* Server reflexive with a related address, "a=" and CRLF, upper-case transport. */
    parse_ok("a=candidate:842163049 1 UDP 1686052607 203.0.113.5 61665 typ srflx raddr "
             "10.0.0.5 rport 61665 generation 0\r\n",
             &c);
    ASSERT_EQ(c.type, ICE_CAND_SRFLX);
    ASSERT(c.has_related);
    ASSERT_EQ(ntohs(((const struct sockaddr_in *)&c.related)->sin_port), 61665);
    /* TCP, IPv6, relay, prflx; the maximum priority and component. */
    parse_ok("candidate:2 1 tcp 1518280447 2001:db8::5 9 typ host tcptype active", &c);
    ASSERT_EQ(c.transport, ICE_TRANSPORT_TCP);
    ASSERT_EQ(c.tcptype, ICE_TCP_ACTIVE);
    ASSERT_EQ(c.addr.ss_family, AF_INET6);
    parse_ok("candidate:3 256 udp 4294967295 127.0.0.2 0 typ relay raddr 1.2.3.4 rport 5", &c);
    ASSERT_EQ(c.type, ICE_CAND_RELAY);
    ASSERT_EQ(c.component, 256);
    ASSERT_UEQ(c.priority, 4294967295u);
    parse_ok("candidate:4 1 udp 1 127.0.0.3 5000 typ prflx", &c);
    ASSERT_EQ(c.type, ICE_CAND_PRFLX);
    /* Firefox hides the related address of its srflx candidates behind 0.0.0.0 0 */
    parse_ok("candidate:5 1 udp 1 198.51.100.2 5000 typ srflx raddr 0.0.0.0 rport 0", &c);
    ASSERT(c.has_related);
}

static void test_candidate_reject(void)
{
    struct ice_candidate c;
    static const char *const bad[] = {
        "",
        "candidate:",
        "candidate:1 1 udp 1 127.0.0.2 5000 typ",
        "candidate:1 1 udp 1 127.0.0.2 5000 host",
        "candidate:1 1 udp 1 127.0.0.2 5000 typ foo",
        "candidate:1 1 sctp 1 127.0.0.2 5000 typ host",
        "candidate:1 0 udp 1 127.0.0.2 5000 typ host",
        "candidate:1 257 udp 1 127.0.0.2 5000 typ host",
        "candidate:1 1 udp 4294967296 127.0.0.2 5000 typ host",
        "candidate:1 1 udp -1 127.0.0.2 5000 typ host",
        "candidate:1 1 udp 1 127.0.0.2 65536 typ host",
        "candidate:1 1 udp 1 127.0.0.2 50x0 typ host",
        "candidate:1 1 udp 1 127.0.0.300 5000 typ host",
        "candidate:1 1 udp 1 fe80::1%eth0 5000 typ host",
        "candidate:1 1 udp 1 127.0.0.2 5000 typ host generation",
        "candidate:1 1 udp 1 127.0.0.2 5000 typ srflx raddr 1.2.3.4",
        "candidate:1 1 tcp 1 127.0.0.2 5000 typ host tcptype sideways",
        "candidate:1_2 1 udp 1 127.0.0.2 5000 typ host",
        "candidate:123456789012345678901234567890123 1 udp 1 127.0.0.2 5000 typ host",
        "candidate:1 1 udp 1 127.0.0.2 5000 typ host\tx 1",
        "cand:1 1 udp 1 127.0.0.2 5000 typ host",
        NULL,
    };
    for (int i = 0; bad[i]; i++) {
        int rc = ice_candidate_parse(bad[i], &c);
        if (rc != -EINVAL)
            TEST_FAIL_("\"%s\" gave %d, not -EINVAL", bad[i], rc);
    }
    ASSERT_EQ(ice_candidate_parse(NULL, &c), -EINVAL);
    /* Host names (mDNS included) are not resolved. */
    ASSERT_EQ(ice_candidate_parse("candidate:1 1 udp 1 6b3c2f0e-aaaa-bbbb.local 5000 typ host", &c),
              -EAFNOSUPPORT);
    ASSERT_EQ(ice_candidate_parse("candidate:1 1 udp 1 example.org 5000 typ host", &c),
              -EAFNOSUPPORT);
    /* Too long. */
    char big[ICE_CANDIDATE_MAX + 40];
    strcpy(big, "candidate:1 1 udp 1 127.0.0.2 5000 typ host");
    while (strlen(big) < ICE_CANDIDATE_MAX + 10)
        strcat(big, " x y");
    ASSERT_EQ(ice_candidate_parse(big, &c), -EINVAL);
}

static void test_candidate_format(void)
{
    roundtrip("candidate:1 1 udp 2015363327 127.0.0.2 33952 typ host generation 0",
              "candidate:1 1 udp 2015363327 127.0.0.2 33952 typ host");
    roundtrip("a=candidate:7 1 UDP 1686052607 203.0.113.5 61665 typ srflx raddr 10.0.0.5 "
              "rport 61000",
              "candidate:7 1 udp 1686052607 203.0.113.5 61665 typ srflx raddr 10.0.0.5 "
              "rport 61000");
    roundtrip("candidate:2 1 TCP 1518280447 2001:db8::5 9 typ host tcptype active",
              "candidate:2 1 tcp 1518280447 2001:db8::5 9 typ host tcptype active");
    struct ice_candidate c;
    char small[20];
    parse_ok("candidate:1 1 udp 1 127.0.0.2 5000 typ host", &c);
    ASSERT_EQ(ice_candidate_format(&c, small, sizeof small), -ENOSPC);
    ASSERT_STREQ(ice_cand_type_name(ICE_CAND_RELAY), "relay");
    ASSERT_STREQ(ice_state_name(ICE_STATE_READY), "ready");
    ASSERT_STREQ(ice_state_name(ICE_STATE_FAILED), "failed");
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"config_defaults", test_config_defaults},
        {"config_port_range", test_config_port_range},
        {"config_lists", test_config_lists},
        {"config_stun_nat", test_config_stun_nat},
        {"config_address_wanted", test_config_address_wanted},
        {"config_prepare", test_config_prepare},
        {"candidate_parse", test_candidate_parse},
        {"candidate_reject", test_candidate_reject},
        {"candidate_format", test_candidate_format},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
