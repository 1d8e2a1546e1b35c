import HNDecode

/// The inspection buffers of one application-layer event and their bytes, in a single heap
/// block: a table of (buffer, offset, length) followed by the bytes. Parsers assemble it in a
/// reused `BufferBlock.Builder`, so an event costs one allocation however many buffers it
/// carries (an HTTP request head has about twenty). Immutable once built; views into it stay
/// valid while any copy of the block lives.
public struct BufferBlock: Sequence, ExpressibleByArrayLiteral, @unchecked Sendable {
    /// The number of table entries (the bytes follow the table).
    public struct Header {
        public var entries: Int
    }

    @usableFromInline
    final class Storage: ManagedBuffer<Header, UInt8> {}

    /// Bytes of one table entry: buffer slot, offset and length, 32 bits each.
    @usableFromInline static let entrySize = 12

    @usableFromInline let storage: Storage?

    init(storage: Storage?) { self.storage = storage }

    /// No buffers.
    public static let empty = BufferBlock(storage: nil)

    /// A block from whole arrays (tests, rarely used paths).
    public init(arrayLiteral elements: (InspectionBuffer, [UInt8])...) { self.init(elements) }

    /// A block from whole arrays.
    public init(_ elements: [(InspectionBuffer, [UInt8])]) {
        var b = Builder()
        for (buffer, bytes) in elements { b.add(buffer, bytes) }
        self = b.build()
    }

    public var isEmpty: Bool { storage == nil }

    /// Number of buffers.
    public var count: Int { storage?.header.entries ?? 0 }

    /// The buffer at `index` (in the order added) and a view of its bytes.
    @inlinable
    public subscript(index: Int) -> (InspectionBuffer, ByteView) {
        let storage = storage!
        precondition(index >= 0 && index < storage.header.entries)
        let entries = storage.header.entries
        return storage.withUnsafeMutablePointerToElements { base in
            let raw = UnsafeRawPointer(base)
            let at = index * BufferBlock.entrySize
            let slot = raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)
            let offset = Int(raw.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self))
            let length = Int(raw.loadUnaligned(fromByteOffset: at + 8, as: UInt32.self))
            let data = raw + entries * BufferBlock.entrySize + offset
            return (InspectionBuffer(slot: Int(slot)), ByteView(base: data, count: length))
        }
    }

    /// The bytes of `buffer`, if the block has it (the first, if added twice).
    public func view(_ buffer: InspectionBuffer) -> ByteView? {
        for i in 0..<count {
            let (b, v) = self[i]
            if b == buffer { return v }
        }
        return nil
    }

    public struct Iterator: IteratorProtocol {
        let block: BufferBlock
        var index = 0
        public mutating func next() -> (InspectionBuffer, ByteView)? {
            guard index < block.count else { return nil }
            index += 1
            return block[index - 1]
        }
    }

    public func makeIterator() -> Iterator { Iterator(block: self) }

    /// Assembles a block. Keep one per parser: its arrays keep their capacity between events,
    /// so building allocates only the block itself.
    public struct Builder {
        var table: [(slot: UInt32, offset: UInt32, length: UInt32)] = []
        var bytes: [UInt8] = []
        /// Start of the buffer being written with `begin`/`append`/`end`.
        var open: (buffer: InspectionBuffer, start: Int)? = nil

        public init() {}

        public var isEmpty: Bool { table.isEmpty }

        public mutating func add(_ buffer: InspectionBuffer, _ data: UnsafeRawBufferPointer) {
            begin(buffer)
            append(data)
            end()
        }

        public mutating func add(_ buffer: InspectionBuffer, _ data: ByteView) { add(buffer, data.rawBuffer) }

        public mutating func add(_ buffer: InspectionBuffer, _ data: [UInt8]) {
            data.withUnsafeBytes { add(buffer, $0) }
        }

        /// A buffer holding a string's UTF-8 bytes (hashes, fingerprints).
        public mutating func add(_ buffer: InspectionBuffer, _ text: String) {
            var text = text
            text.withUTF8 { add(buffer, UnsafeRawBufferPointer($0)) }
        }

        /// `buffer` holds the same bytes as the buffer added last (`http.response_body` and
        /// `file.data`): one copy of them in the block.
        public mutating func alias(_ buffer: InspectionBuffer) {
            precondition(open == nil, "a buffer is open")
            guard let last = table.last else { return }
            table.append((UInt32(truncatingIfNeeded: buffer.slot), last.offset, last.length))
        }

        /// Starts a buffer whose bytes follow in `append` calls.
        public mutating func begin(_ buffer: InspectionBuffer) {
            precondition(open == nil, "a buffer is already open")
            open = (buffer, bytes.count)
        }

        public mutating func append(_ data: UnsafeRawBufferPointer) {
            if data.count > 0 { bytes.append(contentsOf: data) }
        }

        public mutating func append(_ byte: UInt8) { bytes.append(byte) }

        /// The bytes written since `begin`.
        public var current: ArraySlice<UInt8> { bytes[(open?.start ?? bytes.count)...] }

        /// Lower-cases ASCII letters written since `begin`.
        public mutating func lowercaseCurrent() {
            guard let open else { return }
            for i in open.start..<bytes.count { bytes[i] = bytes[i].asciiLowercased }
        }

        /// Drops bytes written since `begin` beyond the first `length`.
        public mutating func truncateCurrent(to length: Int) {
            guard let open else { return }
            let end = open.start + Swift.max(0, length)
            if end < bytes.count { bytes.removeSubrange(end...) }
        }

        public mutating func end() {
            guard let o = open else { preconditionFailure("no buffer is open") }
            table.append((UInt32(truncatingIfNeeded: o.buffer.slot), UInt32(o.start), UInt32(bytes.count - o.start)))
            open = nil
        }

        /// The block (one allocation; none when nothing was added). The builder is empty
        /// again afterwards, with its capacity kept.
        public mutating func build() -> BufferBlock {
            precondition(open == nil, "a buffer is still open")
            defer {
                table.removeAll(keepingCapacity: true)
                bytes.removeAll(keepingCapacity: true)
            }
            guard !table.isEmpty else { return .empty }
            let tableBytes = table.count * BufferBlock.entrySize
            let total = tableBytes + bytes.count
            let storage = unsafeDowncast(Storage.create(minimumCapacity: total) { _ in Header(entries: 0) },
                                         to: Storage.self)
            storage.header = Header(entries: table.count)
            storage.withUnsafeMutablePointerToElements { base in
                let raw = UnsafeMutableRawPointer(base)
                for (i, e) in table.enumerated() {
                    raw.storeBytes(of: e.slot, toByteOffset: i * BufferBlock.entrySize, as: UInt32.self)
                    raw.storeBytes(of: e.offset, toByteOffset: i * BufferBlock.entrySize + 4, as: UInt32.self)
                    raw.storeBytes(of: e.length, toByteOffset: i * BufferBlock.entrySize + 8, as: UInt32.self)
                }
                bytes.withUnsafeBytes { b in
                    if b.count > 0 { (raw + tableBytes).copyMemory(from: b.baseAddress!, byteCount: b.count) }
                }
            }
            return BufferBlock(storage: storage)
        }
    }
}

extension InspectionBuffers {
    /// Registers every buffer of a block.
    public mutating func set(_ block: BufferBlock) {
        for i in 0..<block.count {
            let (buffer, view) = block[i]
            set(buffer, view)
        }
    }
}

/// Working memory the parsers of one pipeline share (they all run on its thread): the block
/// builder and the HTTP head scratch. Shared so a flow's parser holds no buffers of its own
/// between packets.
final class ParserScratch {
    /// Whether HTTP bodies are kept for inspection (`http.request_body`, `http.response_body`,
    /// `file.data`); off when no rule reads them: their lengths are still counted.
    var keepBodies = true
    /// Whether SSH records wait for both KEXINITs to carry HASSH (Suricata turns HASSH on
    /// when a rule reads it); otherwise a record is logged once both banners are seen.
    var hassh = true
    /// HTTP records list every request / response header (EVE's `dump-all-headers`).
    var httpRequestHeaders = false
    var httpResponseHeaders = false
    /// TLS records with exactly these fields (EVE's `custom:` list); nil: the default set.
    var tlsCustom: Set<String>? = nil
    var builder = BufferBlock.Builder()
    var fields: [HTTPParser.Field] = []
    var pieces: [Range<Int>] = []
    var hello = TLSParser.HelloLists()
}
