// hnfuzz: the project's fuzz targets (see FuzzTargets.names).
//
//   hnfuzz TARGET [libFuzzer options] [CORPUS...]   built with -sanitize=fuzzer,address -DFUZZING
//   hnfuzz TARGET FILE...                           any build: runs each file once (regressions)
//
// `make fuzz` builds the first form and runs every target; CI runs a short pass.
import Foundation
#if FUZZING
import CFuzzer
#endif

nonisolated(unsafe) var selectedTarget = ""

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzTargets.run(selectedTarget, UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}

var arguments = CommandLine.arguments
if arguments.count == 4, arguments[1] == "seeds" {
    do {
        try Seeds.write(to: arguments[2], repository: arguments[3])
        print("seeds written to \(arguments[2])")
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("hnfuzz: \(error)\n".utf8))
        exit(1)
    }
}
guard arguments.count >= 2, FuzzTargets.names.contains(arguments[1]) else {
    FileHandle.standardError.write(Data("usage: hnfuzz TARGET [options|files]; targets: \(FuzzTargets.names.joined(separator: " "))\n".utf8))
    exit(2)
}
selectedTarget = arguments.remove(at: 1)

#if FUZZING
var argc = Int32(arguments.count)
var cStrings = arguments.map { strdup($0) } + [nil]
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = cStrings.withUnsafeMutableBufferPointer { $0.baseAddress }
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOne(data, size) })
#else
var files = 0
for path in arguments.dropFirst() {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
    let paths = isDirectory.boolValue
        ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 } : [path]
    for file in paths {
        guard let data = FileManager.default.contents(atPath: file) else { continue }
        data.withUnsafeBytes { FuzzTargets.run(selectedTarget, $0) }
        files += 1
    }
}
print("\(selectedTarget): \(files) inputs replayed")
#endif
