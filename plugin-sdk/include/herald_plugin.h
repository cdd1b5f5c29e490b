/*
** herald_plugin.h: the whole contract between the Herald host and a channel
** plugin.
**
** A channel plugin is a shared library (.so) that exports one symbol,
** `herald_plugin_entry`. The host loads every library in its plugins folder
** with dlopen, calls that symbol once, and from then on drives the channel
** only through the function pointers of the descriptor it returns. A plugin
** links no host symbol: everything it needs from the host (logging, clock,
** completion) arrives as the table of function pointers `herald_host_api`.
**
** The host ignores SIGPIPE: a plugin may write to a socket the peer has
** closed (OpenSSL does) and gets EPIPE instead of the process dying.
**
** Include this file from a plugin written in C (or in anything that can
** export a C symbol). Swift plugins use the HeraldPluginKit module, which
** wraps it. Nothing else is needed: see plugin-sdk/examples/file_channel.c.
**
** WARNING: every struct below starts with `abi_version` and `struct_size`,
** and later minor versions only ever append fields at the end. Inserting,
** removing or reordering a field changes the offsets an already-built plugin
** reads, so the host would read garbage instead of refusing it: that is a
** new major version, never a minor one.
*/
#ifndef HERALD_PLUGIN_H
#define HERALD_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI version: major in the high 16 bits, minor in the low 16 bits.
** The host refuses a plugin built for another major. A plugin built for an
** older minor loads in a newer host; the host checks `struct_size` before
** reading a field added by a later minor. */
#define HERALD_ABI_MAJOR 1
#define HERALD_ABI_MINOR 0
#define HERALD_ABI_VERSION ((uint32_t)((HERALD_ABI_MAJOR << 16) | HERALD_ABI_MINOR))
#define HERALD_ABI_MAJOR_OF(v) ((uint32_t)(v) >> 16)

/* The name of the one symbol every plugin exports. */
#define HERALD_PLUGIN_ENTRY_SYMBOL "herald_plugin_entry"

/* Room the host gives every `char *error` out-parameter, NUL included. */
#define HERALD_ERROR_CAPACITY 512

/* The outcome of one delivery attempt, reported through `complete`. */
typedef enum herald_outcome {
    /* Delivered; the receiver accepted it. */
    HERALD_OK = 0,
    /* Transient failure (timeout, connection refused, 5xx, 429, a broker
    ** not available...). The host tries again later, after `retry_after_ms`
    ** when the plugin gives one, else after its own exponential backoff. */
    HERALD_RETRY = 1,
    /* Permanent failure (the receiver refused this message for good: 4xx,
    ** an unknown topic...). The host does not retry; the delivery goes to
    ** the dead-letter state with the reason. */
    HERALD_FAIL = 2
} herald_outcome;

typedef enum herald_log_level {
    HERALD_LOG_DEBUG = 0,
    HERALD_LOG_INFO = 1,
    HERALD_LOG_WARNING = 2,
    HERALD_LOG_ERROR = 3
} herald_log_level;

/* Services the host offers. The table and every function in it stay valid
** from the entry call until the process exits; a plugin may keep the
** pointer. Every function may be called from any thread, at any time,
** concurrently, and none of them blocks for long. */
typedef struct herald_host_api {
    uint32_t abi_version;
    uint32_t struct_size;

    /* Writes one log line, tagged with the plugin's channel. `host` is the
    ** table the plugin was given (each plugin gets its own, which is how the
    ** host knows who speaks). `message` is UTF-8 of `length` bytes, need not
    ** be NUL-terminated, and is copied before the call returns. Never pass a
    ** secret. */
    void (*log)(const struct herald_host_api *host, herald_log_level level, const char *message,
                size_t length);

    /* Reports the outcome of the submission identified by `token` (see
    ** `submit`). THE EXACTLY-ONCE RULE: call it exactly once per accepted
    ** submission, from any thread, after or even before `submit` returns.
    ** A second call for the same token is ignored and logged as a plugin
    ** bug. A submission never completed is given up by the host when its
    ** timeout passes and recorded as RETRY; a later completion for it is
    ** ignored.
    **   outcome:        HERALD_OK, HERALD_RETRY or HERALD_FAIL.
    **   retry_after_ms: for HERALD_RETRY, how long the receiver asked us to
    **                   wait (an HTTP Retry-After, say), 0 for "host decides".
    **                   Ignored for other outcomes.
    **   reason:         UTF-8 of `reason_length` bytes saying what happened
    **                   ("HTTP 503: upstream down"); may be NULL when
    **                   `reason_length` is 0. Copied before the call returns.
    **                   Never include a secret. */
    void (*complete)(uint64_t token, herald_outcome outcome, uint64_t retry_after_ms,
                     const char *reason, size_t reason_length);

    /* Milliseconds since the Unix epoch, from the host's clock (tests run
    ** the host on a fake one). */
    uint64_t (*now_ms)(void);
} herald_host_api;

/* One message to deliver. The host owns it and everything it points to; it
** is valid only until `submit` returns. Copy whatever you need later. */
typedef struct herald_message {
    uint32_t abi_version;
    uint32_t struct_size;

    /* Identifies this submission; pass it back to `complete`. */
    uint64_t token;
    /* Stable id of the delivery: the same on every attempt and across host
    ** restarts, so a receiver can deduplicate what a crash repeats. NUL-
    ** terminated ASCII. */
    const char *delivery_id;
    /* 1 for the first attempt, 2 for the first retry, ... */
    uint32_t attempt;
    /* How long the host waits for `complete` before it gives the attempt up
    ** as RETRY. A plugin should bound its own I/O by it. */
    uint32_t timeout_ms;

    /* The event being pushed, as a UTF-8 JSON object (see the SDK README for
    ** its fields: id, name, level, status, object, labels, annotations,
    ** policy, endpoint, times...). Not NUL-terminated. */
    const char *event_json;
    size_t event_json_length;

    /* The endpoint's template fields (those marked "x-herald-template" in
    ** the config schema) rendered by the host for this event, as a UTF-8
    ** JSON object of strings, for example {"url":"http://...","body":"..."}.
    ** Not NUL-terminated. */
    const char *rendered_json;
    size_t rendered_json_length;
} herald_message;

/* What a plugin is and how to drive it. Returned by the entry function; it
** must stay valid and unchanged until the process exits (a static struct is
** the usual way). */
typedef struct herald_plugin_descriptor {
    uint32_t abi_version; /* HERALD_ABI_VERSION the plugin was built with */
    uint32_t struct_size; /* sizeof(herald_plugin_descriptor) */

    /* NUL-terminated UTF-8. `channel` is the name endpoints use in their
    ** `channel:` field: lower case letters, digits, '-' and '_', and unique
    ** among loaded plugins. */
    const char *channel;
    const char *version;
    const char *description;

    /* JSON Schema (draft 2020-12 subset: type, properties, required,
    ** additionalProperties, enum, minimum, maximum, minLength, maxLength,
    ** pattern, items, minItems, default, description) of an endpoint's
    ** channel config, an object. A string property with
    ** "x-herald-template": true is a template the host renders per message;
    ** one with "x-herald-secret": true is never logged or shown by the host.
    ** The host checks every endpoint config against it at load. */
    const char *config_schema_json;

    /* A JSON object giving the default text of template fields the endpoint
    ** leaves out, for example {"body":"{{ event_json }}"}; "{}" for none. */
    const char *default_templates_json;

    /* Checks what the schema cannot say (a URL parses, an address is valid,
    ** a file is readable). Called by the host on its own thread, at config
    ** load and by `herald plugins check`; may block briefly. `config_json`
    ** is the endpoint's channel config (NUL-terminated UTF-8 JSON object,
    ** valid for this call only). Returns 0 when valid; otherwise writes a
    ** NUL-terminated message into `error` (capacity `error_capacity`) and
    ** returns non-zero. Start the message with the dotted path of the field
    ** and a colon ("headers.X-Token: not a valid header name"): the host
    ** then points the operator at that line of the config file. */
    int (*validate_config)(const char *config_json, char *error, size_t error_capacity);

    /* Opens one instance for one endpoint (connections, threads, buffers).
    ** Called once per endpoint at start-up, on a host thread that may block.
    ** `config_json` is as for `validate_config`. On success stores the
    ** instance in `*instance` and returns 0; otherwise writes the reason into
    ** `error` and returns non-zero, and the endpoint stays disabled. */
    int (*open)(const char *config_json, void **instance, char *error, size_t error_capacity);

    /* Starts one delivery. THE THREADING RULE: the host may call `submit`
    ** from several threads at once, on the same or different instances, so
    ** an instance guards its own state; `submit` must not block on I/O: it
    ** queues the work (or does it quickly) and returns. The outcome goes
    ** through `host->complete(message->token, ...)`, exactly once.
    ** THE MEMORY RULE: `message` and all it points to belong to the host and
    ** are valid only until `submit` returns.
    ** Returns 0 when the submission was accepted (and will be completed);
    ** non-zero when it was refused on the spot, in which case the plugin
    ** must NOT call `complete` for it and the host records a RETRY. */
    int (*submit)(void *instance, const herald_message *message);

    /* Closes an instance: finishes or abandons work in flight (completing
    ** each outstanding submission, as RETRY if abandoned), joins its
    ** threads and frees it. Called once, on a host thread that may block,
    ** after the last `submit` on that instance has returned. */
    void (*close)(void *instance);
} herald_plugin_descriptor;

/* The entry point, exported as `herald_plugin_entry` with default
** visibility. Called once, right after dlopen, on a host thread.
**   host_abi_version: the HERALD_ABI_VERSION the host was built with. A
**                     plugin may refuse a host whose major differs.
**   host:             the host's services; valid until process exit.
**   error:            on refusal, a NUL-terminated reason to write here,
**                     at most `error_capacity` bytes with the NUL.
** Returns the plugin's descriptor, or NULL to refuse loading. */
typedef const herald_plugin_descriptor *(*herald_plugin_entry_fn)(
    uint32_t host_abi_version, const herald_host_api *host, char *error, size_t error_capacity);

#ifdef __cplusplus
}
#endif

#endif /* HERALD_PLUGIN_H */
