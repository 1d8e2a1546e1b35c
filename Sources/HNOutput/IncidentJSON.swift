import HNCorrelate

/// The incident object shared by the EVE `incident` record and `incidents list --format
/// json`: id, title, priority ("P1".."P4"), priority_reason, status, classification
/// {taxonomy, type} (RSIT as IntelMQ spells it), first_seen, last_seen (ISO 8601), sources,
/// targets, segments, constituents, alert_count, event_count, reportable.
public enum IncidentJSON {
    /// - sensors: the names of the sensors whose alerts the incident holds, when the store
    ///   was asked (the CLI and the API; EVE records leave it out).
    public static func write(_ i: Incident, into json: inout JSONWriter, key: String? = nil, sensors: [String]? = nil) {
        json.beginObject(key)
        json.field("id", Int(i.id))
        json.field("title", i.title)
        json.field("priority", i.priorityName)
        json.field("priority_reason", i.priorityReason)
        json.field("status", i.status.rawValue)
        json.beginObject("classification")
        json.field("taxonomy", i.taxonomy)
        json.field("type", i.type)
        json.endObject()
        json.field("first_seen", EVETime.format(i.firstSeen))
        json.field("last_seen", EVETime.format(i.lastSeen))
        strings("sources", i.sources, &json)
        strings("targets", i.targets, &json)
        strings("segments", i.segments, &json)
        strings("constituents", i.constituents, &json)
        if let sensors { strings("sensors", sensors, &json) }
        json.field("alert_count", i.alertCount)
        json.field("event_count", i.eventCount)
        json.field("severity", i.severity)
        json.field("patient_care", i.patientCare)
        json.field("reportable", i.reportable)
        if let d = i.reportDeadline { json.field("report_deadline", EVETime.format(d)) }
        if let r = i.reportedAt { json.field("reported_at", EVETime.format(r)) }
        if let a = i.assignee { json.field("assignee", a) }
        if !i.related.isEmpty {
            json.beginArray("related")
            for r in i.related { json.number(Int(r)) }
            json.endArray()
        }
        json.field("rule", i.ruleID)
        json.endObject()
    }

    static func strings(_ key: String, _ values: [String], _ json: inout JSONWriter) {
        json.beginArray(key)
        for v in values { json.string(v) }
        json.endArray()
    }

    /// A JSON array of incidents, one per line inside the brackets.
    public static func array(_ incidents: [Incident], sensors: [Int64: [String]]? = nil) -> String {
        var json = JSONWriter()
        var out = "["
        for (n, i) in incidents.enumerated() {
            json.clear()
            write(i, into: &json, sensors: sensors.map { $0[i.id] ?? [] })
            out += (n == 0 ? "\n" : ",\n") + String(decoding: json.bytes, as: UTF8.self)
        }
        return out + (incidents.isEmpty ? "]" : "\n]")
    }

    public static func object(_ i: Incident) -> String {
        var json = JSONWriter()
        write(i, into: &json)
        return String(decoding: json.bytes, as: UTF8.self)
    }
}

extension EVEWriter {
    /// An `event_type: incident` record (hnsensor's addition to EVE), written once the
    /// incident's change is committed to the store.
    public func writeIncident(_ i: Incident) throws(OutputFile.Failure) {
        header(i.lastSeen, type: "incident", flowID: nil, segment: nil)
        IncidentJSON.write(i, into: &json, key: "incident")
        try finish(type: "incident")
    }

    /// An `event_type: security_event` record: alerts grouped by source, destination and
    /// signature.
    public func writeSecurityEvent(_ e: SecurityEvent) throws(OutputFile.Failure) {
        header(e.lastSeen, type: "security_event", flowID: nil, segment: nil)
        json.field("src_ip", e.source.description)
        json.field("dest_ip", e.destination.description)
        json.beginObject("security_event")
        json.field("id", Int(e.id))
        json.field("gid", Int(e.gid))
        json.field("signature_id", Int(e.sid))
        json.field("signature", e.signature)
        json.field("classtype", e.classtype)
        json.field("severity", e.severity)
        json.field("origin", e.origin)
        json.field("first_seen", EVETime.format(e.firstSeen))
        json.field("last_seen", EVETime.format(e.lastSeen))
        json.field("alert_count", e.alertCount)
        json.endObject()
        try finish(type: "security_event")
    }
}
