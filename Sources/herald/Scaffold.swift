import Foundation

/// The files of a new plugin project (`herald plugins new`). Each project's
/// plugin appends one line per alert to the file its config names, so it
/// builds, passes the conformance kit and delivers as it is.
enum Scaffold {
    /// A C plugin: one source file, a Makefile, a README.
    static func c(name: String, sdk: String) -> [(String, String)] {
        let symbol = name.replacingOccurrences(of: "-", with: "_")
        return [
            ("Makefile", """
                # Builds lib\(symbol).so with nothing but Herald's plugin header.
                HERALD_SDK ?= \(sdk)
                CFLAGS ?= -O2 -Wall -Wextra -Werror

                lib\(symbol).so: \(symbol).c
                \tcc -shared -fPIC $(CFLAGS) -I $(HERALD_SDK)/include -o $@ $<

                check: lib\(symbol).so
                \therald plugins check ./lib\(symbol).so --config example-config.json

                clean:
                \trm -f lib\(symbol).so

                .PHONY: check clean

                """),
            ("example-config.json", #"{"path": "/tmp/\#(name).log"}"# + "\n"),
            ("\(symbol).c", cSource(name: name, symbol: symbol)),
            ("README.md", readme(name: name, build: "make", library: "lib\(symbol).so",
                                 edit: "`\(symbol).c`: `submit` is where your channel sends the alert")),
        ]
    }

    /// A Swift plugin: a package depending on the SDK alone.
    static func swift(name: String, sdk: String) -> [(String, String)] {
        let module = name.split(whereSeparator: { $0 == "-" || $0 == "_" })
            .map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined() + "Channel"
        return [
            ("Package.swift", """
                // swift-tools-version:6.1
                // A Herald channel plugin: a dynamic library that depends on the plugin SDK alone.
                import PackageDescription

                let package = Package(
                    name: "\(name)",
                    products: [.library(name: "\(module)", type: .dynamic, targets: ["\(module)"])],
                    dependencies: [.package(path: "\(sdk)")],
                    targets: [
                        .target(name: "\(module)", dependencies: [.product(name: "HeraldPluginKit", package: "plugin-sdk")]),
                    ],
                    swiftLanguageModes: [.v6]
                )

                """),
            ("example-config.json", #"{"path": "/tmp/\#(name).log"}"# + "\n"),
            ("Sources/\(module)/Plugin.swift", swiftSource(name: name, module: module)),
            ("README.md", readme(name: name, build: "swift build -c release", library: ".build/release/lib\(module).so",
                                 edit: "`Sources/\(module)/Plugin.swift`: `deliver` is where your channel sends the alert")),
        ]
    }

    static func readme(name: String, build: String, library: String, edit: String) -> String {
        """
        # \(name): a Herald channel plugin

        ```sh
        \(build)                                              # build
        herald plugins check \(library) --config example-config.json   # the conformance kit
        mkdir -p ~/herald-plugins && cp \(library) ~/herald-plugins/   # install
        ```

        Then add the folder to the daemon's `plugins.directories` and an endpoint using it:

        ```yaml
        plugins: {directories: [/home/you/herald-plugins]}
        endpoints:
          - {name: my-\(name), team: ops, channel: \(name), config: {path: /tmp/\(name).log}}
        ```

        A plugin Herald does not ship runs in a worker process of its own by default
        (`isolation: process`): a crash costs a restart of the worker, not the daemon.

        Make it yours in \(edit). The contract is Herald's `plugin-sdk/include/herald_plugin.h`;
        its README explains it in plain words.

        """
    }

    static func cSource(name: String, symbol: String) -> String {
        #"""
        /* \#(name): a Herald channel plugin. It appends one line per alert to the
        ** file named by its endpoint config's "path"; make `submit` send your way. */
        #include <errno.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>

        #include "herald_plugin.h"

        typedef struct instance {
            const herald_host_api *host;
            FILE *file;
        } instance;

        /* The value of the field `name` (the config, event and rendered fields
        ** arrive as name/value pairs), or NULL. */
        static const char *field(const herald_field *fields, size_t count, const char *name, size_t *length) {
            for (size_t i = 0; i < count; i++) {
                if (fields[i].name_length == strlen(name) && memcmp(fields[i].name, name, fields[i].name_length) == 0) {
                    *length = fields[i].value_length;
                    return fields[i].value;
                }
            }
            return NULL;
        }

        static int32_t validate_config(const herald_config *config, char *error, size_t cap) {
            size_t length = 0;
            const char *path = field(config->fields, config->field_count, "path", &length);
            if (!path || length == 0 || length >= 4096) {
                snprintf(error, cap, "path: required, the file to append to");
                return 1;
            }
            return 0;
        }

        static int32_t open_instance(const herald_config *config, const herald_host_api *host, void **out, char *error,
                                     size_t cap) {
            if (validate_config(config, error, cap)) return 1;
            size_t length = 0;
            const char *value = field(config->fields, config->field_count, "path", &length);
            char path[4096];
            memcpy(path, value, length);
            path[length] = '\0';
            instance *self = calloc(1, sizeof *self);
            if (!self) {
                snprintf(error, cap, "out of memory");
                return 1;
            }
            self->file = fopen(path, "a");
            if (!self->file) {
                snprintf(error, cap, "path: cannot open %s: %s", path, strerror(errno));
                free(self);
                return 1;
            }
            self->host = host;
            *out = self;
            return 0;
        }

        /* Called on the instance's own host thread; must not block for long.
        ** Completes exactly once, here or later from any thread. */
        static int32_t submit(void *opaque, const herald_message *m) {
            instance *self = opaque;
            size_t level_length = 0, name_length = 0;
            const char *level = field(m->event_fields, m->event_field_count, "level", &level_length);
            const char *name = field(m->event_fields, m->event_field_count, "name", &name_length);
            fprintf(self->file, "%s [%.*s] %.*s\n", m->delivery_id, (int)level_length, level ? level : "",
                    (int)name_length, name ? name : "");
            if (fflush(self->file) != 0) {
                self->host->complete(m->completion_context, m->token, HERALD_RETRY, 0, 0, "write failed", 12);
            } else {
                self->host->complete(m->completion_context, m->token, HERALD_OK, 0, 0, NULL, 0);
            }
            return 0;
        }

        static void close_instance(void *opaque) {
            instance *self = opaque;
            fclose(self->file);
            free(self);
        }

        static const herald_plugin_descriptor descriptor = {
            .abi_version = HERALD_ABI_VERSION,
            .struct_size = sizeof(herald_plugin_descriptor),
            .channel = "\#(name)",
            .version = "0.1.0",
            .description = "Appends one line per alert to a file.",
            .config_schema_json = "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"path\"],"
                                  "\"properties\":{\"path\":{\"type\":\"string\",\"minLength\":1,"
                                  "\"description\":\"File to append to.\"}}}",
            .default_templates_json = "{}",
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
            (void)host;
            return &descriptor;
        }

        """#
    }

    static func swiftSource(name: String, module: String) -> String {
        #"""
        import Foundation
        import HeraldPluginKit

        /// \#(name): appends one line per alert to the file its endpoint config
        /// names; make `deliver` send your way.
        final class \#(module): BlockingChannelPlugin {
            struct Config: Decodable, Sendable { let path: String }

            static let info = PluginInfo(
                channel: "\#(name)", version: "0.1.0", description: "Appends one line per alert to a file.",
                configSchema: #"{"type":"object","additionalProperties":false,"required":["path"],"properties":{"path":{"type":"string","minLength":1,"description":"File to append to."}}}"#)

            let handle: FileHandle
            let workers = BlockingWorkers(count: 1)

            init(config: Config, host: HostServices) throws(ConfigProblem) {
                if !FileManager.default.fileExists(atPath: config.path) {
                    FileManager.default.createFile(atPath: config.path, contents: nil)
                }
                guard let handle = FileHandle(forWritingAtPath: config.path) else {
                    throw ConfigProblem(field: "path", "cannot open \(config.path)")
                }
                handle.seekToEndOfFile()
                self.handle = handle
            }

            /// Runs on the kit's worker thread; may block, within `message.timeout`.
            func deliver(_ message: Message) -> Outcome {
                guard let event = try? message.event() else { return .fail("the event is not readable") }
                do {
                    try handle.write(contentsOf: Data("\(message.deliveryID) [\(event.level.rawValue)] \(event.name)\n".utf8))
                    return .ok
                } catch {
                    return .retry("write failed: \(error)")
                }
            }

            func close() {
                workers.stop()
                try? handle.close()
            }
        }

        @_cdecl("herald_plugin_entry")
        public func heraldPluginEntry(_ abi: UInt32, _ host: UnsafeRawPointer?, _ error: UnsafeMutablePointer<CChar>?,
                                      _ capacity: Int) -> UnsafeRawPointer? {
            PluginExport.entry(\#(module).self, abi: abi, host: host, error: error, capacity: capacity)
        }

        """#
    }
}
