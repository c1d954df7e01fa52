/* This file implements `verbatim catalog`: `scan SRC [--data DIR]` indexes MJR files recorded
 * elsewhere (real Janus included) into DIR's catalog, importing them under DIR/recordings;
 * `verify [--data DIR]` re-hashes every recording and output and checks the audit chain,
 * printing one line per problem and exiting 1 if anything is wrong. Both are written to the
 * catalog's audit log. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive/scan.h"
#include "catalog/catalog.h"
#include "cli/cli.h"

static void catalog_usage(FILE *fp)
{
    fprintf(fp, "usage: verbatim catalog scan SRC [--data DIR]\n"
                "       verbatim catalog verify [--data DIR]\n"
                "DIR defaults to ./data; the catalog is DIR/catalog.db.\n");
}

/* Scans and verifications are written to the audit log, by the local user who ran them. */
static void audit_cli(struct catalog *c, const char *action, const char *what)
{
    const char *user = getenv("USER");
    char who[128];
    snprintf(who, sizeof(who), "cli:%s", user && user[0] ? user : "unknown");
    catalog_audit(c, who, action, what);
}

static void print_line(void *ud, const char *msg)
{
    fprintf(ud, "%s\n", msg);
}

/* Opens DIR/catalog.db (creating DIR for a scan). 0 or an exit code. */
static int open_catalog(const char *data_dir, bool create, const struct vb_log *log,
                        struct catalog **out)
{
    struct stat st;
    if (stat(data_dir, &st) != 0) {
        if (!create || mkdir(data_dir, 0750) != 0) {
            fprintf(stderr, "verbatim catalog: %s: %s\n", data_dir, strerror(errno));
            return 1;
        }
    }
    char db[4096], err[512];
    snprintf(db, sizeof(db), "%s/catalog.db", data_dir);
    if (!create && stat(db, &st) != 0) {
        fprintf(stderr, "verbatim catalog: no catalog at %s\n", db);
        return 1;
    }
    struct catalog_config cfg = {.db_path = db, .data_dir = data_dir, .log = log};
    if (catalog_open(&cfg, out, err, sizeof(err)) < 0) {
        fprintf(stderr, "verbatim catalog: %s\n", err);
        return 1;
    }
    return 0;
}

static int run_scan(const char *src, const char *data_dir, const struct vb_log *log)
{
    struct catalog *c;
    int rc = open_catalog(data_dir, true, log, &c);
    if (rc)
        return rc;
    struct archive_scan_report rep = {0};
    int src_rc = archive_scan(src, data_dir, c, &rep, print_line, stdout);
    char what[4200];
    snprintf(what, sizeof(what), "%s: %u indexed, %u already, %u skipped, %u errors", src,
             rep.indexed, rep.already, rep.skipped, rep.errors);
    audit_cli(c, "scan", what);
    catalog_close(c);
    if (src_rc < 0) {
        fprintf(stderr, "verbatim catalog: cannot scan %s: %s\n", src, strerror(-src_rc));
        return 1;
    }
    printf("scan: %u indexed, %u already indexed, %u skipped, %u errors\n", rep.indexed,
           rep.already, rep.skipped, rep.errors);
    return rep.errors ? 1 : 0;
}

static int run_verify(const char *data_dir, const struct vb_log *log)
{
    struct catalog *c;
    int rc = open_catalog(data_dir, false, log, &c);
    if (rc)
        return rc;
    struct catalog_verify_report rep = {0};
    rc = catalog_verify(c, &rep, print_line, stdout);
    char what[256];
    snprintf(what, sizeof(what),
             "%llu files checked, %llu missing, %llu mismatched, audit chain %s",
             (unsigned long long)rep.files_checked, (unsigned long long)rep.missing,
             (unsigned long long)rep.mismatched, rep.audit_broken_at ? "broken" : "intact");
    audit_cli(c, "verify", what);
    catalog_close(c);
    if (rc < 0) {
        fprintf(stderr, "verbatim catalog: verify failed: %s\n", strerror(-rc));
        return 1;
    }
    printf("verify: %llu files checked, %llu missing, %llu mismatched; audit log %llu rows, %s\n",
           (unsigned long long)rep.files_checked, (unsigned long long)rep.missing,
           (unsigned long long)rep.mismatched, (unsigned long long)rep.audit_rows,
           rep.audit_broken_at ? "BROKEN" : "intact");
    if (rep.audit_broken_at)
        printf("verify: the audit chain breaks at row %lld\n", (long long)rep.audit_broken_at);
    return rc == 0 ? 0 : 1;
}

int cli_catalog(int argc, char **argv, const struct vb_log *log)
{
    const char *data_dir = "data", *verb = NULL, *src = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            data_dir = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            catalog_usage(stdout);
            return 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "verbatim catalog: unknown option '%s'\n", argv[i]);
            catalog_usage(stderr);
            return 2;
        } else if (!verb) {
            verb = argv[i];
        } else if (!src) {
            src = argv[i];
        } else {
            catalog_usage(stderr);
            return 2;
        }
    }
    if (verb && strcmp(verb, "scan") == 0 && src)
        return run_scan(src, data_dir, log);
    if (verb && strcmp(verb, "verify") == 0 && !src)
        return run_verify(data_dir, log);
    catalog_usage(stderr);
    return 2;
}
