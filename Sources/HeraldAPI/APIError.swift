public import Hummingbird
import Foundation
import HeraldIngest

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

    /// Runs an ingest parser, answering its refusal as a 400 naming the field.
    static func parsing<T>(_ parse: () throws(IngestError) -> T) throws(APIError) -> T {
        do { return try parse() } catch { throw APIError(.badRequest, field: error.field, error.message) }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var error: [String: String] = ["message": message]
        if let field { error["field"] = field }
        return try JSONAnswer.response(status, ["error": error])
    }
}

/// JSON answers, always through an encoder: ids and messages carry
/// whatever a sender wrote, quotes and control characters included.
enum JSONAnswer {
    static func response(_ status: HTTPResponse.Status, _ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}
