/* common/config.h — a small table-driven settings loader: one JSON file, then command-line flags.
 *
 * A program describes its settings once, in a const table of `struct vb_config_setting`: the
 * key path in the file ("janus.port" is the member "port" of the object "janus"), the type and
 * its limits, the default, the flag that overrides it ("--janus-port"), a line of help, and
 * where the value lives in the program's own settings struct (offsetof). From that one table
 * the loader fills the struct with the defaults, reads a JSON file (unknown keys and wrong types
 * are errors that name the key), applies the flags, prints the help and dumps the effective
 * settings as JSON.
 *
 * Storage by type (the field at `offset` in the caller's struct):
 *   VB_CONFIG_BOOL     bool
 *   VB_CONFIG_INT      int64_t, always within [min, max]
 *   VB_CONFIG_STRING   char *, owned by the struct (never NULL after vb_config_defaults)
 *   VB_CONFIG_STRLIST  char **, owned, NULL-terminated (never NULL after vb_config_defaults)
 *   VB_CONFIG_ARRAY    json_t *, an owned reference to a JSON array
 *   VB_CONFIG_OBJECT   json_t *, an owned reference to a JSON object
 * vb_config_free releases what the struct owns. Everything here is reentrant: no state outside
 * the caller's struct; one thread at a time per struct. */
#ifndef VB_COMMON_CONFIG_H
#define VB_COMMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

enum vb_config_type {
    VB_CONFIG_BOOL,
    VB_CONFIG_INT,
    VB_CONFIG_STRING,
    VB_CONFIG_STRLIST,
    VB_CONFIG_ARRAY,
    VB_CONFIG_OBJECT,
};

/* Extra checks (bits of vb_config_setting.opts). */
#define VB_CONFIG_NONEMPTY 0x01u /* string: "" is refused */
#define VB_CONFIG_SECRET 0x02u   /* string: dumped as "(hidden)" unless empty or asked */
#define VB_CONFIG_ADDRESS 0x04u  /* string: a numeric IPv4 or IPv6 address */
#define VB_CONFIG_URLPATH 0x08u  /* string: starts with '/', no blanks, '?' or '#' */
#define VB_CONFIG_OBJECTS 0x10u  /* array: every element is a JSON object */

/* What a dumped secret reads as. */
#define VB_CONFIG_HIDDEN "(hidden)"

/* What vb_config_load returns when it printed the help or the checked settings: the program
 * should exit now with status 0. */
#define VB_CONFIG_EXIT 1

struct vb_config_setting {
    const char *key; /* "section.name"; sections nest with more dots */
    enum vb_config_type type;
    size_t offset;    /* of the field in the caller's struct (see the storage table above) */
    const char *flag; /* "--janus-port"; NULL = settable in the file only */
    const char *arg;  /* the flag's value in the help ("PORT"); unused for bools */
    const char *help; /* one sentence or two; the help adds the key and the default */
    unsigned opts;    /* VB_CONFIG_NONEMPTY | ... */
    bool flag_sets;   /* bool: the value its flag sets (false for "--no-admin") */
    bool def_bool;
    /* INT: the default and the range. STRING: `max` > 0 is the longest length accepted, in
     * bytes (0 = no limit). */
    int64_t def_int, min, max;
    /* String: the default (NULL = ""). STRLIST, ARRAY, OBJECT: the default as JSON text
     * (NULL = empty). */
    const char *def_str;
    const char *const *choices; /* string: the allowed values, NULL-terminated; NULL = any */
};

struct vb_config_schema {
    const char *program; /* for the usage line: "verbatim serve" */
    const char *summary; /* one line under it; may be NULL */
    const struct vb_config_setting *settings;
    size_t n_settings;
    /* Checks between settings after everything is applied; 0, or -EINVAL with `err` filled
     * (naming the keys). May be NULL. */
    int (*validate)(const void *obj, char *err, size_t errlen);
};

/* Sets every setting of `obj` to its default. `obj` must own nothing yet (zeroed, or after
 * vb_config_free). Aborts if a default in the table is malformed (a programming error). */
void vb_config_defaults(const struct vb_config_schema *s, void *obj);

/* Applies the settings present in `root` (borrowed), a JSON object laid out as the key paths
 * say, over what `obj` holds. Every member must be a known key or section: anything else is an
 * error. 0, or -EINVAL with `err` = "ORIGIN: KEY: what was wrong" (`obj` may then be partly
 * updated; it stays valid to free). */
int vb_config_apply_json(const struct vb_config_schema *s, void *obj, const json_t *root,
                         const char *origin, char *err, size_t errlen);

/* Reads the JSON file `path` and applies it (as above, ORIGIN = "config PATH"). Errors: the
 * file cannot be read, invalid JSON (line and column given), duplicate keys, a top level that
 * is not an object, or any setting error. 0 or -EINVAL (-ENOENT when the file does not exist). */
int vb_config_load_file(const struct vb_config_schema *s, void *obj, const char *path, char *err,
                        size_t errlen);

/* Applies one flag: `name` as in the table ("--janus-port"), `value` its text (NULL for a
 * bool flag, which sets flag_sets). 0, -ENOENT (no such flag) or -EINVAL; `err` filled. */
int vb_config_apply_flag(const struct vb_config_schema *s, void *obj, const char *name,
                         const char *value, char *err, size_t errlen);

/* The whole command line: argv[0] is the program or subcommand name and is skipped. Accepts
 * "--config FILE", "--check-config", "--help" (or -h) and every flag of the table, each as
 * "--flag VALUE" or "--flag=VALUE" (bool flags take no value; a repeated flag: the last wins).
 * Fills `obj` (which must own nothing yet) with the defaults, then the file, then the flags,
 * then runs the schema's validate.
 * Returns 0 (`obj` filled; the caller frees it), -EINVAL (`err` filled, `obj` freed) or
 * VB_CONFIG_EXIT after printing the help or, for --check-config, the effective settings as
 * JSON to `out` (`obj` freed). */
int vb_config_load(const struct vb_config_schema *s, int argc, char **argv, void *obj, FILE *out,
                   char *err, size_t errlen);

/* Prints the usage: the common options, every flag with its key and default, then the
 * settings that have no flag. */
void vb_config_print_help(const struct vb_config_schema *s, FILE *fp);

/* The effective settings as one JSON object nested by key path (a new reference).
 * Secrets read VB_CONFIG_HIDDEN unless `show_secrets`. */
json_t *vb_config_dump(const struct vb_config_schema *s, const void *obj, bool show_secrets);

/* Releases what `obj` owns and zeroes those fields; calling it twice is harmless. */
void vb_config_free(const struct vb_config_schema *s, void *obj);

#endif
