import HNCapGen
import Testing
@testable import HNAppLayer

@Suite struct SSHParserTests {
    @Test func bannersAndHASSH() {
        var random = SeededRandom(seed: 4)
        let client = Payloads.sshBanner("OpenSSH_9.6") + Payloads.sshKexInit(random: &random, server: false)
        let server = Payloads.sshBanner("OpenSSH_9.2p1 Debian-2") + Payloads.sshKexInit(random: &random, server: true)
        for chunks in splits(client) {
            let p = SSHParser()
            var events: [AppEvent] = []
            feed(chunks) { p.receive($0, toServer: true, events: &events) }
            feed([server]) { p.receive($0, toServer: false, events: &events) }
            #expect(buffer(events, .sshSoftware) == "OpenSSH_9.6")
            #expect(buffer(events, .sshHassh)?.count == 32)
            #expect(p.hassh[0]?.hasPrefix("curve25519-sha256") == true)
            guard case .object(let fields)? = records(events).first else { Issue.record("no ssh record"); return }
            #expect(fields.map(\.0) == ["client", "server"])
        }
    }

    @Test func withoutHASSHTheRecordIsLoggedOnceBothBannersAreSeen() {
        var random = SeededRandom(seed: 4)
        let scratch = ParserScratch()
        scratch.hassh = false
        let p = SSHParser(scratch: scratch)
        var events: [AppEvent] = []
        feed([Payloads.sshBanner("OpenSSH_9.6")]) { p.receive($0, toServer: true, events: &events) }
        #expect(records(events).isEmpty)
        feed([Payloads.sshBanner("OpenSSH_9.2p1")]) { p.receive($0, toServer: false, events: &events) }
        guard case .object(let fields)? = records(events).first else { Issue.record("no ssh record"); return }
        #expect(fields.map(\.0) == ["client", "server"])
        // The key exchange that follows logs nothing more.
        feed([Payloads.sshKexInit(random: &random, server: false)]) { p.receive($0, toServer: true, events: &events) }
        feed([Payloads.sshKexInit(random: &random, server: true)]) { p.receive($0, toServer: false, events: &events) }
        #expect(records(events).count == 1)
    }
}
