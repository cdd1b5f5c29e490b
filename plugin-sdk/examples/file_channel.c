/*
** file_channel.c: a complete Herald channel plugin in plain C.
**
** It appends one JSON line per delivery to a file:
**   {"delivery_id":"...","attempt":1,"line":"<rendered line>","event":{...}}
** and shows that a third party needs nothing but herald_plugin.h:
**
**   cc -shared -fPIC -O2 -I plugin-sdk/include \
**      -o plugins/libfile_channel.so plugin-sdk/examples/file_channel.c
**
** Endpoint config: {"path": "/var/log/herald/alerts.jsonl",
**                   "line": "{{ level }} {{ name }} on {{ object_id }}"}
*/
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald_plugin.h"

static const herald_host_api *host;

typedef struct file_instance {
    pthread_mutex_t lock; /* submit may run on several threads at once */
    FILE *file;
} file_instance;

/* Copies the string value of "key" from a flat JSON object into out.
** Enough for this example's config, which the host has already checked
** against the schema below; a real plugin would use a JSON library. */
static int json_string_field(const char *json, const char *key, char *out, size_t cap) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\"", key);
    const char *p = strstr(json, pattern);
    if (!p) return -1;
    p = strchr(p + strlen(pattern), ':');
    if (!p) return -1;
    p++;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    if (*p != '"') return -1;
    p++;
    size_t n = 0;
    while (*p && *p != '"' && n + 1 < cap) {
        if (*p == '\\' && p[1]) p++;
        out[n++] = *p++;
    }
    out[n] = '\0';
    return *p == '"' ? 0 : -1;
}

static int validate_config(const char *config_json, char *error, size_t cap) {
    char path[4096];
    if (json_string_field(config_json, "path", path, sizeof path) != 0 || path[0] == '\0') {
        snprintf(error, cap, "path: required, the file to append to");
        return 1;
    }
    return 0;
}

static int open_instance(const char *config_json, void **instance, char *error, size_t cap) {
    if (validate_config(config_json, error, cap) != 0) return 1;
    char path[4096];
    json_string_field(config_json, "path", path, sizeof path);
    FILE *file = fopen(path, "a");
    if (!file) {
        snprintf(error, cap, "path: cannot open %s: %s", path, strerror(errno));
        return 1;
    }
    file_instance *self = calloc(1, sizeof *self);
    if (!self) {
        fclose(file);
        snprintf(error, cap, "out of memory");
        return 1;
    }
    pthread_mutex_init(&self->lock, NULL);
    self->file = file;
    *instance = self;
    return 0;
}

/* The rendered fields arrive as {"line":"..."}; the value is already a JSON
** string literal, so it is copied through as it is. */
static void write_rendered_line(FILE *file, const herald_message *m) {
    const char *start = memchr(m->rendered_json, ':', m->rendered_json_length);
    const char *end = m->rendered_json + m->rendered_json_length;
    while (end > m->rendered_json && end[-1] != '}') end--;
    if (!start || end <= start + 1) {
        fputs("\"\"", file);
        return;
    }
    fwrite(start + 1, 1, (size_t)(end - 1 - (start + 1)), file);
}

static int submit(void *instance, const herald_message *m) {
    file_instance *self = instance;
    pthread_mutex_lock(&self->lock);
    fprintf(self->file, "{\"delivery_id\":\"%s\",\"attempt\":%u,\"line\":", m->delivery_id, m->attempt);
    write_rendered_line(self->file, m);
    fputs(",\"event\":", self->file);
    fwrite(m->event_json, 1, m->event_json_length, self->file);
    fputs("}\n", self->file);
    int failed = fflush(self->file) != 0;
    pthread_mutex_unlock(&self->lock);

    if (failed) {
        const char *reason = "write failed";
        host->complete(m->token, HERALD_RETRY, 0, reason, strlen(reason));
    } else {
        host->complete(m->token, HERALD_OK, 0, NULL, 0);
    }
    return 0;
}

static void close_instance(void *instance) {
    file_instance *self = instance;
    fclose(self->file);
    pthread_mutex_destroy(&self->lock);
    free(self);
}

static const herald_plugin_descriptor descriptor = {
    .abi_version = HERALD_ABI_VERSION,
    .struct_size = sizeof(herald_plugin_descriptor),
    .channel = "file",
    .version = "1.0.0",
    .description = "Appends one JSON line per delivery to a file.",
    .config_schema_json =
        "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"path\"],"
        "\"properties\":{"
        "\"path\":{\"type\":\"string\",\"minLength\":1,\"description\":\"File to append to.\"},"
        "\"line\":{\"type\":\"string\",\"x-herald-template\":true,"
        "\"description\":\"Text stored in each line's \\\"line\\\" field.\"}}}",
    .default_templates_json = "{\"line\":\"[{{ level }}] {{ name }} on {{ object_id }}\"}",
    .validate_config = validate_config,
    .open = open_instance,
    .submit = submit,
    .close = close_instance,
};

__attribute__((visibility("default")))
const herald_plugin_descriptor *herald_plugin_entry(uint32_t host_abi_version, const herald_host_api *host_api,
                                                    char *error, size_t cap) {
    if (HERALD_ABI_MAJOR_OF(host_abi_version) != HERALD_ABI_MAJOR) {
        snprintf(error, cap, "built for Herald ABI %d, host speaks %u", HERALD_ABI_MAJOR,
                 HERALD_ABI_MAJOR_OF(host_abi_version));
        return NULL;
    }
    host = host_api;
    return &descriptor;
}
