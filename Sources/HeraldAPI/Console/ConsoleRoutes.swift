public import Hummingbird
import HTTPTypes

/// The web console at `/ui/` (and `/` redirecting there): static files
/// built into the binary, a page that calls the same API as everyone else
/// with the token it is given. It adds no rule of its own.
public struct ConsoleRoutes<Context: RequestContext>: Sendable {
    public init() {}

    /// name: (content type, bytes), from `assets/`.
    static var files: [String: (String, [UInt8])] {
        let script = "text/javascript; charset=utf-8"
        return [
            "index.html": ("text/html; charset=utf-8", PackageResources.index_html),
            "console.css": ("text/css; charset=utf-8", PackageResources.console_css),
            "app.js": (script, PackageResources.app_js),
            "api.js": (script, PackageResources.api_js),
            "dom.js": (script, PackageResources.dom_js),
            "schema-form.js": (script, PackageResources.schema_form_js),
            "endpoints.js": (script, PackageResources.endpoints_js),
            "policies.js": (script, PackageResources.policies_js),
            "deliveries.js": (script, PackageResources.deliveries_js),
            "explain.js": (script, PackageResources.explain_js),
            "captures.js": (script, PackageResources.captures_js),
            "channels.js": (script, PackageResources.channels_js),
        ]
    }

    public func addRoutes(to router: Hummingbird.Router<Context>) {
        let files = Self.files
        router.get("/") { _, _ -> Response in Self.redirect }
        // The router takes `/ui` and `/ui/` for one path; the page names its files from the root.
        router.get("/ui") { _, _ -> Response in Self.serve(files["index.html"]) }
        router.get("/ui/:file") { _, context -> Response in Self.serve(files[context.parameters.get("file") ?? ""]) }
    }

    private static var redirect: Response {
        Response(status: .found, headers: [.location: "/ui/"])
    }

    private static func serve(_ file: (String, [UInt8])?) -> Response {
        guard let (type, bytes) = file else {
            return Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: "no such console file\n")))
        }
        let headers: HTTPFields = [
            .contentType: type,
            // The files change only with the binary; revalidate rather than keep a stale script.
            .cacheControl: "no-cache",
            // Only the console's own files run; nothing frames it.
            .contentSecurityPolicy: "default-src 'self'; img-src 'self' data: blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            .xContentTypeOptions: "nosniff",
        ]
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
