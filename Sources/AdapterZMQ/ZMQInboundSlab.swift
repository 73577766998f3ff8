import NIOCore

/// The envelopes one receive burst brings for one lane, copied out of
/// libzmq's messages into one buffer: one allocation per burst instead of one
/// per envelope, freed when the last of its envelopes is released (usually
/// on another thread, where glibc would otherwise take this thread's malloc
/// arena lock once per envelope).
struct ZMQInboundSlab {
    private var bytes: ByteBuffer
    private var ranges: [(start: Int, length: Int)] = []

    private static let minimumCapacity = 4096
    private static let maximumCapacity = 1 << 20

    init(allocator: ByteBufferAllocator) {
        bytes = allocator.buffer(capacity: Self.minimumCapacity)
    }

    var isEmpty: Bool { ranges.isEmpty }

    /// Copies one envelope in.
    mutating func append(_ envelope: UnsafeRawBufferPointer) {
        ranges.append((bytes.writerIndex, envelope.count))
        bytes.writeBytes(envelope)
    }

    /// The envelopes appended since the last call, each a slice of one
    /// buffer; the slab starts a new buffer, as the slices keep this one.
    mutating func take(allocator: ByteBufferAllocator) -> [ByteBuffer] {
        var envelopes: [ByteBuffer] = []
        envelopes.reserveCapacity(ranges.count)
        drain(allocator: allocator) { envelopes.append($0) }
        return envelopes
    }

    /// Hands `body` the envelopes appended since the last call, in order,
    /// each a slice of one buffer, without collecting them in an array.
    mutating func drain(allocator: ByteBufferAllocator, _ body: (consuming ByteBuffer) -> Void) {
        // Slices are made only now: writing to a buffer that slices share would copy it.
        let filled = bytes
        bytes = allocator.buffer(capacity: min(max(filled.writerIndex, Self.minimumCapacity), Self.maximumCapacity))
        for range in ranges { body(filled.getSlice(at: range.start, length: range.length)!) }
        ranges.removeAll(keepingCapacity: true)
    }
}
