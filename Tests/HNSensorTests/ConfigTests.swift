import Testing
@testable import HNSensor

@Suite struct ConfigTests {
    func error(_ yaml: String) -> String? {
        do {
            _ = try SensorConfig.parse(yaml, file: "test.yaml")
            return nil
        } catch {
            return error.description
        }
    }

    @Test func emptyFileKeepsTheDefaults() throws {
        let c = try SensorConfig.parse("", file: "empty.yaml")
        #expect(c.flowMemcap == 128 << 20)
        #expect(c.homeNet.count == 3)
    }

    @Test func fullConfigurationIsRead() throws {
        let yaml = """
        sensor: {name: dmz-sensor-1}
        home_net: [10.20.0.0/16, "2001:db8:20::/48"]
        vars:
          address-groups: {DMZ_NET: "[10.20.2.0/24]"}
          port-groups: {HTTP_PORTS: "[80,8080]"}
        segments:
          - {name: dmz, kind: dmz, interface: eth1, bpf: "not port 22", networks: [10.20.2.0/24]}
          - {name: proxy, kind: reverse-proxy, interface: eth2}
        constituents:
          - {name: CHL, type: hospital, networks: [10.20.1.0/24], patient_care: true}
        flow:
          memcap: 256mb
          timeouts: {tcp: {established: 3600}, udp: {new: 10}}
        defrag: {memcap: 8mb, timeout: 30, max_fragments: 64}
        store: {path: /var/lib/hnsensor/store.sqlite}
        eve: {path: /var/log/hnsensor/eve.json}
        rules: {path: /etc/hnsensor/rules}
        """
        let c = try SensorConfig.parse(yaml, file: "full.yaml")
        #expect(c.sensorName == "dmz-sensor-1")
        #expect(c.homeNet.map(\.description) == ["10.20.0.0/16", "2001:db8:20::/48"])
        #expect(c.addressGroups["DMZ_NET"] == "[10.20.2.0/24]")
        #expect(c.segments.map(\.name) == ["dmz", "proxy"])
        #expect(c.segments[1].kind == .reverseProxy)
        #expect(c.constituents.first?.type == .hospital && c.constituents.first?.patientCare == true)
        #expect(c.flowMemcap == 256 << 20)
        #expect(c.flowTimeouts.tcp.established == 3600 && c.flowTimeouts.tcp.new == 60)
        #expect(c.flowTimeouts.udp.new == 10)
        #expect(c.defrag.memcap == 8 << 20 && c.defrag.maxFragments == 64)
        #expect(c.evePath == "/var/log/hnsensor/eve.json")
    }

    @Test func unknownKeyNamesFileLineColumnAndPath() {
        let e = error("flow:\n  memcap: 1mb\n  timeout: 5\n")
        #expect(e?.hasPrefix("test.yaml:3:3: flow.timeout: unknown key") == true, "\(e ?? "no error")")
    }

    @Test func invalidCIDRNamesTheEntry() {
        let e = error("home_net: [10.0.0.0/8, 10.300.0.0/16]\n")
        #expect(e?.hasPrefix("test.yaml:1:24: home_net[1]: invalid CIDR '10.300.0.0/16'") == true, "\(e ?? "no error")")
    }

    @Test func badEnumValuesListTheChoices() {
        #expect(error("segments: [{name: a, kind: wan}]")?.contains("segments[0].kind: unknown kind 'wan'") == true)
        #expect(error("constituents: [{name: a, type: clinic}]")?.contains("constituents[0].type: unknown type 'clinic'") == true)
    }

    @Test func badValuesAreRejected() {
        #expect(error("flow: {memcap: lots}")?.contains("flow.memcap: expected a size") == true)
        #expect(error("flow: {timeouts: {tcp: {new: -1}}}")?.contains("flow.timeouts.tcp.new") == true)
        #expect(error("segments: [{kind: dmz}]")?.contains("segments[0]: missing key 'name'") == true)
        #expect(error("segments: [{name: a}, {name: a}]")?.contains("duplicate segment 'a'") == true)
        #expect(error("constituents: [{name: a, patient_care: maybe}]")?.contains("expected true or false") == true)
    }

    @Test func yamlSyntaxErrorIsOneLineWithPlace() {
        let e = error("flow: {memcap: 1mb\nsensor: x\n")
        #expect(e?.hasPrefix("test.yaml:") == true)
        #expect(e?.contains("\n") == false)
    }

    @Test func missingFileNamesIt() {
        #expect {
            _ = try SensorConfig.load(path: "/nonexistent/hnsensor.yaml")
        } throws: { error in
            "\(error)".hasPrefix("/nonexistent/hnsensor.yaml: cannot open")
        }
    }

    @Test func daemonMetricsCaptureAndPriorityKeysAreRead() throws {
        let c = try SensorConfig.parse("""
            daemon: {user: nobody, group: nogroup, stats_interval: 5s}
            metrics: {listen: "[::1]:9999"}
            capture: {snaplen: 1518, buffer_size: 8mb, promiscuous: false}
            priority: {thresholds: {P1: 10, P2: 7, P3: 4}, report_deadline: 72h}
            retention: {period: 90d}
            correlation: {event_window: 10m}
            """, file: "test.yaml")
        #expect(c.daemonUser == "nobody" && c.daemonGroup == "nogroup")
        #expect(c.statsInterval == 5_000_000_000)
        #expect(c.metricsListen?.description == "[::1]:9999")
        #expect(c.captureSnaplen == 1518 && c.captureBuffer == 8 << 20 && !c.capturePromiscuous)
        #expect(c.priority.thresholds == [10, 7, 4])
        #expect(c.priority.reportDeadline == 72 * 3600 * 1_000_000_000)
        #expect(c.retention == 90 * 86_400 * 1_000_000_000)
        #expect(c.eventWindow == 600_000_000_000)
        #expect(try SensorConfig.parse("metrics: {listen: off}", file: "t").metricsListen == nil)
    }

    @Test func communityIDTakesSuricatasNames() throws {
        let config = try SensorConfig.parse("eve: {community-id: yes, community-id-seed: 7}", file: "test.yaml")
        #expect(config.eve.communityIDSeed == 7)
        #expect(SensorConfig().eve.communityIDSeed == nil)
        #expect(error("eve: {community-id-seed: 70000}") == "test.yaml:1:26: eve.community-id-seed: expected a whole number from 0 to 65535")
    }

    @Test func eveTypesTakeSuricatasListAndOptions() throws {
        let text = """
        eve:
          types:
            - alert: {payload: yes, packet: yes, metadata: no}
            - http: {extended: yes}
            - dns: {version: 2, requests: no, types: [A, mx], formats: [grouped]}
            - flow
            - files
            - tls: {enabled: no}
        """
        let eve = try SensorConfig.parse(text, file: "test.yaml").eve
        #expect(eve.types == ["alert", "http", "dns", "flow", "files"])
        #expect(eve.alertPayload && !eve.alertPayloadPrintable && eve.alertPacket && !eve.alertMetadata)
        #expect(eve.httpExtended && eve.dnsVersion == 2 && !eve.dnsRequests && eve.dnsResponses)
        #expect(eve.dnsTypes == ["a", "mx"] && eve.dnsFormats == ["grouped"])
        #expect(eve.writes("flow") && !eve.writes("tls") && !eve.writes("ssh"))
        #expect(SensorConfig().eve.types == nil && SensorConfig().eve.writes("ssh") && SensorConfig().eve.httpExtended)
        #expect(try !SensorConfig.parse("eve: {types: [http]}", file: "t").eve.httpExtended)
        #expect(error("eve: {types: [flows]}") == "test.yaml:1:15: eve.types[0]: unknown event type 'flows' (hnsensor writes: alert, dns, flow, ftp, http, imap, pop3, rdp, smb, smtp, ssh, stats, tls)")
        #expect(error("eve: {types: [{dns: {version: 4}}]}") == "test.yaml:1:31: eve.types[0].dns.version: expected a whole number from 2 to 3")
        #expect(error("eve: {types: [{http: {dump: all}}]}") == "test.yaml:1:23: eve.types[0].http.dump: unknown key (expected one of: enabled, extended, dump-all-headers)")
        #expect(try SensorConfig.parse("eve: {types: [{smb: {types: [create, file]}}]}", file: "t").eve.smbTypes == ["create", "file"])
        #expect(error("eve: {types: [{smb: {types: [files]}}]}") == "test.yaml:1:29: eve.types[0].smb.types: unknown SMB transaction type 'files' (expected one of negotiate, session_setup, tree_connect, create, file, rename, set_file_path_info, dcerpc, ioctl, generic)")
    }

    @Test func badDaemonKeysNameTheirPlace() {
        #expect(error("metrics: {listen: 0.0.0.0:9480}") == "test.yaml:1:19: metrics.listen: expected a loopback address and port such as 127.0.0.1:9480 or [::1]:9480, or off")
        #expect(error("daemon: {stats_interval: often}") == "test.yaml:1:26: daemon.stats_interval: expected a duration such as 30s, 10m, 2h or 1d")
        #expect(error("capture: {snaplen: 10}") == "test.yaml:1:20: capture.snaplen: expected a number from 64 to 262144")
        #expect(error("daemon: {uid: 0}") == "test.yaml:1:10: daemon.uid: unknown key (expected one of: user, group, stats_interval)")
        #expect(error("priority: {thresholds: {P1: 1, P2: 5}}") == "test.yaml:1:24: priority.thresholds: expected P1 >= P2 >= P3")
        #expect(error("priority: {reportable_priority: urgent}") == "test.yaml:1:33: priority.reportable_priority: expected P1, P2, P3, P4 (or P0 for never)")
    }
}
