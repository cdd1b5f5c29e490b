/*
** herald_plugin.h: the whole contract between the Herald host and a channel
** plugin, ABI 1.0.
**
** A channel plugin is a shared library (.so) that exports one symbol,
** `herald_plugin_entry`. The host loads every library in its plugins folder
** with dlopen, calls that symbol once, and from then on drives the channel
** only through the function pointers of the descriptor it returns. A plugin
** links no host symbol: everything it needs from the host (logging, clock,
** completion) arrives as the table of function pointers `herald_host_api`.
**
** Include this file from a plugin written in C (or in anything that can
** export a C symbol). Swift plugins use the HeraldPluginKit module, which
** wraps it. Nothing else is needed: see plugin-sdk/examples/file_channel.c,
** or run `herald plugins new NAME --lang c` for a project to start from.
**
** ABI 1.0 is frozen: this file only ever grows by appending, as below.
**
** WARNING: every struct below starts with `abi_version` and `struct_size`,
** and later minor versions only ever append fields at the end. Inserting,
** removing, reordering or retyping a field changes the offsets an
** already-built plugin reads, so the host would read garbage instead of
** refusing it: that is a new major version, never a minor one.
**
** THE VERSIONING RULE. A struct is read only as far as its `struct_size`
** says. Whoever reads a struct the other side filled checks `struct_size`
** before touching a field added after 1.0: the host does so for the
** descriptor, a plugin for the host table, the config and the message.
** The host accepts a descriptor whose `struct_size` covers at least the
** fields of the minor it declares, refuses another major with a message
** naming both versions, and never crashes on a plugin it refuses.
**
** THE PROCESS RULES. The host ignores SIGPIPE: a plugin may write to a socket
** the peer has closed and gets EPIPE instead of the process dying. The host
** never dlclose()s a plugin: the table, the descriptor and every string a
** plugin hands over may be kept until the process exits, and a library may
** rely on never being unloaded (the Swift runtime requires it). A plugin
** may run in the daemon's process or in a worker process of its own (the
** endpoint's `isolation`); it cannot tell, and must not need to.
*/
#ifndef HERALD_PLUGIN_H
#define HERALD_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI version: major in the high 16 bits, minor in the low 16 bits. */
#define HERALD_ABI_MAJOR 1
#define HERALD_ABI_MINOR 0
#define HERALD_ABI_VERSION ((uint32_t)((HERALD_ABI_MAJOR << 16) | HERALD_ABI_MINOR))
#define HERALD_ABI_MAJOR_OF(v) ((uint32_t)(v) >> 16)
#define HERALD_ABI_MINOR_OF(v) ((uint32_t)(v) & 0xFFFFu)

/* The name of the one symbol every plugin exports. */
#define HERALD_PLUGIN_ENTRY_SYMBOL "herald_plugin_entry"

/* Room the host gives every `char *error` out-parameter, NUL included. */
#define HERALD_ERROR_CAPACITY 512

/* The outcome of one delivery attempt, an int32_t passed to `complete`.
** Any other value is a plugin bug: the host logs it and records FAIL. */
/* Delivered; the receiver accepted it. */
#define HERALD_OK 0
/* Transient failure (timeout, connection refused, 5xx, 429, a broker not
** available...). The host tries again later, after `retry_after_ms` when
** the plugin gives one, else after its own exponential backoff. */
#define HERALD_RETRY 1
/* Permanent failure (the receiver refused this message for good: most 4xx,
** an unknown topic...). The host does not retry; the delivery goes to the
** dead letters with the reason. */
#define HERALD_FAIL 2

/* Flags of `complete`, a uint32_t; unknown bits are ignored by the host. */
/* With HERALD_RETRY: the endpoint itself is unreachable or overloaded
** (connection refused or reset, a timeout, a TLS handshake failure, 5xx,
** 429), not this one message. The host then holds the endpoint's queue and
** probes it, instead of spending every queued delivery's retries. */
#define HERALD_COMPLETE_ENDPOINT_DOWN 0x1u

/* Log levels, an int32_t passed to `log`; any other value logs as INFO. */
#define HERALD_LOG_DEBUG 0
#define HERALD_LOG_INFO 1
#define HERALD_LOG_WARNING 2
#define HERALD_LOG_ERROR 3

/* One name and value, both UTF-8 with their lengths; neither is
** NUL-terminated. How C plugins read a config, an event or rendered
** templates without a JSON parser. */
typedef struct herald_field {
    const char *name;
    size_t name_length;
    const char *value;
    size_t value_length;
} herald_field;

/* Services the host offers. The table and every function in it stay valid
** from the entry call until the process exits; a plugin may keep the
** pointer. Every function may be called from any thread, at any time,
** concurrently, and none of them blocks for long. */
typedef struct herald_host_api {
    uint32_t abi_version; /* the host's HERALD_ABI_VERSION */
    uint32_t struct_size; /* sizeof(herald_host_api) in the host */

    /* -- ABI 1.0 -- */

    /* Writes one log line, tagged with the plugin's channel and, when the
    ** call comes from an instance's thread, its endpoint. `host` is the
    ** table the plugin was given (each plugin gets its own, which is how
    ** the host knows who speaks). `level` is a HERALD_LOG_* value.
    ** `message` is UTF-8 of `length` bytes, need not be NUL-terminated, and
    ** is copied before the call returns. Never pass a secret. */
    void (*log)(const struct herald_host_api *host, int32_t level, const char *message, size_t length);

    /* Reports the outcome of one submission. THE EXACTLY-ONCE RULE: call it
    ** exactly once per accepted submission (see `submit`), from any thread,
    ** after or even before `submit` returns. A second call for the same
    ** token is ignored and logged as a plugin bug. A submission never
    ** completed is given up by the host when its timeout passes and
    ** recorded as RETRY; a later completion for it is ignored.
    **   completion_context: the message's `completion_context`, as given.
    **   token:          the message's `token`, as given.
    **   outcome:        HERALD_OK, HERALD_RETRY or HERALD_FAIL.
    **   flags:          HERALD_COMPLETE_* bits, 0 for none.
    **   retry_after_ms: for HERALD_RETRY, how long the receiver asked us to
    **                   wait (an HTTP Retry-After, say), 0 for "host decides".
    **                   Ignored for other outcomes; the host caps it.
    **   reason:         UTF-8 of `reason_length` bytes saying what happened
    **                   ("HTTP 503: upstream down"); may be NULL when
    **                   `reason_length` is 0. Copied before the call returns.
    **                   Never include a secret. */
    void (*complete)(void *completion_context, uint64_t token, int32_t outcome, uint32_t flags,
                     uint64_t retry_after_ms, const char *reason, size_t reason_length);

    /* Milliseconds since the Unix epoch, from the host's clock (tests run
    ** the host on a fake one). */
    uint64_t (*now_ms)(void);
} herald_host_api;

/* An endpoint's channel config, as `validate_config` and `open` see it. The
** host owns it and everything it points to; it is valid only during the
** call. Copy what you keep. */
typedef struct herald_config {
    uint32_t abi_version; /* the host's HERALD_ABI_VERSION */
    uint32_t struct_size; /* sizeof(herald_config) in the host */

    /* -- ABI 1.0 -- */

    /* The config as a UTF-8 JSON object, already checked against the
    ** plugin's schema; NUL-terminated (the NUL not counted in the length). */
    const char *json;
    size_t json_length;
    /* The same config flattened for C: one field per scalar, named by its
    ** dotted path ("url", "headers.X-Token", "to[1]"), the value as text:
    ** strings as they are, numbers and booleans as JSON writes them, null
    ** as "null". Objects and arrays appear only through their members (an
    ** empty one not at all). Sorted by name. */
    const herald_field *fields;
    size_t field_count;
    /* The endpoint's name, NUL-terminated UTF-8; "" when the config is
    ** checked for no endpoint in particular (`herald plugins check`). */
    const char *endpoint;
    /* No flags are defined in 1.0; the host passes 0. */
    uint32_t flags;
    uint32_t reserved32;
    uint64_t reserved[4]; /* 0 */
} herald_config;

/* The version of `event_json`'s schema in this ABI. Its fields, all
** strings unless said otherwise (times are RFC 3339 UTC with milliseconds):
**   id             the event's id: the sender's, or one Herald made
**   delivery_id    stable across attempts and host restarts: deduplicate on it
**   dedup_key      "policy/name/object_id": the same for an alert's firing
**                  and recovery pushes
**   name           the alert's name
**   level          this push's level: Critical, Error, Warning, Info or Recovery
**   policy_level   the same as level
**   event_level    the alert's firing level (also on its recovery)
**   previous_level the level last pushed for this key (absent on the first)
**   status         "firing" or "resolved"
**   object_id      the monitored object
**   labels         object of strings
**   annotations    object of strings
**   team, policy, endpoint   names
**   policy_matchers the policy's matchers as a selector, {service="api"}
**   source         the ingest format: native, huawei, alertmanager, ...
**   starts_at      when the alert started
**   ends_at        when it ended (absent while firing)
**   fallback_of    on a push to a fallback endpoint: the endpoint that could
**                  not deliver it (absent otherwise)
**   fallback_reason why it could not ("HTTP 400: ...", "expired while the
**                  endpoint was down")
** A later minor may add fields (and says so here); it never removes,
** renames or retypes one. Ignore fields you do not know. */
#define HERALD_EVENT_SCHEMA_VERSION 1

/* One message to deliver. The host owns it and everything it points to; it
** is valid only until `submit` returns. Copy whatever you need later. */
typedef struct herald_message {
    uint32_t abi_version; /* the host's HERALD_ABI_VERSION */
    uint32_t struct_size; /* sizeof(herald_message) in the host */

    /* -- ABI 1.0 -- */

    /* Pass both back to `complete`, as they are. */
    uint64_t token;
    void *completion_context;
    /* Stable id of the delivery: the same on every attempt and across host
    ** restarts, so a receiver can deduplicate what a crash repeats. NUL-
    ** terminated ASCII. */
    const char *delivery_id;
    /* 1 for the first attempt, 2 for the first retry, ... */
    uint32_t attempt;
    /* How long the host waits for `complete` before it gives the attempt up
    ** as RETRY. A plugin should bound its own I/O by it. */
    uint32_t timeout_ms;
    /* No flags are defined in 1.0; the host passes 0. Ignore unknown bits. */
    uint32_t flags;
    /* HERALD_EVENT_SCHEMA_VERSION of the host that wrote `event_json`. */
    uint32_t event_schema_version;

    /* The event being pushed, as a UTF-8 JSON object with the fields listed
    ** above. Not NUL-terminated. */
    const char *event_json;
    size_t event_json_length;
    /* The same event flattened for C: its top-level strings by name
    ** ("name", "level", ...), each label as "labels.KEY" and each
    ** annotation as "annotations.KEY". Sorted by name. */
    const herald_field *event_fields;
    size_t event_field_count;

    /* The endpoint's template fields (those marked "x-herald-template" in
    ** the config schema) rendered by the host for this event, as a UTF-8
    ** JSON object of strings, for example {"url":"http://...","body":"..."}.
    ** Not NUL-terminated. */
    const char *rendered_json;
    size_t rendered_json_length;
    /* The same, one field per template field. Sorted by name. */
    const herald_field *rendered_fields;
    size_t rendered_field_count;

    uint64_t reserved[4]; /* 0 */
} herald_message;

/* What a plugin is and how to drive it. Returned by the entry function; it
** must stay valid and unchanged until the process exits (a static struct is
** the usual way). */
typedef struct herald_plugin_descriptor {
    uint32_t abi_version; /* HERALD_ABI_VERSION the plugin was built with */
    uint32_t struct_size; /* sizeof(herald_plugin_descriptor) */

    /* -- ABI 1.0 -- */

    /* NUL-terminated UTF-8. `channel` is the name endpoints use in their
    ** `channel:` field: lower case letters, digits, '-' and '_' (at most 64),
    ** and unique among loaded plugins. */
    const char *channel;
    const char *version;
    const char *description;

    /* JSON Schema (draft 2020-12 subset: type, properties, required,
    ** additionalProperties, enum, minimum, maximum, minLength, maxLength,
    ** pattern, items, minItems, default, description) of an endpoint's
    ** channel config, an object. A string property with
    ** "x-herald-template": true is a template the host renders per message;
    ** one with "x-herald-secret": true is never logged or shown by the host.
    ** The host checks every endpoint config against it before calling
    ** `validate_config` or `open`. */
    const char *config_schema_json;

    /* A JSON object giving the default text of template fields the endpoint
    ** leaves out, for example {"body":"{{ event_json }}"}; "{}" for none.
    ** The host checks every template at load. */
    const char *default_templates_json;

    /* No flags are defined in 1.0; set 0. */
    uint64_t flags;

    /* Checks what the schema cannot say (a URL parses, an address is valid,
    ** a file is readable). Called by the host on a thread of its own, at
    ** config load and by `herald plugins check`; may block briefly (the
    ** host gives up after a few seconds and refuses the config). Returns 0
    ** when valid; otherwise writes a NUL-terminated message into `error`
    ** (capacity `error_capacity`) and returns non-zero. Start the message
    ** with the dotted path of the field and a colon ("headers.X-Token: not
    ** a valid header name"): the host then points the operator at that
    ** line of the config file. */
    int32_t (*validate_config)(const herald_config *config, char *error, size_t error_capacity);

    /* Opens one instance for one endpoint (connections, threads, buffers).
    ** Called once per endpoint, on a host thread that may block, after
    ** `validate_config` accepted the config. `host` is the same table the
    ** entry function got, so an instance needs no global to find it. On
    ** success stores the instance in `*instance` and returns 0; otherwise
    ** writes the reason into `error` and returns non-zero, and the endpoint
    ** stays disabled. */
    int32_t (*open)(const herald_config *config, const herald_host_api *host, void **instance, char *error,
                    size_t error_capacity);

    /* Starts one delivery. THE THREADING RULE: the host calls `submit` and
    ** `close` of one instance from that instance's own thread, never from
    ** its event loops or its async runtime, and never two at once; other
    ** instances run on other threads. `submit` must not block on I/O: it
    ** queues the work (or does it quickly) and returns. One that does not
    ** return within the endpoint's timeout suspends the endpoint (its
    ** deliveries wait) and is reported as a plugin bug. The outcome goes
    ** through `host->complete(message->completion_context, message->token,
    ** ...)`, exactly once.
    ** THE MEMORY RULE: `message` and all it points to belong to the host and
    ** are valid only until `submit` returns.
    ** Returns 0 when the submission was accepted (and will be completed);
    ** non-zero when it was refused on the spot, in which case the plugin
    ** must NOT call `complete` for it and the host records a RETRY. */
    int32_t (*submit)(void *instance, const herald_message *message);

    /* Closes an instance: finishes or abandons work in flight (completing
    ** each outstanding submission, as RETRY if abandoned), joins its
    ** threads and frees it. Called once, on the instance's thread, after
    ** its last `submit` returned; should return within the endpoint's
    ** timeout (the host stops waiting then). */
    void (*close)(void *instance);

    void *reserved[4]; /* NULL */
} herald_plugin_descriptor;

/* The entry point, exported as `herald_plugin_entry` with default
** visibility. Called once, right after dlopen, on a host thread.
**   host_abi_version: the HERALD_ABI_VERSION the host was built with. A
**                     plugin refuses a host whose major differs, writing
**                     why into `error` and returning NULL.
**   host:             the host's services; valid until process exit. Check
**                     its `struct_size` before using a field added after
**                     the minor you were built for.
**   error:            on refusal, a NUL-terminated reason to write here,
**                     at most `error_capacity` bytes with the NUL.
** Returns the plugin's descriptor, or NULL to refuse loading. */
typedef const herald_plugin_descriptor *(*herald_plugin_entry_fn)(
    uint32_t host_abi_version, const herald_host_api *host, char *error, size_t error_capacity);

#ifdef __cplusplus
}
#endif

#endif /* HERALD_PLUGIN_H */
