public import Hummingbird
import Foundation

/// Every error an API route answers with: a status, the field at fault
/// when there is one, and a message that names it.
///
/// Body: `{"error":{"message":"events[0].metadata.event_severity: ...","field":"events[0].metadata.event_severity"}}`.
public struct APIError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let field: String?
    public let message: String

    public init(_ status: HTTPResponse.Status, field: String? = nil, _ message: String) {
        self.status = status
        self.field = field
        self.message = field.map { "\($0): \(message)" } ?? message
    }

    static func badRequest(_ field: String, _ message: String) -> APIError { APIError(.badRequest, field: field, message) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var error: [String: String] = ["message": message]
        if let field { error["field"] = field }
        let body = (try? JSONSerialization.data(withJSONObject: ["error": error], options: [.sortedKeys])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
