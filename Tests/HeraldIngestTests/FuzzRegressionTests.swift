import Foundation
import HeraldFuzzTargets
import Testing

/// Every input a fuzzer (or a reader) found to crash a parser, replayed
/// through the same target: a trap here ends the test run.
struct FuzzRegressionTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/regressions")

    static var inputs: [(target: String, file: String)] {
        FuzzTargets.names.flatMap { target in
            let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent(target).path)) ?? []
            return files.sorted().map { (target, $0) }
        }
    }

    @Test func thereAreRegressionInputs() {
        #expect(Self.inputs.count >= 10, "\(Self.folder.path) holds the saved crashes")
    }

    @Test(arguments: inputs.map { "\($0.target)/\($0.file)" })
    func savedCrashNoLongerTraps(path: String) throws {
        let target = String(path.split(separator: "/")[0])
        let data = try Data(contentsOf: Self.folder.appendingPathComponent(path))
        FuzzTargets.run(target, Array(data))
    }
}
