/// A large Zeek Intel file for benchmarks: addresses, subnets, domains and URLs, from a
/// fixed seed. None of them is an address of the benchmark capture.
public enum BenchIndicators {
    public static func text(count: Int, seed: UInt64 = 0x1D1C) -> String {
        var random = SeededRandom(seed: seed)
        var out = "#separator \\x09\n#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\n"
        out.reserveCapacity(count * 48)
        for i in 0..<count {
            let r = random.next()
            // 100.64.0.0/10 (shared address space) and 2001:db8::/32 keep clear of the capture.
            let a = 64 + Int(r >> 8 & 63), b = Int(r >> 16 & 255), c = Int(r >> 24 & 255), d = Int(r >> 32 & 255)
            switch i % 10 {
            case 0...4: out += "100.\(a).\(b).\(c)\tIntel::ADDR\tbench\tgenerated\n"
            case 5: out += "100.\(a).\(b).0/24\tIntel::SUBNET\tbench\tgenerated\n"
            case 6: out += "2001:db8:\(String(b, radix: 16)):\(String(c, radix: 16))::\(String(d, radix: 16))\tIntel::ADDR\tbench\tgenerated\n"
            case 7, 8: out += "h\(r % 1_000_000_007).bench-\(d).example\tIntel::DOMAIN\tbench\tgenerated\n"
            default: out += "dl\(r % 999_983).bench.example/p/\(c)/\(i).bin\tIntel::URL\tbench\tgenerated\n"
            }
        }
        return out
    }
}
