import Foundation
import HeraldFuzzTargets

// The libFuzzer entry points (see scripts/fuzz.sh). Built with
// `-sanitize=fuzzer -DFUZZING`, libFuzzer drives the target named by
// HERALD_FUZZ_TARGET; built plainly, the binary replays the files it is
// given through that target, which is how a saved crash is looked at.

/// Set once here, before libFuzzer starts; it runs inputs on one thread.
nonisolated(unsafe) private var target = ProcessInfo.processInfo.environment["HERALD_FUZZ_TARGET"] ?? ""

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTargets.run(target, data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

guard FuzzTargets.names.contains(target) else {
    FileHandle.standardError.write(Data("set HERALD_FUZZ_TARGET to one of: \(FuzzTargets.names.joined(separator: ", "))\n".utf8))
    exit(2)
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzDriver(_ argc: UnsafeMutablePointer<CInt>,
                   _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                   _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(runFuzzDriver(&argc, &argv, fuzzOneInput))
#else
for file in CommandLine.arguments.dropFirst() {
    guard let data = FileManager.default.contents(atPath: file) else {
        FileHandle.standardError.write(Data("cannot read \(file)\n".utf8))
        exit(1)
    }
    FuzzTargets.run(target, Array(data))
    print("\(file): ok")
}
#endif
