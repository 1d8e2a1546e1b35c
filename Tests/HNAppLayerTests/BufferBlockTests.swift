import Testing
@testable import HNAppLayer

@Suite struct BufferBlockTests {
    @Test func buffersKeepTheirOrderBytesAndEmptyEntries() {
        var b = BufferBlock.Builder()
        b.add(.httpMethod, Array("GET".utf8))
        b.add(.httpProtocol, [])
        b.begin(.httpHost)
        b.append(UInt8(ascii: "h"))
        b.end()
        let block = b.build()
        #expect(block.count == 3)
        #expect(string(block.view(.httpHost)) == "h")
        #expect(block.map(\.0) == [.httpMethod, .httpProtocol, .httpHost])
        #expect(string(block.view(.httpMethod)) == "GET")
        #expect(block.view(.httpProtocol)?.count == 0)
        #expect(block.view(.httpURI) == nil)
    }

    @Test func editingTheOpenBufferLowercasesAndTruncates() {
        var b = BufferBlock.Builder()
        b.add(.httpMethod, Array("POST".utf8))
        b.begin(.httpHost)
        Array("Portal.HealthNet.LU..".utf8).withUnsafeBytes { b.append($0) }
        while b.current.last == UInt8(ascii: ".") { b.truncateCurrent(to: b.current.count - 1) }
        b.lowercaseCurrent()
        b.end()
        let block = b.build()
        #expect(string(block.view(.httpHost)) == "portal.healthnet.lu")
        #expect(string(block.view(.httpMethod)) == "POST")
    }

    @Test func theBuilderIsReusableAndBlocksStayIndependent() {
        var b = BufferBlock.Builder()
        b.add(.dnsQuery, Array("first.example".utf8))
        let one = b.build()
        #expect(b.isEmpty)
        b.add(.dnsQuery, Array("second".utf8))
        let two = b.build()
        #expect(string(one.view(.dnsQuery)) == "first.example")
        #expect(string(two.view(.dnsQuery)) == "second")
        #expect(two.count == 1)
        #expect(b.build().isEmpty)
    }

    @Test func inspectionBuffersTakeEveryBufferOfABlock() {
        let block: BufferBlock = [(.tlsSNI, Array("a.lu".utf8)), (.ja3Hash, Array("00ff".utf8))]
        var buffers = InspectionBuffers()
        buffers.set(block)
        #expect(string(buffers.get(.tlsSNI)) == "a.lu")
        #expect(string(buffers.get(.ja3Hash)) == "00ff")
        #expect(buffers.get(.httpURI) == nil)
    }
}
