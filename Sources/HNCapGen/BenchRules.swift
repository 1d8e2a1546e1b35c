/// A deterministic rule set for benchmarks: `count` Suricata-syntax rules shaped like a real
/// set (content with modifiers, pcre, flow, ports, flags, dsize), about one in fifty written to
/// match the benchmark traffic so alerts are produced.
public enum BenchRules {
    static let words = ["admin", "login", "shell", "cmd", "exec", "select", "union", "passwd", "config", "backup",
                        "upload", "wp-", "phpmyadmin", "cgi-bin", "eval", "base64", "jndi", "ldap", "powershell", "wget",
                        "curl", "nc ", "bash", "token", "session", "patient", "dossier", "vpn", "portal", "api"]
    /// Strings that occur in the benchmark capture.
    static let present = ["GET /intranet/index.html", "portal.healthnet.lu", "records.healthnet.lu", "SSH-2.0-OpenSSH_9.6",
                          "Server: Apache", "curve25519-sha256", "HealthNet member services"]

    public static func text(count: Int, seed: UInt64 = 0x2000) -> String {
        var random = SeededRandom(seed: seed)
        var lines = ["# Generated benchmark rule set: \(count) rules (hncapgen rules). Not for production."]
        for i in 0..<count {
            let sid = 8_000_000 + i
            var token = words[random.below(words.count)] + "-" + String(random.next() % 100_000, radix: 36)
            if i % 50 == 0 { token = present[(i / 50) % present.count] }
            let hex = token.utf8.map { b -> String in
                let s = String(b, radix: 16)
                return s.count == 1 ? "0" + s : s
            }
            let escaped = i % 7 == 0 ? "|" + hex.joined(separator: " ") + "|" : token
            switch i % 10 {
            case 0, 1, 2:
                lines.append(#"alert tcp any any -> any $HTTP_PORTS (msg:"BENCH web \#(i)"; flow:established,to_server; content:"\#(escaped)"; nocase; classtype:web-application-attack; sid:\#(sid); rev:1;)"#)
            case 3:
                lines.append(#"alert tcp any any -> any any (msg:"BENCH pcre \#(i)"; flow:established; content:"\#(escaped)"; pcre:"/\#(token.filter { $0.isLetter || $0.isNumber })[a-z0-9]{0,8}/i"; sid:\#(sid); rev:1;)"#)
            case 4:
                lines.append(#"alert tcp any any -> any 443 (msg:"BENCH tls \#(i)"; flow:established,to_server; content:"|16 03|"; depth:2; content:"\#(escaped)"; distance:0; sid:\#(sid); rev:1;)"#)
            case 5:
                lines.append(#"alert udp any any -> any 53 (msg:"BENCH dns \#(i)"; content:"|01 00 00 01|"; offset:2; depth:4; content:"\#(escaped)"; nocase; distance:0; sid:\#(sid); rev:1;)"#)
            case 6:
                lines.append(#"alert tcp any any -> any 22 (msg:"BENCH ssh \#(i)"; flow:established; content:"\#(escaped)"; dsize:>10; sid:\#(sid); rev:1;)"#)
            case 7:
                lines.append(#"alert tcp any any -> any any (msg:"BENCH flags \#(i)"; flags:S; dsize:>0; content:"\#(escaped)"; sid:\#(sid); rev:1;)"#)
            case 8:
                lines.append(#"alert tcp any any -> any any (msg:"BENCH neg \#(i)"; flow:to_client; content:"\#(escaped)"; content:!"\#(words[random.below(words.count)])"; sid:\#(sid); rev:1;)"#)
            default:
                lines.append(#"alert ip any any -> any any (msg:"BENCH ip \#(i)"; content:"\#(escaped)"; depth:400; sid:\#(sid); rev:1;)"#)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
