/* This file implements tool_web_serve: the catalog web server alone, on a data directory, for
 * manual runs and browser tests.
 *
 *   tool_web_serve --data DIR [--port N] [--bind ADDR] [--token T] [--threads N] [--debug]
 *
 * Opens (or creates) DIR/catalog.db, takes the token from --token or DIR/catalog-token
 * (generated when missing), starts the server and prints one line
 * "listening http://ADDR:PORT/ token-file PATH" (or "token T" with --token) on stdout, then
 * serves until SIGINT or SIGTERM. Port 0 (the default) picks a free port. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "web/web.h"

struct opts {
    const char *data, *bind, *token;
    unsigned port, threads;
    bool debug;
};

static int usage(void)
{
    fprintf(stderr, "usage: tool_web_serve --data DIR [--port N] [--bind ADDR] [--token T] "
                    "[--threads N] [--debug]\n");
    return 2;
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > max)
        return -EINVAL;
    *out = (unsigned)v;
    return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (strcmp(a, "--debug") == 0)
            o->debug = true;
        else if (strcmp(a, "--data") == 0 && has)
            o->data = argv[++i];
        else if (strcmp(a, "--bind") == 0 && has)
            o->bind = argv[++i];
        else if (strcmp(a, "--token") == 0 && has)
            o->token = argv[++i];
        else if (strcmp(a, "--port") == 0 && has) {
            if (parse_uint(argv[++i], 65535, &o->port))
                return -EINVAL;
        } else if (strcmp(a, "--threads") == 0 && has) {
            if (parse_uint(argv[++i], 256, &o->threads))
                return -EINVAL;
        } else
            return -EINVAL;
    }
    return o->data ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
    struct opts o = {0};
    if (parse_args(argc, argv, &o))
        return usage();
    /* Signals are taken with sigwait(); every thread started from here inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct vb_log log = {.level = o.debug ? VB_LOG_DEBUG : VB_LOG_INFO, .prefix = "tool_web_serve"};

    char db[4096], err[512], token[WEB_TOKEN_MAX + 1];
    snprintf(db, sizeof(db), "%s/catalog.db", o.data);
    struct catalog_config cc = {.db_path = db, .data_dir = o.data, .log = &log};
    struct catalog *cat = NULL;
    int rc = catalog_open(&cc, &cat, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "tool_web_serve: %s\n", err);
        return 1;
    }
    if (o.token) {
        snprintf(token, sizeof(token), "%s", o.token);
    } else if ((rc = web_token_load_or_create(o.data, token, sizeof(token), NULL)) != 0) {
        fprintf(stderr, "tool_web_serve: token: %s\n", strerror(-rc));
        catalog_close(cat);
        return 1;
    }
    struct web_config wc = {.bind_addr = o.bind,
                            .port = o.port,
                            .data_dir = o.data,
                            .token = token,
                            .catalog = cat,
                            .threads = o.threads,
                            .log = &log};
    struct web *w = NULL;
    rc = web_start(&wc, &w, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "tool_web_serve: %s\n", err);
        catalog_close(cat);
        return 1;
    }
    if (o.token)
        printf("listening http://%s:%u/ token %s\n", o.bind ? o.bind : WEB_DEFAULT_ADDR,
               web_port(w), token);
    else
        printf("listening http://%s:%u/ token-file %s/catalog-token\n",
               o.bind ? o.bind : WEB_DEFAULT_ADDR, web_port(w), o.data);
    fflush(stdout);
    sigdelset(&set, SIGPIPE);
    int sig = 0;
    sigwait(&set, &sig);
    web_stop(w);
    catalog_close(cat);
    fprintf(stderr, "tool_web_serve: stopped (signal %d)\n", sig);
    return 0;
}
