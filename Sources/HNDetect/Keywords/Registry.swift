import HNAppLayer

/// A rule keyword: the names rules write it with, and what its argument does to the rule being
/// built (its parser, with a precise error). Matching stays in the engine's enum dispatch, which
/// the keyword's option compiles to.
struct Keyword: Sendable {
    let names: [String]
    let apply: @Sendable (inout Builder, String, String?) -> OptionProblem?
}

extension Builder {
    /// Every keyword in one table: adding a keyword touches its own file and this list only.
    /// Buffer names (sticky buffers and content modifiers), `dotprefix`, and the ignored and
    /// unsupported names are resolved in `apply` after the table.
    static let keywords: [Keyword] = [
        Keyword(names: ["msg"]) { $0.applyMsg($1, $2) },
        Keyword(names: ["sid"]) { $0.applySid($1, $2) },
        Keyword(names: ["rev"]) { $0.applyRev($1, $2) },
        Keyword(names: ["gid"]) { $0.applyGid($1, $2) },
        Keyword(names: ["classtype"]) { $0.applyClasstype($1, $2) },
        Keyword(names: ["priority"]) { $0.applyPriority($1, $2) },
        Keyword(names: ["reference"]) { $0.applyReference($1, $2) },
        Keyword(names: ["metadata"]) { $0.applyMetadata($1, $2) },
        Keyword(names: ["target"]) { $0.applyTarget($1, $2) },
        Keyword(names: ["noalert"]) { $0.applyNoalert($1, $2) },
        Keyword(names: ["content", "uricontent"]) { $0.applyContent($1, $2) },
        Keyword(names: ["nocase"]) { $0.applyNocase($1, $2) },
        Keyword(names: ["depth", "offset", "distance", "within"]) { $0.applyDepth($1, $2) },
        Keyword(names: ["startswith"]) { $0.applyStartswith($1, $2) },
        Keyword(names: ["endswith"]) { $0.applyEndswith($1, $2) },
        Keyword(names: ["fast_pattern"]) { $0.applyFastPattern($1, $2) },
        Keyword(names: ["pcre"]) { $0.applyPcre($1, $2) },
        Keyword(names: ["isdataat"]) { $0.applyIsdataat($1, $2) },
        Keyword(names: ["bsize"]) { $0.applyBsize($1, $2) },
        Keyword(names: ["urilen"]) { $0.applyUrilen($1, $2) },
        Keyword(names: ["byte_test"]) { $0.applyByteTest($1, $2) },
        Keyword(names: ["byte_jump"]) { $0.applyByteJump($1, $2) },
        Keyword(names: ["dsize"]) { $0.applyDsize($1, $2) },
        Keyword(names: ["flags"]) { $0.applyFlags($1, $2) },
        Keyword(names: ["ttl"]) { $0.applyTtl($1, $2) },
        Keyword(names: ["itype", "icode"]) { $0.applyItype($1, $2) },
        Keyword(names: ["ip_proto"]) { $0.applyIpProto($1, $2) },
        Keyword(names: ["window"]) { $0.applyWindow($1, $2) },
        Keyword(names: ["seq", "ack"]) { $0.applySeq($1, $2) },
        Keyword(names: ["id"]) { $0.applyId($1, $2) },
        Keyword(names: ["icmp_id", "icmp_seq"]) { $0.applyIcmpId($1, $2) },
        Keyword(names: ["sameip"]) { $0.applySameip($1, $2) },
        Keyword(names: ["fragbits"]) { $0.applyFragbits($1, $2) },
        Keyword(names: ["flow"]) { $0.applyFlow($1, $2) },
        Keyword(names: ["flowbits"]) { $0.applyFlowbits($1, $2) },
        Keyword(names: ["xbits"]) { $0.applyXbits($1, $2) },
        Keyword(names: ["flowint"]) { $0.applyFlowint($1, $2) },
        Keyword(names: ["threshold", "detection_filter"]) { $0.applyThreshold($1, $2) },
        Keyword(names: ["tls.version"]) { $0.applyTlsVersion($1, $2) },
        Keyword(names: ["ssl_version"]) { $0.applySslVersion($1, $2) },
        Keyword(names: ["ssl_state"]) { $0.applySslState($1, $2) },
        Keyword(names: ["tls.cert_expired", "tls_cert_expired"]) { $0.applyTlsCertExpired($1, $2) },
        Keyword(names: ["tls.cert_valid", "tls_cert_valid"]) { $0.applyTlsCertValid($1, $2) },
        Keyword(names: ["app-layer-protocol"]) { $0.applyAppLayerProtocol($1, $2) },
    ]

    static let keywordsByName: [String: Keyword] = {
        var out: [String: Keyword] = [:]
        for k in keywords { for n in k.names { out[n] = k } }
        return out
    }()
}
