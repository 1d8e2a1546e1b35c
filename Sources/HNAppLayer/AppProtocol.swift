/// Application protocols by the small number stored in `Flow.appProto` (0 = unknown). The
/// names are Suricata's `app_proto` values.
public enum AppProtocol {
    public static let names: [String] = [
        "", "http", "tls", "dns", "ssh", "smtp", "ftp", "smb", "rdp", "ftp-data", "imap", "pop3", "dcerpc",
        "krb5", "ntp", "dhcp", "snmp", "sip", "tftp", "modbus", "dnp3", "enip", "nfs", "ikev2", "mqtt",
        "rfb", "http2", "telnet", "irc", "quic", "bittorrent-dht", "failed", "ldap",
    ]

    // The ids the parsers set, as constants (a name lookup compares strings).
    public static let http: UInt8 = 1
    public static let tls: UInt8 = 2
    public static let dns: UInt8 = 3
    public static let ssh: UInt8 = 4
    public static let smtp: UInt8 = 5
    public static let ftp: UInt8 = 6
    public static let smb: UInt8 = 7
    public static let rdp: UInt8 = 8
    public static let ftpData: UInt8 = 9
    public static let imap: UInt8 = 10
    public static let pop3: UInt8 = 11
    public static let dhcp: UInt8 = 15
    public static let failed: UInt8 = 31
    public static let ldap: UInt8 = 32

    public static func id(_ name: String) -> UInt8? {
        names.firstIndex(of: name).map { UInt8($0) }
    }

    public static func name(_ id: UInt8) -> String? {
        id == 0 || Int(id) >= names.count ? nil : names[Int(id)]
    }
}
