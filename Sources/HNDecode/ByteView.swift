/// A bounds-checked, read-only view over bytes owned by someone else (libpcap's buffer, a
/// reassembly buffer). Every read checks its range and returns nil past the end, so a parser
/// that only reads through a `ByteView` cannot read out of bounds whatever the input says.
///
/// The view does not own or retain its bytes: it is valid only while the owner keeps them
/// (for a captured packet, until the capture source hands out the next packet).
public struct ByteView {
    @usableFromInline let base: UnsafeRawPointer?
    public let count: Int

    @inlinable
    public init(_ buffer: UnsafeRawBufferPointer) {
        self.base = buffer.baseAddress
        self.count = buffer.baseAddress == nil ? 0 : buffer.count
    }

    @inlinable
    public init(base: UnsafeRawPointer?, count: Int) {
        self.base = base
        self.count = base == nil ? 0 : max(0, count)
    }

    public static var empty: ByteView { ByteView(base: nil, count: 0) }

    @inlinable public var isEmpty: Bool { count == 0 }

    /// The byte at `offset`, or nil when `offset` is outside the view.
    @inlinable
    public func u8(_ offset: Int) -> UInt8? {
        guard offset >= 0, offset < count, let base else { return nil }
        return base.load(fromByteOffset: offset, as: UInt8.self)
    }

    /// The big-endian 16-bit value at `offset`, or nil when it does not fit in the view.
    @inlinable
    public func u16(_ offset: Int) -> UInt16? {
        guard offset >= 0, offset <= count &- 2, let base else { return nil }
        return UInt16(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// The little-endian 16-bit value at `offset`, or nil when it does not fit in the view.
    @inlinable
    public func u16le(_ offset: Int) -> UInt16? {
        guard offset >= 0, offset <= count &- 2, let base else { return nil }
        return UInt16(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// The little-endian 32-bit value at `offset`, or nil when it does not fit in the view.
    @inlinable
    public func u32le(_ offset: Int) -> UInt32? {
        guard offset >= 0, offset <= count &- 4, let base else { return nil }
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// The little-endian 64-bit value at `offset`, or nil when it does not fit in the view.
    @inlinable
    public func u64le(_ offset: Int) -> UInt64? {
        guard offset >= 0, offset <= count &- 8, let base else { return nil }
        return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// The big-endian 32-bit value at `offset`, or nil when it does not fit in the view.
    @inlinable
    public func u32(_ offset: Int) -> UInt32? {
        guard offset >= 0, offset <= count &- 4, let base else { return nil }
        return UInt32(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// The 32-bit value at `offset` in the byte order of the machine that wrote it
    /// (BSD loopback headers), or nil when it does not fit.
    @inlinable
    public func u32host(_ offset: Int) -> UInt32? {
        guard offset >= 0, offset <= count &- 4, let base else { return nil }
        return base.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
    }

    /// The big-endian 64-bit value at `offset`, or nil when it does not fit in the view.
    @inlinable
    public func u64(_ offset: Int) -> UInt64? {
        guard offset >= 0, offset <= count &- 8, let base else { return nil }
        return UInt64(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// A sub-view of `length` bytes starting at `offset`, or nil when that range is not
    /// entirely inside this view. Nothing read through the sub-view can go past its end.
    @inlinable
    public func slice(_ offset: Int, _ length: Int) -> ByteView? {
        guard offset >= 0, length >= 0, offset <= count, length <= count &- offset else { return nil }
        return ByteView(base: base.map { $0 + offset }, count: length)
    }

    /// The bytes from `offset` to the end, or nil when `offset` is past the end.
    @inlinable
    public func suffix(from offset: Int) -> ByteView? {
        slice(offset, count &- offset)
    }

    /// The first `length` bytes (all of them when the view is shorter).
    @inlinable
    public func prefix(_ length: Int) -> ByteView {
        ByteView(base: base, count: min(count, max(0, length)))
    }

    /// The raw bytes, for handing to C libraries (Vectorscan, PCRE2) that take a pointer
    /// and a length. The buffer has exactly `count` bytes.
    @inlinable
    public var rawBuffer: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base, count: count)
    }

    /// Copies the bytes into an array. Allocates: for tests and output, never the packet path.
    public func toArray() -> [UInt8] {
        Array(rawBuffer)
    }
}

extension UInt8 {
    /// The byte with ASCII `A`-`Z` lowered to `a`-`z`, any other byte unchanged: how protocol
    /// names, header names and DNS names compare without building a lower-cased string.
    @inlinable public var asciiLowercased: UInt8 { self &- 0x41 < 26 ? self | 0x20 : self }
}
