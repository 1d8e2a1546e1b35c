import HNDecode

/// Parses Suricata 7 rule text into `Rule` values. Errors carry file, line, column and the
/// keyword; a failed rule does not stop the others from loading.
public struct RuleParser: Sendable {
    public let variables: RuleVariables

    public init(variables: RuleVariables = RuleVariables()) {
        self.variables = variables
    }

    /// One option of a rule: its keyword, value and the column it starts at.
    struct Option {
        var name: String
        var value: String?
        var column: Int
    }

    /// Parses every rule of a file's text. Comments (`#`) and blank lines are skipped; a line
    /// ending in a backslash continues on the next one.
    public func parseFile(_ text: String, file: String) -> (rules: [Rule], errors: [RuleError]) {
        var rules: [Rule] = [], errors: [RuleError] = []
        var pending = "", pendingLine = 0
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if pending.isEmpty {
                let trimmed = line.trimmingSpaces
                if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                pendingLine = lineNumber
            }
            if line.hasSuffix("\\") {
                pending += line.dropLast()
                continue
            }
            pending += line
            switch parse(pending, file: file, line: pendingLine) {
            case .success(let rule): rules.append(rule)
            case .failure(let error): errors.append(error)
            }
            pending = ""
        }
        if !pending.isEmpty {
            errors.append(RuleError(file: file, line: pendingLine, column: 1, keyword: nil, message: "rule continues past the end of the file"))
        }
        return (rules, errors)
    }

    /// Parses one rule.
    public func parse(_ text: String, file: String = "<rule>", line: Int = 1) -> Result<Rule, RuleError> {
        var rule = Rule()
        rule.file = file
        rule.line = line
        rule.text = text
        func fail(_ column: Int, _ message: String, keyword: String? = nil, unsupported: Bool = false) -> Result<Rule, RuleError> {
            .failure(RuleError(file: file, line: line, column: column, keyword: keyword, message: message, unsupported: unsupported))
        }
        let chars = Array(text)
        guard let open = chars.firstIndex(of: "(") else { return fail(1, "missing '(' before the rule options") }
        guard let close = chars.lastIndex(of: ")"), close > open else { return fail(open + 1, "missing ')' after the rule options") }
        let trailing = String(chars[(close + 1)...]).trimmingSpaces
        guard trailing.isEmpty else { return fail(close + 2, "unexpected text after ')'") }

        // Header: action proto src sport dir dst dport, separated by blanks.
        var words: [(String, Int)] = []
        var i = 0, current = "", start = 0, bracket = 0
        while i < open {
            let c = chars[i]
            if (c == " " || c == "\t") && bracket == 0 {
                if !current.isEmpty { words.append((current, start + 1)); current = "" }
            } else {
                if current.isEmpty { start = i }
                if c == "[" { bracket += 1 } else if c == "]" { bracket -= 1 }
                current.append(c)
            }
            i += 1
        }
        if !current.isEmpty { words.append((current, start + 1)) }
        guard words.count == 7 else { return fail(1, "the rule header needs 7 fields (action protocol source port direction destination port), found \(words.count)") }
        guard let action = RuleAction(rawValue: words[0].0) else { return fail(words[0].1, "unknown action '\(words[0].0)'") }
        rule.action = action
        guard let proto = RuleProtocol.named(words[1].0.lowercased()) else {
            return fail(words[1].1, "unknown or unsupported protocol '\(words[1].0)'", unsupported: true)
        }
        rule.proto = proto
        switch words[4].0 {
        case "->": break
        case "<>": rule.bidirectional = true
        default: return fail(words[4].1, "direction must be '->' or '<>', not '\(words[4].0)'")
        }
        do {
            rule.source = try variables.address(Substring(words[2].0))
            rule.destination = try variables.address(Substring(words[5].0))
        } catch {
            if case .message(let m) = error { return fail(words[2].1, m) }
        }
        do {
            rule.sourcePorts = try variables.ports(Substring(words[3].0))
            rule.destinationPorts = try variables.ports(Substring(words[6].0))
        } catch {
            if case .message(let m) = error { return fail(words[3].1, m) }
        }

        let options: [Option]
        switch splitOptions(chars, from: open + 1, to: close) {
        case .success(let o): options = o
        case .failure(let e): return fail(e.column, e.message)
        }
        var builder = Builder(rule: rule)
        for option in options {
            if let message = builder.apply(option) {
                return fail(option.column, "\(option.name): \(message.text)", keyword: option.name, unsupported: message.unsupported)
            }
        }
        if let message = builder.finish() { return fail(open + 1, message) }
        return .success(builder.rule)
    }

    /// Splits the option text on `;`, honouring quotes and backslash escapes.
    func splitOptions(_ chars: [Character], from: Int, to: Int) -> Result<[Option], FailurePlace> {
        var options: [Option] = []
        var i = from
        while i < to {
            while i < to && (chars[i] == " " || chars[i] == "\t") { i += 1 }
            if i >= to { break }
            let start = i
            var inQuote = false
            var escaped = false
            var text = ""
            while i < to {
                let c = chars[i]
                if escaped { text.append("\\"); text.append(c); escaped = false; i += 1; continue }
                if c == "\\" { escaped = true; i += 1; continue }
                if c == "\"" { inQuote.toggle() }
                if c == ";" && !inQuote { break }
                text.append(c)
                i += 1
            }
            if inQuote { return .failure(FailurePlace(start + 1, "unterminated quoted string")) }
            if i >= to && !text.trimmingSpaces.isEmpty {
                return .failure(FailurePlace(start + 1, "option '\(text.trimmingSpaces)' is not ended by ';'"))
            }
            i += 1  // the ';'
            let trimmed = text.trimmingSpaces
            if trimmed.isEmpty { continue }
            if let colon = trimmed.firstIndex(of: ":") {
                let name = trimmed[..<colon].trimmingSpaces.lowercased()
                let value = String(trimmed[trimmed.index(after: colon)...]).trimmingSpaces
                options.append(Option(name: String(name), value: value, column: start + 1))
            } else {
                options.append(Option(name: trimmed.lowercased(), value: nil, column: start + 1))
            }
        }
        return .success(options)
    }

    struct FailurePlace: Error {
        let column: Int
        let message: String
        init(_ column: Int, _ message: String) { self.column = column; self.message = message }
    }
}

