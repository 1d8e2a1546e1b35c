/// Application protocols by the small number stored in `Flow.appProto` (0 = unknown). The
/// names are Suricata's `app_proto` values.
public enum AppProtocol {
    public static let names: [String] = [
        "", "http", "tls", "dns", "ssh", "smtp", "ftp", "smb", "rdp", "ftp-data", "imap", "pop3", "dcerpc",
        "krb5", "ntp", "dhcp", "snmp", "sip", "tftp", "modbus", "dnp3", "enip", "nfs", "ikev2", "mqtt",
        "rfb", "http2", "telnet", "irc", "quic", "bittorrent-dht", "failed",
    ]

    public static func id(_ name: String) -> UInt8? {
        names.firstIndex(of: name).map { UInt8($0) }
    }

    public static func name(_ id: UInt8) -> String? {
        id == 0 || Int(id) >= names.count ? nil : names[Int(id)]
    }
}
