import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// A classification from classification.config.
public struct Classification: Sendable {
    public var name: String
    public var description: String
    public var priority: Int
}

/// An entry of threshold.config.
public enum ThresholdConfigEntry: Sendable {
    /// threshold / event_filter: replaces the rule's own threshold.
    case threshold(gid: UInt32, sid: UInt32, ThresholdSpec)
    /// suppress: no alerts for the rule (sid 0 = all), optionally only for some addresses.
    case suppress(gid: UInt32, sid: UInt32, track: ThresholdSpec.Track?, addresses: AddressMatcher?)
}

/// Everything loaded from a rules directory (or one .rules file), with the errors found.
public struct RuleSet: Sendable {
    public var rules: [Rule] = []
    public var errors: [RuleError] = []
    public var classifications: [String: Classification] = [:]
    public var thresholds: [ThresholdConfigEntry] = []
    /// Files read, in order.
    public var files: [String] = []

    public init() {}

    public var unsupportedCount: Int { errors.filter(\.unsupported).count }

    /// Loads `path`: a directory with the hnsensor layout (`signatures/*.rules`,
    /// `classification.config`, `threshold.config`) or with `*.rules` at its top (as a
    /// Suricata rules folder such as ET Open has), or a single `.rules` file (then only those
    /// signatures, as Suricata's `-S`).
    public static func load(path: String, variables: RuleVariables) throws(RuleLoadError) -> RuleSet {
        var set = RuleSet()
        let parser = RuleParser(variables: variables)
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw RuleLoadError(description: "\(path): cannot open: \(String(cString: strerror(errno)))")
        }
        if (info.st_mode & S_IFMT) != S_IFDIR {
            try set.loadRules(files: [path], parser: parser)
            set.classifications = DefaultClassifications.table
            return set
        }
        let signatures = path + "/signatures"
        var ruleFiles: [String] = []
        if isDirectory(signatures) {
            ruleFiles = try listFiles(signatures, suffix: ".rules")
        }
        ruleFiles += try listFiles(path, suffix: ".rules")
        try set.loadRules(files: ruleFiles, parser: parser)
        for candidate in [path + "/classification.config", signatures + "/classification.config"] where exists(candidate) {
            try set.loadClassifications(file: candidate)
            break
        }
        if set.classifications.isEmpty { set.classifications = DefaultClassifications.table }
        for candidate in [path + "/threshold.config", signatures + "/threshold.config"] where exists(candidate) {
            try set.loadThresholds(file: candidate, variables: variables)
            break
        }
        return set
    }

    /// Reads `files` in order, parses them in parallel (the parser is a pure function of a
    /// file's text: ET Open's 57 files parse in about half the time on two cores), and appends
    /// their rules and errors in file order, so the result does not depend on the cores.
    mutating func loadRules(files: [String], parser: RuleParser) throws(RuleLoadError) {
        var read: [(file: String, text: String)] = []
        for file in files { read.append((file, try RuleSet.read(file))) }
        let texts = read
        self.files += files
        let parsed = ParsedFiles(count: texts.count)
        DispatchQueue.concurrentPerform(iterations: texts.count) { i in
            parsed.set(i, parser.parseFile(texts[i].text, file: texts[i].file))
        }
        for (rules, errors) in parsed.results {
            self.rules += rules
            self.errors += errors
        }
    }

    /// One slot per file, each set by one parsing task (under a lock: the array is one value)
    /// before `results` is read.
    final class ParsedFiles: @unchecked Sendable {
        private(set) var results: [(rules: [Rule], errors: [RuleError])]
        private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

        init(count: Int) {
            results = Array(repeating: ([], []), count: count)
            pthread_mutex_init(lock, nil)
        }

        deinit {
            pthread_mutex_destroy(lock)
            lock.deallocate()
        }

        func set(_ i: Int, _ value: (rules: [Rule], errors: [RuleError])) {
            pthread_mutex_lock(lock)
            results[i] = value
            pthread_mutex_unlock(lock)
        }
    }

    /// `config classification: shortname,Description,priority`
    public mutating func loadClassifications(file: String) throws(RuleLoadError) {
        for (lineNumber, t) in try contentLines(file) {
            guard t.hasPrefix("config classification:") else {
                errors.append(RuleError(file: file, line: lineNumber, column: 1, keyword: nil, message: "expected 'config classification: name,description,priority'"))
                continue
            }
            let fields = t.dropFirst("config classification:".count).split(separator: ",", omittingEmptySubsequences: false).map { String($0.trimmingSpaces) }
            guard fields.count == 3, !fields[0].isEmpty, let priority = Int(fields[2]) else {
                errors.append(RuleError(file: file, line: lineNumber, column: 1, keyword: nil, message: "expected 'config classification: name,description,priority'"))
                continue
            }
            classifications[fields[0]] = Classification(name: fields[0], description: fields[1], priority: priority)
        }
    }

    /// Suricata's threshold.config: `threshold|event_filter gen_id G, sig_id S, type T, track X,
    /// count N, seconds S` and `suppress gen_id G, sig_id S[, track by_src|by_dst, ip ADDR]`.
    public mutating func loadThresholds(file: String, variables: RuleVariables) throws(RuleLoadError) {
        for (lineNumber, t) in try contentLines(file) {
            func bad(_ message: String) {
                errors.append(RuleError(file: file, line: lineNumber, column: 1, keyword: nil, message: message))
            }
            guard let space = t.firstIndex(of: " ") else { bad("expected threshold, event_filter, suppress or rate_filter"); continue }
            let kind = String(t[..<space])
            var gid: UInt32 = 1, sid: UInt32? = nil
            var rest: [String] = []
            var track: ThresholdSpec.Track? = nil
            var ip: String? = nil
            for part in t[space...].split(separator: ",") {
                let words = part.split(separator: " ")
                guard words.count == 2 else { rest.append(String(part.trimmingSpaces)); continue }
                switch words[0] {
                case "gen_id": gid = UInt32(words[1]) ?? 1
                case "sig_id": sid = UInt32(words[1])
                case "ip": ip = String(words[1])
                case "track" where kind == "suppress": track = ThresholdSpec.Track(rawValue: String(words[1]))
                default: rest.append(String(part.trimmingSpaces))
                }
            }
            guard let sid else { bad("missing or invalid sig_id"); continue }
            switch kind {
            case "suppress":
                var addresses: AddressMatcher? = nil
                if let ip {
                    do { addresses = try variables.address(Substring(ip)) } catch { bad("invalid ip '\(ip)'"); continue }
                }
                thresholds.append(.suppress(gid: gid, sid: sid, track: track, addresses: addresses))
            case "threshold", "event_filter":
                switch ThresholdSpec.parse(rest.joined(separator: ","), detectionFilter: false) {
                case .failure(let m): bad(m.text)
                case .success(let spec): thresholds.append(.threshold(gid: gid, sid: sid, spec))
                }
            case "rate_filter":
                bad("rate_filter is not supported (it changes actions inline)")
            default:
                bad("unknown entry '\(kind)'")
            }
        }
    }

    /// The non-blank, non-comment lines of a configuration file with their line numbers.
    mutating func contentLines(_ file: String) throws(RuleLoadError) -> [(Int, Substring)] {
        let text = try RuleSet.read(file)
        files.append(file)
        var out: [(Int, Substring)] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let t = line.trimmingSpaces
            if !t.isEmpty && !t.hasPrefix("#") { out.append((index + 1, t)) }
        }
        return out
    }

    static func read(_ path: String) throws(RuleLoadError) -> String {
        do {
            return try readTextFile(path)
        } catch {
            throw RuleLoadError(description: "\(path): \(error.description)")
        }
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Regular files in `dir` ending in `suffix`, sorted by name (load order is stable).
    static func listFiles(_ dir: String, suffix: String) throws(RuleLoadError) -> [String] {
        guard let d = opendir(dir) else {
            throw RuleLoadError(description: "\(dir): cannot list: \(String(cString: strerror(errno)))")
        }
        defer { closedir(d) }
        var names: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name.hasSuffix(suffix) && !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted().map { dir + "/" + $0 }.filter { !isDirectory($0) }
    }
}

public struct RuleLoadError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
