/* tool_gw_http: runs the gateway core with the REST transport on a free loopback port for the
 * HTTP tests. Prints the port on stdout, sweeps session timeouts every 50 ms, and exits when
 * stdin closes.
 * usage: tool_gw_http HOLD_MS SESSION_TIMEOUT_S */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "gateway/http.h"

struct echo_state {
    const struct gw_plugin_callbacks *cb;
};

static int echo_create(void *ctx, const struct gw_plugin_callbacks *cb, struct gw_handle *h,
                       void **state)
{
    (void)ctx;
    (void)h;
    struct echo_state *st = calloc(1, sizeof *st);
    if (!st)
        return -1;
    st->cb = cb;
    *state = st;
    return 0;
}

static void echo_destroy(void *ctx, struct gw_handle *h, void *state)
{
    (void)ctx;
    (void)h;
    free(state);
}

static int echo_message(void *ctx, struct gw_handle *h, void *state, const char *transaction,
                        json_t *body, json_t *jsep, json_t **result)
{
    (void)ctx;
    (void)jsep;
    struct echo_state *st = state;
    if (json_object_get(body, "async")) {
        st->cb->push_event(h, transaction, json_pack("{s:O}", "echo", body), NULL);
        return GW_PLUGIN_ASYNC;
    }
    *result = json_pack("{s:O}", "echo", body);
    return GW_PLUGIN_SYNC;
}

static const struct gw_plugin echo_plugin = {
    .name = "Echo test",
    .package = "janus.plugin.echotest",
    .author = "tests",
    .description = "Echoes message bodies",
    .version_string = "0.0.1",
    .version = 1,
    .create_session = echo_create,
    .destroy_session = echo_destroy,
    .handle_message = echo_message,
};

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: tool_gw_http HOLD_MS SESSION_TIMEOUT_S\n");
        return 2;
    }
    struct gw_plugin_reg regs[] = {{&echo_plugin, NULL}, {NULL, NULL}};
    struct gw_core_config cfg = {.plugins = regs, .session_timeout_s = atoi(argv[2])};
    struct gw_core *core;
    if (gw_core_create(&cfg, &core) < 0)
        return 1;
    struct gw_http_config hc = {.hold_ms = atoi(argv[1]), .max_body = 4096};
    struct gw_http *http;
    if (gw_http_start(core, &hc, &http) < 0) {
        gw_core_destroy(core);
        return 1;
    }
    printf("%u\n", (unsigned)gw_http_port(http));
    fflush(stdout);
    for (;;) {
        struct pollfd pfd = {.fd = 0, .events = POLLIN};
        int n = poll(&pfd, 1, 50);
        if (n > 0) {
            char b[64];
            if (read(0, b, sizeof b) <= 0)
                break;
        }
        gw_core_sweep(core);
    }
    gw_http_stop(http);
    gw_core_destroy(core);
    return 0;
}
