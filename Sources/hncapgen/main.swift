import HNCapGen
#if canImport(Glibc)
import Glibc
#endif

/// hncapgen: writes the project's labelled captures.
///   hncapgen [--out DIR] [SCENARIO...]     scenario captures and their .labels.json
///   hncapgen bench --size MB --out FILE    a large benchmark capture
///   hncapgen bulk --size MB --out FILE     long TLS and HTTP downloads (steady-state cost)
///   hncapgen mix --size MB --out FILE      an enterprise mix: HTTP with bodies, TLS, SSH, DNS, ICMP
///   hncapgen indicators --count N --out F  a Zeek Intel file of N generated indicators
///   hncapgen flows --count N --out F       a capture of N TCP connections open at once
///   hncapgen downloads --count N --megabytes M --out F|-
///                                          N HTTP downloads of M MB each at once, streamed
func fail(_ message: String) -> Never {
    let line = Array("hncapgen: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

func writeFile(_ path: String, _ bytes: [UInt8]) {
    guard let f = fopen(path, "wb") else { fail("\(path): cannot create") }
    if !bytes.isEmpty && fwrite(bytes, 1, bytes.count, f) != bytes.count { fail("\(path): write failed") }
    fclose(f)
}

var args = Array(CommandLine.arguments.dropFirst())
if args.first == "bench" || args.first == "bulk" || args.first == "mix" {
    let kind = args.removeFirst()
    var size = 300, out: String? = nil
    while !args.isEmpty {
        let a = args.removeFirst()
        switch a {
        case "--size": guard let v = args.first.flatMap({ Int($0) }), v > 0 else { fail("--size takes megabytes") }; size = v; args.removeFirst()
        case "--out": guard let v = args.first else { fail("--out takes a file") }; out = v; args.removeFirst()
        default: fail("unknown argument '\(a)'")
        }
    }
    guard let out else { fail("\(kind) needs --out FILE") }
    guard let f = fopen(out + ".tmp", "wb") else { fail("\(out): cannot create") }
    let sink: ([UInt8]) -> Void = { bytes in _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) } }
    let result = kind == "bulk" ? BulkCapture.write(targetBytes: size << 20, sink: sink)
        : kind == "mix" ? MixCapture.write(targetBytes: size << 20, sink: sink) : BenchCapture.write(targetBytes: size << 20, sink: sink)
    fclose(f)
    rename(out + ".tmp", out)
    print("\(out): \(result.packets) packets, \(result.flows) flows")
    exit(0)
}

/// `--count N --out FILE` of the generated-text subcommands.
func countAndOut(_ args: inout [String], defaultCount: Int, command: String) -> (Int, String) {
    var count = defaultCount, out: String? = nil
    while !args.isEmpty {
        let a = args.removeFirst()
        switch a {
        case "--count": guard let v = args.first.flatMap({ Int($0) }), v > 0 else { fail("--count takes a number") }; count = v; args.removeFirst()
        case "--out": guard let v = args.first else { fail("--out takes a file") }; out = v; args.removeFirst()
        default: fail("unknown argument '\(a)'")
        }
    }
    guard let out else { fail("\(command) needs --out FILE") }
    return (count, out)
}

if args.first == "rules" {
    args.removeFirst()
    let (count, out) = countAndOut(&args, defaultCount: 2000, command: "rules")
    writeFile(out, Array(BenchRules.text(count: count).utf8))
    print("\(out): \(count) rules")
    exit(0)
}

if args.first == "downloads" {
    args.removeFirst()
    var count = 1000, megabytes = 50, out: String? = nil
    while !args.isEmpty {
        let a = args.removeFirst()
        switch a {
        case "--count": guard let v = args.first.flatMap({ Int($0) }), v > 0 else { fail("--count takes a number") }; count = v; args.removeFirst()
        case "--megabytes": guard let v = args.first.flatMap({ Int($0) }), v > 0 else { fail("--megabytes takes a number") }; megabytes = v; args.removeFirst()
        case "--out": guard let v = args.first else { fail("--out takes a file") }; out = v; args.removeFirst()
        default: fail("unknown argument '\(a)'")
        }
    }
    guard let out else { fail("downloads needs --out FILE (- for standard output)") }
    guard let file = out == "-" ? fdopen(1, "wb") : fopen(out, "wb") else { fail("\(out): cannot create") }
    let result = Downloads.write(count: count, bytesEach: megabytes << 20) { chunk in
        _ = chunk.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    }
    fflush(file)
    if out != "-" {
        fclose(file)
        print("\(out): \(result.flows) downloads of \(megabytes) MB at once, \(result.packets) packets")
    }
    exit(0)
}

if args.first == "flows" {
    args.removeFirst()
    let (count, out) = countAndOut(&args, defaultCount: 1_000_000, command: "flows")
    guard let file = fopen(out, "wb") else { fail("\(out): cannot create") }
    let packets = BenchFlows.write(count: count) { chunk in _ = chunk.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) } }
    fclose(file)
    print("\(out): \(count) concurrent TCP flows, \(packets) packets")
    exit(0)
}

if args.first == "indicators" {
    args.removeFirst()
    let (count, out) = countAndOut(&args, defaultCount: 1_000_000, command: "indicators")
    writeFile(out, Array(BenchIndicators.text(count: count).utf8))
    print("\(out): \(count) indicators")
    exit(0)
}

var outDir = "Captures"
var names: [String] = []
while !args.isEmpty {
    let a = args.removeFirst()
    if a == "--out" {
        guard let v = args.first else { fail("--out takes a folder") }
        outDir = v
        args.removeFirst()
    } else if a.hasPrefix("-") {
        fail("unknown option '\(a)'")
    } else {
        names.append(a)
    }
}
if names.isEmpty { names = Scenarios.all.keys.sorted() }
for name in names {
    guard let make = Scenarios.all[name] else { fail("unknown scenario '\(name)' (known: \(Scenarios.all.keys.sorted().joined(separator: ", ")))") }
    let s = make()
    writeFile("\(outDir)/\(name).pcap", s.capture())
    writeFile("\(outDir)/\(name).labels.json", Array(s.labelsJSON().utf8))
    print("\(outDir)/\(name).pcap: \(s.frameCount) packets, \(s.labels.count) flows")
}
