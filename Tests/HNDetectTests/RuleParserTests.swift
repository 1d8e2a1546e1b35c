import Testing
@testable import HNDecode
@testable import HNDetect

@Suite struct RuleParserTests {
    @Test func headerAndMetadataAreRead() throws {
        let r = try parseRule(#"drop tcp $EXTERNAL_NET any -> $HOME_NET [80,443] (msg:"A \"quoted\" message"; sid:42; rev:3; gid:1; classtype:web-application-attack; priority:2; reference:url,example.org; metadata:created_at 2024_01_01, deployment Perimeter; target:dest_ip;)"#)
        #expect(r.action == .drop)
        #expect(r.proto.ipProto == 6)
        #expect(r.message == #"A "quoted" message"#)
        #expect(r.sid == 42 && r.rev == 3 && r.priority == 2)
        #expect(r.classtype == "web-application-attack")
        #expect(r.metadata.map(\.0) == ["created_at", "deployment"])
        #expect(r.target == "dest_ip")
        #expect(r.destinationPorts.matches(443) && !r.destinationPorts.matches(8080))
        #expect(r.destination.matches(IPAddress("10.1.2.3")!))
        #expect(!r.source.matches(IPAddress("10.1.2.3")!) && r.source.matches(IPAddress("8.8.8.8")!))
    }

    @Test func contentHexAndEscapesDecode() throws {
        let r = try parseRule(#"alert tcp any any -> any any (content:"A|0d 0A|B\;C\"\\"; sid:1;)"#)
        guard case .content(let c) = r.buffers[0].items[0] else { Issue.record("no content"); return }
        #expect(c.pattern == [0x41, 0x0D, 0x0A, 0x42, 0x3B, 0x43, 0x22, 0x5C])
    }

    @Test func addressAndPortExpressions() throws {
        let r = try parseRule("alert udp [10.0.0.0/8,!10.1.0.0/16] !53 <> [2001:db8::1-2001:db8::ff,192.0.2.1] 1024: (sid:1;)")
        #expect(r.bidirectional)
        #expect(r.source.matches(IPAddress("10.2.0.1")!) && !r.source.matches(IPAddress("10.1.0.1")!))
        #expect(!r.sourcePorts.matches(53) && r.sourcePorts.matches(54))
        #expect(r.destination.matches(IPAddress("2001:db8::10")!) && !r.destination.matches(IPAddress("2001:db8::100")!))
        #expect(r.destinationPorts.matches(65535) && !r.destinationPorts.matches(1023))
    }

    @Test func legacyModifiersMoveContentIntoTheirBuffer() throws {
        let r = try parseRule(#"alert http any any -> any any (content:"GET"; http_method; content:"/admin"; http_uri; nocase; uricontent:"x"; sid:1;)"#)
        #expect(r.buffers.map(\.buffer) == [.httpMethod, .httpURI])
        #expect(r.buffers[1].items.count == 2)
        #expect(r.proto.appProto == "http")
    }

    @Test func stickyBuffersAndFastPatternChoice() throws {
        let r = try parseRule(#"alert http any any -> any any (http.method; content:"POST"; http.uri; content:"/a"; content:"/login.php"; fast_pattern; bsize:<40; sid:1;)"#)
        #expect(r.fastPattern?.buffer == .httpURI)
        #expect(r.fastPattern?.content.pattern == bytes("/login.php"))
        let longest = try parseRule(#"alert tcp any any -> any any (content:"ab"; content:"abcdef"; content:!"abcdefghij"; sid:2;)"#)
        #expect(longest.fastPattern?.content.pattern == bytes("abcdef"))
    }

    @Test func errorsNameTheColumnAndKeyword() {
        let e = parseError(#"alert tcp any any -> any any (msg:"x"; conten:"abc"; sid:1;)"#)
        #expect(e?.keyword == "conten")
        #expect(e?.column == 40)
        #expect(e?.description == "<rule>:1:40: conten: unknown keyword")
        #expect(parseError(#"alert tcp any any -> any any (msg:"x"; nocase; sid:1;)"#)?.message == "nocase: must follow a content")
        #expect(parseError(#"alert tcp any any -> any any (content:"ab"; within:1; sid:1;)"#) != nil)
        #expect(parseError(#"alert tcp any any -> any any (content:"a"; depth:2; distance:1; sid:1;)"#) != nil)
        #expect(parseError(#"alert tcp any any -> any any (msg:"no sid";)"#)?.message == "missing sid")
        #expect(parseError(#"alert tcp any any any any (sid:1;)"#) != nil)
        #expect(parseError(#"alert foo any any -> any any (sid:1;)"#)?.message.contains("protocol") == true)
        #expect(parseError(#"alert tcp $NOPE any -> any any (sid:1;)"#)?.message == "undefined address variable $NOPE")
        #expect(parseError(#"alert tcp any any -> any any (pcre:"/(/"; sid:1;)"#)?.message.contains("does not compile") == true)
        #expect(parseError(#"alert tcp any any -> any any (content:"|4|"; sid:1;)"#) != nil)
        #expect(parseError(#"alert tcp any any -> any any (content:"abc" sid:1;)"#) != nil)
    }

    @Test func unsupportedKeywordsAreMarkedSo() {
        let e = parseError(#"alert tcp any any -> any any (content:"a"; byte_extract:1,0,x; sid:1;)"#)
        #expect(e?.unsupported == true && e?.keyword == "byte_extract")
    }

    @Test func fileParsingSkipsCommentsAndJoinsContinuations() {
        let text = "# comment\n\nalert tcp any any -> any any (msg:\"a\"; \\\n sid:1;)\nalert tcp any any -> any any (bogus; sid:2;)\n"
        let (rules, errors) = RuleParser().parseFile(text, file: "t.rules")
        #expect(rules.map(\.sid) == [1])
        #expect(errors.count == 1 && errors[0].line == 5)
    }

    @Test func thresholdAndDetectionFilterParse() throws {
        let r = try parseRule("alert tcp any any -> any any (threshold:type both, track by_dst, count 5, seconds 60; sid:1;)")
        #expect(r.threshold == ThresholdSpec(kind: .both, track: .byDestination, count: 5, seconds: 60))
        let d = try parseRule("alert tcp any any -> any any (detection_filter:track by_src, count 3, seconds 10; sid:2;)")
        #expect(d.detectionFilter?.kind == .detectionFilter && d.detectionFilter?.count == 3)
        #expect(parseError("alert tcp any any -> any any (threshold:type sometimes, track by_src, count 1, seconds 1; sid:3;)") != nil)
    }

    @Test func relativeIsdataatFollowsTheBufferOfTheItemBeforeIt() throws {
        // After `uricontent` (the URI buffer), a relative isdataat is about the URI too.
        let rule = try parseRule("alert tcp any any -> any any (uricontent:\"fix\"; isdataat:4,relative; isdataat:10; sid:1;)")
        #expect(rule.buffers.map(\.buffer) == [.httpURI, .payload])
        #expect(rule.buffers[0].items.count == 2 && rule.buffers[1].items.count == 1)
    }
}
