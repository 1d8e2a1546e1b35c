import Foundation
import Testing

/// Every fuzz seed and every input that once crashed a target (Tests/Fuzz/regressions) is
/// replayed through its target in the ordinary build: a fixed bug stays fixed.
@Suite struct FuzzRegressionTests {
    @Test func seedsAndRegressionsReplayThroughEveryTarget() throws {
        var binary: String? = nil
        for dir in [".build/debug", ".build/x86_64-unknown-linux-gnu/debug"] {
            let path = repositoryRoot.appendingPathComponent(dir).appendingPathComponent("hnfuzz").path
            if FileManager.default.isExecutableFile(atPath: path) { binary = path; break }
        }
        let hnfuzz = try #require(binary, "hnfuzz is not built (swift build)")
        let corpus = repositoryRoot.appendingPathComponent("Tests/Fuzz/corpus")
        let targets = try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted()
        #expect(targets.count >= 19)
        for target in targets {
            var arguments = [target, corpus.appendingPathComponent(target).path]
            let regressions = repositoryRoot.appendingPathComponent("Tests/Fuzz/regressions").appendingPathComponent(target)
            if FileManager.default.fileExists(atPath: regressions.path) { arguments.append(regressions.path) }
            let (status, output) = try run(hnfuzz, arguments)
            #expect(status == 0, "\(target): \(output)")
            #expect(output.contains("inputs replayed"))
        }
    }
}
