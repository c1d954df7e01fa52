/* fuzz_config: arbitrary bytes as a config file's JSON through the table-driven loader
 * (common/config.h), on a schema with every type and check; flag values through the same
 * setters. Whatever is accepted must dump and load back; nothing may crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/config.h"

struct fz {
    bool b;
    int64_t i;
    char *s, *addr, *path, *level;
    char **list;
    json_t *arr, *obj;
};

static const char *const levels[] = {"error", "warn", "info", NULL};

#define OFF(f) offsetof(struct fz, f)
static const struct vb_config_setting settings[] = {
    {.key = "a.b", .type = VB_CONFIG_BOOL, .offset = OFF(b), .flag = "--b", .flag_sets = true},
    {.key = "a.i",
     .type = VB_CONFIG_INT,
     .offset = OFF(i),
     .flag = "--i",
     .arg = "N",
     .def_int = 5,
     .min = 0,
     .max = 65535},
    {.key = "a.s",
     .type = VB_CONFIG_STRING,
     .offset = OFF(s),
     .flag = "--s",
     .arg = "S",
     .opts = VB_CONFIG_NONEMPTY | VB_CONFIG_SECRET,
     .def_str = "x",
     .max = 64},
    {.key = "b.addr",
     .type = VB_CONFIG_STRING,
     .offset = OFF(addr),
     .flag = "--addr",
     .arg = "A",
     .opts = VB_CONFIG_ADDRESS,
     .def_str = "127.0.0.1"},
    {.key = "b.path",
     .type = VB_CONFIG_STRING,
     .offset = OFF(path),
     .flag = "--path",
     .arg = "P",
     .opts = VB_CONFIG_URLPATH,
     .def_str = "/janus"},
    {.key = "b.level",
     .type = VB_CONFIG_STRING,
     .offset = OFF(level),
     .flag = "--level",
     .arg = "L",
     .choices = levels,
     .def_str = "info"},
    {.key = "c.d.list",
     .type = VB_CONFIG_STRLIST,
     .offset = OFF(list),
     .flag = "--list",
     .arg = "L"},
    {.key = "c.arr", .type = VB_CONFIG_ARRAY, .offset = OFF(arr), .opts = VB_CONFIG_OBJECTS},
    {.key = "c.obj", .type = VB_CONFIG_OBJECT, .offset = OFF(obj)},
};
static const struct vb_config_schema schema = {
    .program = "fuzz", .settings = settings, .n_settings = sizeof settings / sizeof settings[0]};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    struct fz obj;
    memset(&obj, 0, sizeof obj);
    vb_config_defaults(&schema, &obj);
    json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (root && vb_config_apply_json(&schema, &obj, root, "fuzz", err, sizeof err) == 0) {
        /* Accepted: the effective settings dump, and the dump is accepted again. */
        json_t *dump = vb_config_dump(&schema, &obj, true);
        struct fz again;
        memset(&again, 0, sizeof again);
        vb_config_defaults(&schema, &again);
        if (!dump || vb_config_apply_json(&schema, &again, dump, "dump", err, sizeof err) != 0)
            abort();
        if (again.b != obj.b || again.i != obj.i || strcmp(again.s, obj.s) != 0)
            abort();
        json_decref(dump);
        vb_config_free(&schema, &again);
    }
    json_decref(root);
    /* The same bytes as the value of each flag that takes one. */
    char *text = malloc(size + 1);
    if (text) {
        memcpy(text, data, size);
        text[size] = '\0';
        for (size_t k = 0; k < schema.n_settings; k++)
            if (settings[k].flag && settings[k].type != VB_CONFIG_BOOL)
                vb_config_apply_flag(&schema, &obj, settings[k].flag, text, err, sizeof err);
        free(text);
    }
    vb_config_free(&schema, &obj);
    return 0;
}
