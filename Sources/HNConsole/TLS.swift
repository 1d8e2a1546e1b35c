import HummingbirdCore
import HummingbirdTLS

extension TLSFiles {
    /// HTTP/1.1 over TLS 1.2 or later with the PEM certificate chain and key; a file that
    /// cannot be read names itself.
    func serverBuilder() throws -> HTTPServerBuilder {
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(certificate) } catch {
            throw ConsoleStartError("\(certificate): cannot read the TLS certificate: \(error)")
        }
        guard !chain.isEmpty else { throw ConsoleStartError("\(certificate): no certificate in the file") }
        let privateKey: NIOSSLPrivateKey
        do { privateKey = try NIOSSLPrivateKey(file: key, format: .pem) } catch {
            throw ConsoleStartError("\(key): cannot read the TLS key: \(error)")
        }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        tls.minimumTLSVersion = .tlsv12
        return try .tls(.http1(), tlsConfiguration: tls)
    }
}

/// A console that cannot start: one line naming the file or setting.
public struct ConsoleStartError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
