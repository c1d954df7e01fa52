/* This file implements `verbatim mjr2pcap IN.mjr OUT.pcap` and `verbatim pcap2mjr -c CODEC
 * [-s SSRC] [-w] IN.pcap OUT.mjr`, command-line compatible with Janus's tools of the same
 * names (which take the same options), over mjr_pcap_export() and mjr_pcap_import().
 *
 * Exit codes: 0 done, 1 the conversion failed (with a sentence saying why), 2 bad usage. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "mjr/mjr.h"

static void usage_mjr2pcap(FILE *fp)
{
    fprintf(fp, "usage: verbatim mjr2pcap IN.mjr OUT.pcap\n"
                "  writes the RTP frames of an audio or video recording as a pcap capture\n"
                "  (fake Ethernet/IPv4/UDP 10.1.1.1:1000 -> 10.2.2.2:2000, times from the\n"
                "  recording), as Janus's mjr2pcap does\n");
}

static void usage_pcap2mjr(FILE *fp)
{
    fprintf(fp, "usage: verbatim pcap2mjr -c CODEC [-s SSRC] [-w] IN.pcap OUT.mjr\n"
                "  -c, --codec CODEC   codec of the RTP stream: vp8 vp9 h264 av1 h265 (video),\n"
                "                      opus multiopus pcmu pcma g711 g722 l16 l16-48 (audio)\n"
                "  -s, --ssrc SSRC     SSRC to keep (decimal or 0x hex); 0 or absent: the first\n"
                "                      RTP SSRC in the capture\n"
                "  -w, --warnings      say why each skipped record was skipped\n"
                "  reads pcap or pcapng (Ethernet, Linux SLL/SLL2, raw IP; IPv4/IPv6; UDP)\n");
}

static bool is_help(const char *a)
{
    return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

int cli_mjr2pcap(int argc, char **argv, const struct vb_log *log)
{
    (void)log;
    const char *paths[2] = {NULL, NULL};
    int n = 0;
    bool opts_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!opts_done && is_help(a)) {
            usage_mjr2pcap(stdout);
            return 0;
        }
        if (!opts_done && strcmp(a, "--") == 0) {
            opts_done = true;
            continue;
        }
        if (!opts_done && a[0] == '-' && a[1]) {
            fprintf(stderr, "verbatim mjr2pcap: unknown option '%s'\n", a);
            usage_mjr2pcap(stderr);
            return 2;
        }
        if (n == 2) {
            fprintf(stderr, "verbatim mjr2pcap: too many arguments\n");
            usage_mjr2pcap(stderr);
            return 2;
        }
        paths[n++] = a;
    }
    if (n != 2) {
        usage_mjr2pcap(stderr);
        return 2;
    }
    char err[512];
    int rc = mjr_pcap_export(paths[0], paths[1], err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "verbatim mjr2pcap: %s\n", err[0] ? err : strerror(-rc));
        return 1;
    }
    if (err[0])
        fprintf(stderr, "verbatim mjr2pcap: warning: %s\n", err);
    return 0;
}

/* Parses an SSRC: decimal or 0x hex up to 2^32-1, or a negative 32-bit integer (what
 * Janus's tool, which reads the option as a signed int, needs for SSRCs over 2^31). */
static int parse_ssrc(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    if (s[0] == '-') {
        long long v = strtoll(s, &end, 10);
        if (errno || *end || end == s || v < INT32_MIN)
            return -EINVAL;
        *out = (uint32_t)(int32_t)v;
        return 0;
    }
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || end == s || v > UINT32_MAX)
        return -EINVAL;
    *out = (uint32_t)v;
    return 0;
}

/* Matches `a` against a short/long option taking a value ("-c X", "-cX", "--codec X",
 * "--codec=X"). Returns 1 with *val set (and *i advanced past a separate value), 0 when `a`
 * is not this option, -1 when the value is missing. */
static int option_value(int argc, char **argv, int *i, const char *shrt, const char *lng,
                        const char **val)
{
    const char *a = argv[*i];
    size_t ls = strlen(shrt), ll = strlen(lng);
    const char *rest = NULL;
    if (strncmp(a, lng, ll) == 0 && (a[ll] == '\0' || a[ll] == '='))
        rest = a[ll] == '=' ? a + ll + 1 : NULL;
    else if (strncmp(a, shrt, ls) == 0)
        rest = a[ls] ? a + ls : NULL;
    else
        return 0;
    if (rest) {
        *val = rest;
        return 1;
    }
    if (*i + 1 >= argc)
        return -1;
    *val = argv[++*i];
    return 1;
}

struct p2m_args {
    const char *codec;
    const char *ssrc;
    bool warnings;
    const char *paths[2];
    int n;
};

/* Returns 0, 1 for --help, or 2 on a usage error (message printed). */
static int parse_p2m(int argc, char **argv, struct p2m_args *a)
{
    bool opts_done = false;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!opts_done && s[0] == '-' && s[1]) {
            int r;
            if (is_help(s))
                return 1;
            if (strcmp(s, "--") == 0) {
                opts_done = true;
            } else if (strcmp(s, "-w") == 0 || strcmp(s, "--warnings") == 0) {
                a->warnings = true;
            } else if ((r = option_value(argc, argv, &i, "-c", "--codec", &a->codec)) != 0 ||
                       (r = option_value(argc, argv, &i, "-s", "--ssrc", &a->ssrc)) != 0) {
                if (r < 0) {
                    fprintf(stderr, "verbatim pcap2mjr: option '%s' needs a value\n", s);
                    return 2;
                }
            } else {
                fprintf(stderr, "verbatim pcap2mjr: unknown option '%s'\n", s);
                return 2;
            }
            continue;
        }
        if (a->n == 2) {
            fprintf(stderr, "verbatim pcap2mjr: too many arguments\n");
            return 2;
        }
        a->paths[a->n++] = s;
    }
    if (!a->codec) {
        fprintf(stderr, "verbatim pcap2mjr: the codec (-c) is required\n");
        return 2;
    }
    if (a->n != 2) {
        fprintf(stderr, "verbatim pcap2mjr: an input capture and an output file are needed\n");
        return 2;
    }
    return 0;
}

int cli_pcap2mjr(int argc, char **argv, const struct vb_log *log)
{
    struct p2m_args a = {0};
    int prc = parse_p2m(argc, argv, &a);
    if (prc == 1) {
        usage_pcap2mjr(stdout);
        return 0;
    }
    uint32_t ssrc = 0;
    if (prc == 0 && a.ssrc && parse_ssrc(a.ssrc, &ssrc) < 0) {
        fprintf(stderr, "verbatim pcap2mjr: bad SSRC '%s'\n", a.ssrc);
        prc = 2;
    }
    if (prc != 0) {
        usage_pcap2mjr(stderr);
        return 2;
    }
    struct vb_log verbose = {.level = VB_LOG_DEBUG, .fp = stderr, .prefix = "verbatim"};
    if (log)
        verbose = (struct vb_log){VB_LOG_DEBUG, log->fp, log->prefix};
    struct mjr_pcap_import_opts opts = {
        .codec = a.codec, .ssrc = ssrc, .log = a.warnings ? &verbose : log};
    char err[512];
    int rc = mjr_pcap_import(a.paths[0], a.paths[1], &opts, err, sizeof(err));
    if (rc == -EINVAL) {
        fprintf(stderr, "verbatim pcap2mjr: %s\n", err);
        usage_pcap2mjr(stderr);
        return 2;
    }
    if (rc < 0) {
        fprintf(stderr, "verbatim pcap2mjr: %s\n", err[0] ? err : strerror(-rc));
        return 1;
    }
    return 0;
}
