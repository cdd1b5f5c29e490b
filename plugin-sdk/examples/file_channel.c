/*
** file_channel.c: a complete Herald channel plugin in plain C.
**
** It appends one JSON line per delivery to a file:
**   {"delivery_id":"...","attempt":1,"line":"<rendered line>","event":{...}}
** and shows that a third party needs nothing but herald_plugin.h: the
** config and the rendered template arrive as name/value fields, so no JSON
** parser is needed.
**
**   cc -shared -fPIC -O2 -I plugin-sdk/include \
**      -o plugins/libfile_channel.so plugin-sdk/examples/file_channel.c
**
** Endpoint config: {"path": "/var/log/herald/alerts.jsonl",
**                   "line": "{{ level }} {{ name }} on {{ object_id }}"}
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald_plugin.h"

typedef struct file_instance {
    const herald_host_api *host;
    FILE *file;
} file_instance;

/* The value of the field `name`, or NULL; its length in *length. */
static const char *field(const herald_field *fields, size_t count, const char *name, size_t *length) {
    size_t name_length = strlen(name);
    for (size_t i = 0; i < count; i++) {
        if (fields[i].name_length == name_length && memcmp(fields[i].name, name, name_length) == 0) {
            *length = fields[i].value_length;
            return fields[i].value;
        }
    }
    return NULL;
}

/* The config's "path" as a C string in out, or -1 (with the reason in error). */
static int config_path(const herald_config *config, char *out, size_t cap, char *error, size_t error_cap) {
    size_t length = 0;
    const char *path = field(config->fields, config->field_count, "path", &length);
    if (!path || length == 0) {
        snprintf(error, error_cap, "path: required, the file to append to");
        return -1;
    }
    if (length >= cap || memchr(path, '\0', length)) {
        snprintf(error, error_cap, "path: not a usable file name");
        return -1;
    }
    memcpy(out, path, length);
    out[length] = '\0';
    return 0;
}

static int32_t validate_config(const herald_config *config, char *error, size_t cap) {
    char path[4096];
    return config_path(config, path, sizeof path, error, cap) == 0 ? 0 : 1;
}

static int32_t open_instance(const herald_config *config, const herald_host_api *host, void **instance, char *error,
                             size_t cap) {
    char path[4096];
    if (config_path(config, path, sizeof path, error, cap) != 0) return 1;
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
    self->host = host;
    self->file = file;
    *instance = self;
    return 0;
}

/* Writes text as a JSON string literal. */
static void write_json_string(FILE *file, const char *text, size_t length) {
    fputc('"', file);
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '"' || c == '\\') fprintf(file, "\\%c", c);
        else if (c < 0x20) fprintf(file, "\\u%04x", c);
        else fputc(c, file);
    }
    fputc('"', file);
}

/* The host calls submit of one instance from one thread at a time (the
** threading rule), so the FILE needs no lock of its own. */
static int32_t submit(void *instance, const herald_message *m) {
    file_instance *self = instance;
    size_t line_length = 0;
    const char *line = field(m->rendered_fields, m->rendered_field_count, "line", &line_length);
    fprintf(self->file, "{\"delivery_id\":\"%s\",\"attempt\":%u,\"line\":", m->delivery_id, m->attempt);
    write_json_string(self->file, line ? line : "", line ? line_length : 0);
    fputs(",\"event\":", self->file);
    fwrite(m->event_json, 1, m->event_json_length, self->file);
    fputs("}\n", self->file);
    if (fflush(self->file) != 0) {
        const char *reason = "write failed";
        self->host->complete(m->completion_context, m->token, HERALD_RETRY, 0, 0, reason, strlen(reason));
    } else {
        self->host->complete(m->completion_context, m->token, HERALD_OK, 0, 0, NULL, 0);
    }
    return 0;
}

static void close_instance(void *instance) {
    file_instance *self = instance;
    fclose(self->file);
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
const herald_plugin_descriptor *herald_plugin_entry(uint32_t host_abi_version, const herald_host_api *host,
                                                    char *error, size_t cap) {
    if (HERALD_ABI_MAJOR_OF(host_abi_version) != HERALD_ABI_MAJOR) {
        snprintf(error, cap, "built for Herald plugin ABI %d, the host speaks %u", HERALD_ABI_MAJOR,
                 HERALD_ABI_MAJOR_OF(host_abi_version));
        return NULL;
    }
    /* This plugin uses only what ABI 1.0 has: a table at least that big will do. */
    if (!host || host->struct_size < offsetof(herald_host_api, now_ms) + sizeof host->now_ms) {
        snprintf(error, cap, "the host's table is smaller than ABI 1.0's");
        return NULL;
    }
    return &descriptor;
}
