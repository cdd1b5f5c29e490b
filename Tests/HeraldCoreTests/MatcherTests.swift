import HeraldCore
import Testing

struct MatcherTests {
    static let labels = ["service": "api", "env": "prod", "alertname": "HighCPU"]

    @Test(arguments: [
        ("service=api", true), ("service=web", false),
        ("service!=web", true), ("service!=api", false),
        ("env=~prod|staging", true), ("env=~pro", false), // anchored: "pro" does not match "prod"
        ("env!~dev|test", true), ("env!~pr.*", false),
        ("missing=", true), ("missing!=", false), // an absent label is the empty string
        ("service=\"api\"", true),
    ])
    func matcherOperators(text: String, expected: Bool) throws {
        #expect(try Matcher(text).matches(Self.labels) == expected)
    }

    @Test func matcherWithoutOperatorIsRefused() {
        #expect(throws: MatcherError.self) { try Matcher("service") }
    }

    @Test func matcherWithBadRegexNamesIt() {
        let error = #expect(throws: MatcherError.self) { try Matcher("service=~(") }
        #expect(error?.description.contains("invalid regular expression") == true)
    }
}

struct SeverityTests {
    @Test(arguments: [
        (HuaweiSeverity.critical, Level.critical), (.major, .error), (.minor, .warning), (.info, .info),
    ])
    func huaweiSeverityMapsToLevel(severity: HuaweiSeverity, level: Level) {
        #expect(severity.level == level)
    }

    @Test func levelNamesParseInAnyCase() {
        #expect(Level(name: "critical") == .critical)
        #expect(Level(name: "RECOVERY") == .recovery)
        #expect(Level(name: "Fatal") == nil)
    }

    @Test func defaultLevelFilterIsAllButInfo() {
        #expect(Level.defaultFilter == [.critical, .error, .warning, .recovery])
    }
}
