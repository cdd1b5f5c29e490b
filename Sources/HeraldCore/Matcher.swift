import Foundation

/// One label condition of a policy: `name=value`, `name!=value`,
/// `name=~regex` or `name!~regex`, as in Alertmanager. Regexes are anchored
/// at both ends.
public struct Matcher: Sendable, Equatable, CustomStringConvertible {
    public enum Operator: String, Sendable, CaseIterable {
        case equal = "="
        case notEqual = "!="
        case matchesRegex = "=~"
        case notMatchesRegex = "!~"
    }

    public let label: String
    public let op: Operator
    public let value: String
    private let regex: Regex?

    /// - Throws: `MatcherError` naming what is wrong with `text`.
    public init(_ text: String) throws(MatcherError) {
        // Longest operators first, so "!=" is not read as "=".
        let candidates: [Operator] = [.matchesRegex, .notMatchesRegex, .notEqual, .equal]
        var found: (Operator, Range<String.Index>)?
        for op in candidates {
            if let range = text.range(of: op.rawValue), found == nil || range.lowerBound < found!.1.lowerBound {
                found = (op, range)
            }
        }
        guard let (op, range) = found else {
            throw MatcherError(text: text, reason: "no operator; use =, !=, =~ or !~")
        }
        let label = text[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
        var value = text[range.upperBound...].trimmingCharacters(in: .whitespaces)
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
            value = String(value.dropFirst().dropLast())
        }
        guard !label.isEmpty else { throw MatcherError(text: text, reason: "empty label name") }
        try self.init(label: label, op: op, value: value)
    }

    public init(label: String, op: Operator, value: String) throws(MatcherError) {
        self.label = label
        self.op = op
        self.value = value
        switch op {
        case .equal, .notEqual:
            regex = nil
        case .matchesRegex, .notMatchesRegex:
            do {
                regex = Regex(try NSRegularExpression(pattern: "^(?:\(value))$"))
            } catch {
                throw MatcherError(text: "\(label)\(op.rawValue)\(value)", reason: "invalid regular expression")
            }
        }
    }

    public func matches(_ labels: [String: String]) -> Bool {
        let actual = labels[label] ?? ""
        switch op {
        case .equal: return actual == value
        case .notEqual: return actual != value
        case .matchesRegex: return regex!.matches(actual)
        case .notMatchesRegex: return !regex!.matches(actual)
        }
    }

    public var description: String { "\(label)\(op.rawValue)\"\(value)\"" }

    public static func == (lhs: Matcher, rhs: Matcher) -> Bool {
        lhs.label == rhs.label && lhs.op == rhs.op && lhs.value == rhs.value
    }

    /// A compiled pattern. NSRegularExpression is immutable once built and
    /// documented as safe to use from several threads at once.
    private struct Regex: @unchecked Sendable {
        let expression: NSRegularExpression
        init(_ expression: NSRegularExpression) { self.expression = expression }
        func matches(_ text: String) -> Bool {
            expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
        }
    }
}

public struct MatcherError: Error, Sendable, CustomStringConvertible {
    public let text: String
    public let reason: String
    public var description: String { "matcher \"\(text)\": \(reason)" }
}
