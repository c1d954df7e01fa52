/* This file implements the settings of `verbatim serve`: the table the generic loader of
 * common/config.h works from, and the checks between settings (two listeners on one port, a
 * token secret with tokens off).
 *
 * DESIGN: the table is the single description of a setting. The help, the --check-config dump
 * and the error messages all come from it, so docs/config.md is the only other place a setting
 * is written down (tests/cli/serve_config.sh checks that every flag appears in the help). */
#include "cli/serve_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "common/log.h"

#define OFF(field) offsetof(struct serve_config, field)
#define SECRET_MAX 4096 /* GW_AUTH_SECRET_MAX: the gateway refuses longer secrets */

static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};
static const char *const answer_setups[] = {"active", "passive", NULL};

/* clang-format off */
static const struct vb_config_setting serve_settings[] = {
    {.key = "general.data_dir", .type = VB_CONFIG_STRING, .offset = OFF(general.data_dir),
     .flag = "--data", .arg = "DIR", .opts = VB_CONFIG_NONEMPTY, .def_str = "data",
     .help = "folder of the catalog (catalog.db), the recordings, the outputs and the catalog "
             "token; created when missing"},
    {.key = "general.log_level", .type = VB_CONFIG_STRING, .offset = OFF(general.log_level),
     .flag = "--log-level", .arg = "LEVEL", .choices = log_levels, .def_str = "info",
     .help = "least important messages logged: error, warn, info or debug"},
    {.key = "general.server_name", .type = VB_CONFIG_STRING, .offset = OFF(general.server_name),
     .flag = "--server-name", .arg = "NAME", .opts = VB_CONFIG_NONEMPTY, .def_str = "Verbatim",
     .help = "name of this server in the Janus info reply"},

    {.key = "janus.address", .type = VB_CONFIG_STRING, .offset = OFF(janus.address),
     .flag = "--janus-bind", .arg = "ADDR", .opts = VB_CONFIG_ADDRESS, .def_str = "127.0.0.1",
     .help = "numeric IP address the Janus REST API listens on (0.0.0.0: every interface)"},
    {.key = "janus.port", .type = VB_CONFIG_INT, .offset = OFF(janus.port),
     .flag = "--janus-port", .arg = "PORT", .def_int = 8088, .min = 0, .max = 65535,
     .help = "TCP port of the Janus REST API; 0 = any free port"},
    {.key = "janus.base_path", .type = VB_CONFIG_STRING, .offset = OFF(janus.base_path),
     .flag = "--janus-base", .arg = "PATH", .opts = VB_CONFIG_URLPATH, .def_str = "/janus",
     .help = "URL path of the Janus REST API"},
    {.key = "janus.long_poll_ms", .type = VB_CONFIG_INT, .offset = OFF(janus.long_poll_ms),
     .flag = "--long-poll-ms", .arg = "MS", .def_int = 30000, .min = 10, .max = 600000,
     .help = "how long a GET long poll waits for an event before answering with a keepalive"},
    {.key = "janus.allow_origin", .type = VB_CONFIG_STRING, .offset = OFF(janus.allow_origin),
     .flag = "--allow-origin", .arg = "ORIGIN", .opts = VB_CONFIG_NONEMPTY, .def_str = "*",
     .help = "Access-Control-Allow-Origin of every REST reply"},
    {.key = "janus.max_body", .type = VB_CONFIG_INT, .offset = OFF(janus.max_body),
     .flag = "--max-body", .arg = "BYTES", .def_int = 1048576, .min = 1024, .max = 67108864,
     .help = "largest request body accepted (a larger one gets HTTP 413)"},
    {.key = "janus.threads", .type = VB_CONFIG_INT, .offset = OFF(janus.threads),
     .flag = "--http-threads", .arg = "N", .def_int = 2, .min = 1, .max = 64,
     .help = "poll threads of the REST transport (each serves many connections)"},
    {.key = "janus.max_connections", .type = VB_CONFIG_INT, .offset = OFF(janus.max_connections),
     .flag = "--max-connections", .arg = "N", .def_int = 20000, .min = 1, .max = 1000000,
     .help = "most REST connections open at once (long polls included)"},

    {.key = "admin.enabled", .type = VB_CONFIG_BOOL, .offset = OFF(admin.enabled),
     .flag = "--no-admin", .flag_sets = false, .def_bool = true,
     .help = "turn the Admin API off"},
    {.key = "admin.address", .type = VB_CONFIG_STRING, .offset = OFF(admin.address),
     .flag = "--admin-bind", .arg = "ADDR", .opts = VB_CONFIG_ADDRESS, .def_str = "127.0.0.1",
     .help = "numeric IP address the Admin API listens on"},
    {.key = "admin.port", .type = VB_CONFIG_INT, .offset = OFF(admin.port),
     .flag = "--admin-port", .arg = "PORT", .def_int = 7088, .min = 0, .max = 65535,
     .help = "TCP port of the Admin API; 0 = any free port"},
    {.key = "admin.base_path", .type = VB_CONFIG_STRING, .offset = OFF(admin.base_path),
     .flag = "--admin-base", .arg = "PATH", .opts = VB_CONFIG_URLPATH, .def_str = "/admin",
     .help = "URL path of the Admin API"},
    {.key = "admin.secret", .type = VB_CONFIG_STRING, .offset = OFF(admin.secret),
     .flag = "--admin-secret", .arg = "SECRET", .opts = VB_CONFIG_SECRET, .max = SECRET_MAX,
     .help = "admin_secret every Admin API request but info/ping must carry; empty: the "
             "Admin API is not started"},

    {.key = "auth.api_secret", .type = VB_CONFIG_STRING, .offset = OFF(auth.api_secret),
     .flag = "--api-secret", .arg = "SECRET", .opts = VB_CONFIG_SECRET, .max = SECRET_MAX,
     .help = "apisecret every Janus API request must carry; empty = not required"},
    {.key = "auth.token_auth", .type = VB_CONFIG_BOOL, .offset = OFF(auth.token_auth),
     .flag = "--token-auth", .flag_sets = true, .def_bool = false,
     .help = "require a token on every Janus API request (stored through the Admin API, or "
             "signed with the token secret)"},
    {.key = "auth.token_auth_secret", .type = VB_CONFIG_STRING,
     .offset = OFF(auth.token_auth_secret), .flag = "--token-auth-secret", .arg = "SECRET",
     .opts = VB_CONFIG_SECRET, .max = SECRET_MAX,
     .help = "key of HMAC-SHA1 signed tokens (needs token_auth); empty = stored tokens"},

    {.key = "core.session_timeout", .type = VB_CONFIG_INT, .offset = OFF(core.session_timeout),
     .flag = "--session-timeout", .arg = "SECONDS", .def_int = 60, .min = 0, .max = 86400,
     .help = "a session without a request or poll for this long is destroyed; 0 = never"},
    {.key = "core.max_events", .type = VB_CONFIG_INT, .offset = OFF(core.max_events),
     .flag = "--max-events", .arg = "N", .def_int = 1000, .min = 1, .max = 1000000,
     .help = "events queued per session for its poller; the oldest are dropped beyond it"},

    {.key = "web.bind", .type = VB_CONFIG_STRING, .offset = OFF(web.bind),
     .flag = "--web-bind", .arg = "ADDR", .opts = VB_CONFIG_ADDRESS, .def_str = "127.0.0.1",
     .help = "numeric IP address of the web catalog"},
    {.key = "web.port", .type = VB_CONFIG_INT, .offset = OFF(web.port),
     .flag = "--web-port", .arg = "PORT", .def_int = 8090, .min = 0, .max = 65535,
     .help = "TCP port of the web catalog; 0 = any free port"},

    {.key = "archive.writer_threads", .type = VB_CONFIG_INT, .offset = OFF(archive.writer_threads),
     .flag = "--writer-threads", .arg = "N", .def_int = 1, .min = 1, .max = 64,
     .help = "threads of the MJR writer engine"},

    {.key = "transcode.workers", .type = VB_CONFIG_INT, .offset = OFF(transcode.workers),
     .flag = "--workers", .arg = "N", .def_int = 0, .min = 0, .max = 256,
     .help = "transcode workers; 0 = one per online CPU"},
    {.key = "transcode.auto", .type = VB_CONFIG_BOOL, .offset = OFF(transcode.auto_jobs),
     .flag = "--no-auto-transcode", .flag_sets = false, .def_bool = true,
     .help = "do not queue a conversion job when a participant's recordings are finished"},

    {.key = "videoroom.admin_key", .type = VB_CONFIG_STRING, .offset = OFF(videoroom.admin_key),
     .flag = "--videoroom-admin-key", .arg = "KEY", .opts = VB_CONFIG_SECRET, .max = SECRET_MAX,
     .help = "admin_key a VideoRoom create request must carry; empty = anyone may create rooms"},
    {.key = "videoroom.rooms_file", .type = VB_CONFIG_STRING,
     .offset = OFF(videoroom.rooms_file),
     .help = "file of the permanent VideoRoom rooms; empty = DATA/videoroom-rooms.json"},
    {.key = "videoroom.rooms", .type = VB_CONFIG_ARRAY, .offset = OFF(videoroom.rooms),
     .opts = VB_CONFIG_OBJECTS, .def_str = "[]",
     .help = "rooms created at start, each an object of VideoRoom create parameters"},
    {.key = "videoroom.lock_rtp_forward", .type = VB_CONFIG_BOOL,
     .offset = OFF(videoroom.lock_rtp_forward), .def_bool = false,
     .help = "rtp_forward and stop_rtp_forward need the admin_key (as Janus's lock_rtp_forward)"},
    {.key = "videoroom.record_all", .type = VB_CONFIG_BOOL, .offset = OFF(videoroom.record_all),
     .flag = "--record-all", .flag_sets = true, .def_bool = false,
     .help = "compliance mode: record every publisher of every room, whatever the room or the "
             "client asks"},

    {.key = "media.loops", .type = VB_CONFIG_INT, .offset = OFF(media.loops),
     .flag = "--media-loops", .arg = "N", .def_int = 0, .min = 0, .max = 256,
     .help = "media loop threads (each PeerConnection lives on one); 0 = one per online CPU"},
    {.key = "media.no_media_timer", .type = VB_CONFIG_INT, .offset = OFF(media.no_media_timer),
     .flag = "--no-media-timer", .arg = "S", .def_int = 1, .min = 1, .max = 3600,
     .help = "seconds without packets on an m-line before a `media` event says receiving:false"},
    {.key = "media.slowlink_threshold", .type = VB_CONFIG_INT,
     .offset = OFF(media.slowlink_threshold), .flag = "--slowlink-threshold", .arg = "N",
     .def_int = 4, .min = 1, .max = 100000,
     .help = "packets lost in a second (NACKed, either way) before a `slowlink` event"},
    {.key = "media.cert_pem", .type = VB_CONFIG_STRING, .offset = OFF(media.cert_pem),
     .flag = "--cert-pem", .arg = "FILE", .def_str = "",
     .help = "DTLS certificate (PEM); empty = an ECDSA P-256 certificate generated at start"},
    {.key = "media.cert_key", .type = VB_CONFIG_STRING, .offset = OFF(media.cert_key),
     .flag = "--cert-key", .arg = "FILE", .def_str = "",
     .help = "private key of --cert-pem (PEM)"},

    {.key = "media.answer_setup", .type = VB_CONFIG_STRING, .offset = OFF(media.answer_setup),
     .flag = "--answer-setup", .arg = "ROLE", .choices = answer_setups, .def_str = "active",
     .help = "our a=setup answering an actpass offer: active (DTLS client, as Janus) or passive"},

    {.key = "nat.ice_enforce_list", .type = VB_CONFIG_STRING, .offset = OFF(nat.ice_enforce_list),
     .flag = "--ice-enforce-list", .arg = "LIST", .def_str = "",
     .help = "comma list of interface names or IP prefixes ICE gathers on; empty = every "
             "interface but the ignored ones"},
    {.key = "nat.ice_ignore_list", .type = VB_CONFIG_STRING, .offset = OFF(nat.ice_ignore_list),
     .flag = "--ice-ignore-list", .arg = "LIST", .def_str = "vmnet",
     .help = "comma list of interface names or IP prefixes ICE never gathers on"},
    {.key = "nat.rtp_port_range", .type = VB_CONFIG_STRING, .offset = OFF(nat.rtp_port_range),
     .flag = "--rtp-port-range", .arg = "MIN-MAX", .def_str = "",
     .help = "UDP ports for media; empty = any port"},
    {.key = "nat.stun_server", .type = VB_CONFIG_STRING, .offset = OFF(nat.stun_server),
     .flag = "--stun-server", .arg = "HOST[:PORT]", .def_str = "",
     .help = "STUN server for a server-reflexive candidate; empty = none"},
    {.key = "nat.nat_1_1", .type = VB_CONFIG_STRING, .offset = OFF(nat.nat_1_1),
     .flag = "--nat-1-1", .arg = "IPS", .def_str = "",
     .help = "public IPs (comma list) advertised instead of our host addresses (1:1 NAT)"},
    {.key = "nat.ice_tcp", .type = VB_CONFIG_BOOL, .offset = OFF(nat.ice_tcp),
     .flag = "--ice-tcp", .flag_sets = true, .def_bool = false,
     .help = "also gather ICE-TCP candidates"},
    {.key = "nat.ipv6", .type = VB_CONFIG_BOOL, .offset = OFF(nat.ipv6),
     .flag = "--ipv6", .flag_sets = true, .def_bool = false,
     .help = "also gather on IPv6 addresses"},
};
/* clang-format on */

/* True when listeners on `a` and `b` would collide (the same address, or a wildcard covering
 * the other). Both are valid numeric addresses (the table checked them). */
static bool addresses_overlap(const char *a, const char *b)
{
    unsigned char x[16] = {0}, y[16] = {0}, zero[16] = {0};
    int fx = inet_pton(AF_INET, a, x) == 1 ? AF_INET : AF_INET6;
    int fy = inet_pton(AF_INET, b, y) == 1 ? AF_INET : AF_INET6;
    if (fx == AF_INET6)
        inet_pton(AF_INET6, a, x);
    if (fy == AF_INET6)
        inet_pton(AF_INET6, b, y);
    bool wx = memcmp(x, zero, 16) == 0, wy = memcmp(y, zero, 16) == 0;
    if (fx == fy)
        return wx || wy || memcmp(x, y, 16) == 0;
    /* Mixed families: only the IPv6 wildcard (dual-stack) takes the IPv4 one's port too. */
    return (fx == AF_INET6 && wx) || (fy == AF_INET6 && wy);
}

struct listener {
    const char *port_key;
    const char *address;
    int64_t port;
};

static int check_listeners(const struct serve_config *c, char *err, size_t errlen)
{
    const struct listener l[] = {
        {"janus.port", c->janus.address, c->janus.port},
        {"admin.port", c->admin.address, c->admin.enabled ? c->admin.port : 0},
        {"web.port", c->web.bind, c->web.port},
    };
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < i; j++) {
            if (l[i].port == 0 || l[i].port != l[j].port ||
                !addresses_overlap(l[i].address, l[j].address))
                continue;
            snprintf(err, errlen, "%s: port %lld is also %s (%s and %s overlap)", l[i].port_key,
                     (long long)l[i].port, l[j].port_key, l[i].address, l[j].address);
            return -EINVAL;
        }
    return 0;
}

static int serve_config_validate(const void *obj, char *err, size_t errlen)
{
    const struct serve_config *c = obj;
    if (c->auth.token_auth_secret[0] && !c->auth.token_auth) {
        snprintf(err, errlen,
                 "auth.token_auth_secret: set while auth.token_auth is false (turn "
                 "token_auth on, or remove the secret)");
        return -EINVAL;
    }
    return check_listeners(c, err, errlen);
}

static const struct vb_config_schema serve_schema = {
    .program = "verbatim serve",
    .summary = "Runs the server: the Janus REST and Admin APIs, the recorder, the web catalog\n"
               "and the transcode workers. Settings come from the built-in defaults, then the\n"
               "--config file, then the options below (every setting: docs/config.md).",
    .settings = serve_settings,
    .n_settings = sizeof(serve_settings) / sizeof(serve_settings[0]),
    .validate = serve_config_validate,
};

const struct vb_config_schema *serve_config_schema(void)
{
    return &serve_schema;
}

int serve_config_load(int argc, char **argv, struct serve_config *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    return vb_config_load(&serve_schema, argc, argv, out, stdout, err, errlen);
}

void serve_config_free(struct serve_config *c)
{
    if (c)
        vb_config_free(&serve_schema, c);
}

void serve_config_print_help(FILE *fp)
{
    vb_config_print_help(&serve_schema, fp);
}

int serve_config_log_level(const struct serve_config *c)
{
    for (int i = 0; log_levels[i]; i++)
        if (c->general.log_level && strcmp(c->general.log_level, log_levels[i]) == 0)
            return VB_LOG_ERROR + i;
    return VB_LOG_INFO;
}

int serve_config_rooms_file(const struct serve_config *c, char *buf, size_t len)
{
    int n;
    if (c->videoroom.rooms_file && c->videoroom.rooms_file[0])
        n = snprintf(buf, len, "%s", c->videoroom.rooms_file);
    else
        n = snprintf(buf, len, "%s/videoroom-rooms.json", c->general.data_dir);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
