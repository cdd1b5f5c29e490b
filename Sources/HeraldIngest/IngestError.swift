/// Why an ingest body was refused: the field at fault and what is wrong
/// with it. The API answers it as a 400 whose message names the field.
public struct IngestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Dotted path of the field ("events[2].metadata.event_severity"), or
    /// "body" for the body as a whole.
    public let field: String
    public let message: String

    public init(_ field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

extension IngestError {
    static func invalid(_ field: String, _ message: String) -> IngestError { IngestError(field, message) }
}
