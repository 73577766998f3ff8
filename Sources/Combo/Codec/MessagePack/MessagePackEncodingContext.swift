import NIOCore

/// The `Encoder` that `MessagePackEncoder` hands to `encode(to:)`: it streams MessagePack
/// straight into a `ByteBuffer`, without building a tree of intermediate values.
///
/// One instance serves every nesting level of one `encode` call. Codable's containers have no
/// "end" call, so the context keeps a stack of open containers (`frames`). Each open array or map
/// has a 1-byte header reserved in the buffer; the header is patched when the container is known
/// to be complete: when the value that owns it returns from `encode(to:)`, or when an enclosing
/// container is written to again. Containers of at most 15 elements (fixmap/fixarray) therefore
/// never move bytes; larger ones shift their body right by 2 or 4 bytes once, when they are closed.
///
/// A value being encoded occupies a `Slot`: the position right after its map key (or at its array
/// position). The first container (or single value) requested for the value claims the slot.
/// Requesting the same kind of keyed or unkeyed container again for the same value returns the same
/// container, like JSONEncoder (a class's `super.encode(to: encoder)` merges into the subclass's map).
///
/// Writing to a container that was already closed (because a container of an enclosing value was
/// written to in between) is reported as `MessagePackError.encodingFailed` instead of producing
/// corrupt output; synthesized and ordinary hand-written `encode(to:)` implementations never do this.
final class MessagePackEncodingContext: Encoder {
    struct Frame {
        /// Writer index of the reserved 1-byte header.
        var headerIndex: Int
        /// Number of elements (arrays), key/value pairs (maps) or raw bytes (binary candidates).
        var count: Int
        let id: UInt32
        let isMap: Bool
        /// Set when `pendingChild` or `isBinaryCandidate` needs handling before the next write.
        var needsAttention: Bool = false
        /// A `superEncoder()` slot whose key was written but whose value was not yet written (0: none).
        var pendingChild: UInt32 = 0
        /// The body holds raw bytes from `encode(contentsOf:)` of `UInt8`s (for example from
        /// Foundation's `Data`); it is written as bin unless another element is added.
        var isBinaryCandidate: Bool = false
        /// Writer index of the last key written (maps only), for `codingPath`: the key is read back
        /// from the output when a coding path is requested, so that the hot path stores no strings.
        /// The bytes before an open container never move, so the offset stays valid.
        var lastKeyOffset: Int = -1
    }

    struct Slot {
        enum State: Equatable {
            case empty
            /// A single value container was requested but nothing was written yet.
            case singleValue
            case written
            case container(frameID: UInt32)
        }

        /// Index in `frames` of the container holding the value, -1 at the top level.
        let parentIndex: Int
        /// `id` of that container (0 at the top level).
        let parentID: UInt32
        let id: UInt32
        var state: State
    }

    // The hot properties opt out of dynamic exclusivity checks, which otherwise cost about a fifth of
    // the encoding time (`swift_beginAccess` on every write). All accesses are short and never overlap.

    /// The output. Its writer index is only brought up to date (from `position`) when the storage
    /// grows and when encoding ends (`returnBuffer`).
    @exclusivity(unchecked) private var buffer: ByteBuffer
    /// The buffer's (uniquely referenced) storage, written directly: ByteBuffer's own write methods
    /// check capacity, uniqueness and exclusivity on every call, which dominated the encoding time.
    /// The pointer stays valid because `buffer` keeps the storage alive and is not touched
    /// except by `grow`, which refreshes it.
    @exclusivity(unchecked) private var base: UnsafeMutableRawPointer
    /// Capacity of the storage, in the buffer's index space.
    @exclusivity(unchecked) private var capacity: Int
    /// The writer position, in the buffer's index space.
    @exclusivity(unchecked) private(set) var position: Int
    /// Writer index of the buffer when encoding started, restored on failure.
    private var start: Int
    @exclusivity(unchecked) private(set) var frames = MessagePackStack<Frame>()
    /// The slot of the value whose `encode(to:)` is running with this context as its encoder.
    @exclusivity(unchecked) var slot: Slot
    /// An error from a non-throwing Codable API (`container(keyedBy:)` and friends); thrown at the
    /// next opportunity.
    @exclusivity(unchecked) private(set) var deferredError: MessagePackError?
    let maximumDepth: Int
    @exclusivity(unchecked) private var depth = 0
    @exclusivity(unchecked) private var lastID: UInt32 = 0

    init(maximumDepth: Int) {
        self.buffer = ByteBuffer()  // a shared empty buffer: no allocation
        self.base = UnsafeMutableRawPointer(bitPattern: 1)!  // never written while `capacity` is 0
        self.capacity = 0
        self.position = 0
        self.start = 0
        self.maximumDepth = maximumDepth
        self.slot = Slot(parentIndex: -1, parentID: 0, id: 1, state: .empty)
        self.lastID = 1
    }

    /// Takes `buffer` over (leaving an empty buffer in its place) until `returnBuffer`, so that its
    /// storage stays uniquely referenced and writing never copies it.
    func adoptBuffer(_ buffer: inout ByteBuffer) {
        swap(&self.buffer, &buffer)
        start = self.buffer.writerIndex
        position = start
        // Copies the storage only if it is shared with another ByteBuffer (copy-on-write).
        self.buffer.reserveCapacity(minimumWritableBytes: 64)
        (base, capacity) = self.buffer.withVeryUnsafeMutableBytes { ($0.baseAddress!, $0.count) }
    }

    /// Ends encoding and hands the buffer back: with the encoded bytes if `commit`, else as it was.
    func returnBuffer(_ buffer: inout ByteBuffer, commit: Bool) {
        self.buffer.moveWriterIndex(to: commit ? position : start)
        swap(&self.buffer, &buffer)
        base = UnsafeMutableRawPointer(bitPattern: 1)!
        capacity = 0
        position = 0
        // An encoder or container that user code kept must not be usable any more.
        frames.removeAll()
        slot = Slot(parentIndex: -1, parentID: 0, id: 0, state: .written)
        recordDeferred(.encodingFailed("an encoder or container was used after encode(_:into:) returned"))
    }

    // MARK: Encoder

    var codingPath: [any CodingKey] { path(throughFrame: slot.parentIndex) }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let (index, id) = openContainer(isMap: true, slot: &slot, isSuperSlot: false)
        return KeyedEncodingContainer(MessagePackKeyedEncodingContainer<Key>(context: self, frameIndex: index, frameID: id))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let (index, id) = openContainer(isMap: false, slot: &slot, isSuperSlot: false)
        return MessagePackUnkeyedEncodingContainer(context: self, frameIndex: index, frameID: id)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        claimSingleValue(slot: &slot)
        return MessagePackSingleValueEncodingContainer(context: self, superEncoder: nil, slotID: slot.id)
    }

    // MARK: Top level

    /// Encodes `value` as the whole message.
    func encodeTopLevel<T: Encodable>(_ value: T) throws(MessagePackError) {
        let wroteSomething = try encodeValue(value, isTopLevel: true)
        if !wroteSomething {
            throw .encodingFailed("top-level value of type \(T.self) did not encode any value")
        }
        if let deferredError { throw deferredError }
    }

    // MARK: Values

    /// Encodes a nested value at the current position: map value, array element or single value.
    /// - Returns: false when the top-level value wrote nothing (nested values then get an empty map).
    @discardableResult
    func encodeValue<T: Encodable>(_ value: T, isTopLevel: Bool = false) throws(MessagePackError) -> Bool {
        // Generic code such as `Array.encode(to:)` reaches primitives through this generic path:
        // write them directly instead of going through `encode(to:)` and a single value container.
        if try writePrimitive(value) { return true }
        // Byte arrays are MessagePack bin, not arrays of integers.
        let type = ObjectIdentifier(T.self)
        let known = MessagePackKnownTypes.shared
        if type == known.byteArray {
            try writeBinary(unsafeBitCast(value, to: [UInt8].self))
            return true
        }
        // Arrays of common primitives: the count is known, so the header is written exactly and
        // the elements directly, without a container per array and a call per element.
        if type == known.intArray {
            try writeArray(unsafeBitCast(value, to: [Int].self)) { context, element in context.writeSigned(Int64(element)) }
            return true
        }
        if type == known.stringArray {
            try writeArray(unsafeBitCast(value, to: [String].self)) { (context, element) throws(MessagePackError) in
                try context.writeString(element)
            }
            return true
        }
        if type == known.doubleArray {
            try writeArray(unsafeBitCast(value, to: [Double].self)) { context, element in context.writeDouble(element) }
            return true
        }
        // Dictionaries with String keys and String or Int values, likewise.
        if type == known.stringToStringMap {
            try writeMap(unsafeBitCast(value, to: [String: String].self)) { (context, element) throws(MessagePackError) in
                try context.writeString(element)
            }
            return true
        }
        if type == known.stringToIntMap {
            try writeMap(unsafeBitCast(value, to: [String: Int].self)) { context, element in context.writeSigned(Int64(element)) }
            return true
        }
        if T.self == ByteBuffer.self {
            try writeBinary(unsafeBitCast(value, to: ByteBuffer.self))
            return true
        }

        depth += 1
        defer { depth -= 1 }
        guard depth <= maximumDepth else { throw fail(.depthLimitExceeded(maximumDepth)) }

        let parentIndex = frames.count - 1
        let parentID = parentIndex >= 0 ? frames[parentIndex].id : 0
        let savedSlot = slot
        slot = Slot(parentIndex: parentIndex, parentID: parentID, id: makeID(), state: .empty)
        defer { slot = savedSlot }

        do {
            try value.encode(to: self)
        } catch {
            throw fail(Self.map(error))
        }
        if let deferredError { throw deferredError }

        // A container of an enclosing value may not be used while this value is being encoded.
        guard frames.count > parentIndex, parentIndex < 0 || frames[parentIndex].id == parentID else {
            throw fail(
                .encodingFailed(
                    "a container of an enclosing value was written to while a nested value of type \(T.self) was being encoded"
                )
            )
        }
        try closeFrames(downTo: parentIndex + 1)
        switch slot.state {
        case .written, .container:
            return true
        case .empty, .singleValue:
            if isTopLevel { return false }
            // Like JSONEncoder, a nested value that encodes nothing becomes an empty map.
            writeByte(MessagePackFormat.fixMap)
            return true
        }
    }

    /// Writes an array whose elements are written by `writeElement`.
    @inline(__always)
    private func writeArray<Element>(
        _ elements: [Element],
        _ writeElement: (MessagePackEncodingContext, Element) throws(MessagePackError) -> Void
    ) throws(MessagePackError) {
        // The array is one more nesting level, like the container it replaces.
        guard depth < maximumDepth, frames.count < maximumDepth else { throw fail(.depthLimitExceeded(maximumDepth)) }
        let count = elements.count
        try checkLength(count)
        if count < 16 {
            writeByte(MessagePackFormat.fixArray | UInt8(truncatingIfNeeded: count))
        } else if count <= 0xffff {
            write(MessagePackFormat.array16, UInt16(truncatingIfNeeded: count))
        } else {
            write(MessagePackFormat.array32, UInt32(truncatingIfNeeded: count))
        }
        for element in elements { try writeElement(self, element) }
    }

    /// Writes a map with string keys whose values are written by `writeValue`.
    @inline(__always)
    private func writeMap<Value>(
        _ map: [String: Value],
        _ writeValue: (MessagePackEncodingContext, Value) throws(MessagePackError) -> Void
    ) throws(MessagePackError) {
        // The map is one more nesting level, like the container it replaces.
        guard depth < maximumDepth, frames.count < maximumDepth else { throw fail(.depthLimitExceeded(maximumDepth)) }
        let count = map.count
        try checkLength(count)
        if count < 16 {
            writeByte(MessagePackFormat.fixMap | UInt8(truncatingIfNeeded: count))
        } else if count <= 0xffff {
            write(MessagePackFormat.map16, UInt16(truncatingIfNeeded: count))
        } else {
            write(MessagePackFormat.map32, UInt32(truncatingIfNeeded: count))
        }
        for (key, value) in map {
            try writeString(key)
            try writeValue(self, value)
        }
    }

    // MARK: Frames

    private func makeID() -> UInt32 {
        lastID &+= 1
        if lastID == 0 { lastID = 1 }  // 0 marks invalid containers
        return lastID
    }

    /// Makes frame `index` the innermost open container so that it can be written to.
    ///
    /// Called before every write through a keyed or unkeyed container.
    @inline(__always)
    func prepareFrame(_ index: Int, _ id: UInt32) throws(MessagePackError) {
        guard index < frames.count, frames[index].id == id else { throw fail(invalidContainerError()) }
        if frames.count != index + 1 { try closeFrames(downTo: index + 1) }
        if frames[index].needsAttention { try attend(toFrame: index) }
    }

    private func invalidContainerError() -> MessagePackError {
        deferredError
            ?? .encodingFailed(
                "a container was written to after a container of an enclosing value was used, or after its value finished encoding"
            )
    }

    /// Resolves an unused `superEncoder()` value or a binary candidate before the frame gets another element.
    private func attend(toFrame index: Int) throws(MessagePackError) {
        if frames[index].pendingChild != 0 {
            // The value of a `superEncoder()` that was never used: an empty map (as JSONEncoder does).
            writeByte(MessagePackFormat.fixMap)
            frames[index].pendingChild = 0
        }
        if frames[index].isBinaryCandidate {
            // More elements follow raw bytes: re-encode the bytes as array elements (integers).
            let bodyStart = frames[index].headerIndex + 1
            let raw = [UInt8](UnsafeRawBufferPointer(start: base + bodyStart, count: position - bodyStart))
            position = bodyStart
            for byte in raw { writeUnsigned(UInt64(byte)) }
            frames[index].isBinaryCandidate = false
        }
        frames[index].needsAttention = false
    }

    /// Opens a new array or map at the current writer position.
    func pushFrame(isMap: Bool) throws(MessagePackError) -> (index: Int, id: UInt32) {
        guard frames.count < maximumDepth else { throw fail(.depthLimitExceeded(maximumDepth)) }
        let id = makeID()
        frames.append(Frame(headerIndex: position, count: 0, id: id, isMap: isMap))
        writeByte(0)  // header placeholder, patched in `finish`
        return (frames.count - 1, id)
    }

    /// Closes every open container above index `count - 1`.
    func closeFrames(downTo count: Int) throws(MessagePackError) {
        while frames.count > count {
            try finish(frames.popLast()!)
        }
    }

    /// Writes the final header of a closed container.
    private func finish(_ frame: Frame) throws(MessagePackError) {
        if frame.pendingChild != 0 { writeByte(MessagePackFormat.fixMap) }
        let count = frame.count
        try checkLength(count)
        let header = frame.headerIndex
        if frame.isBinaryCandidate {
            if count <= 0xff {
                insertHeaderSpace(afterHeader: header, extra: 1)
                store(MessagePackFormat.bin8, UInt8(count), at: header)
            } else if count <= 0xffff {
                insertHeaderSpace(afterHeader: header, extra: 2)
                store(MessagePackFormat.bin16, UInt16(count), at: header)
            } else {
                insertHeaderSpace(afterHeader: header, extra: 4)
                store(MessagePackFormat.bin32, UInt32(count), at: header)
            }
        } else if count < 16 {
            base.storeBytes(
                of: (frame.isMap ? MessagePackFormat.fixMap : MessagePackFormat.fixArray) | UInt8(count),
                toByteOffset: header,
                as: UInt8.self
            )
        } else if count <= 0xffff {
            insertHeaderSpace(afterHeader: header, extra: 2)
            store(frame.isMap ? MessagePackFormat.map16 : MessagePackFormat.array16, UInt16(count), at: header)
        } else {
            insertHeaderSpace(afterHeader: header, extra: 4)
            store(frame.isMap ? MessagePackFormat.map32 : MessagePackFormat.array32, UInt32(count), at: header)
        }
    }

    /// Grows the 1-byte header placeholder at `afterHeader` by `extra` bytes, moving the container's body.
    private func insertHeaderSpace(afterHeader header: Int, extra: Int) {
        let bodyStart = header + 1
        let bodyLength = position - bodyStart
        reserve(extra)
        // The regions overlap: `copyMemory` has memmove semantics.
        (base + bodyStart + extra).copyMemory(from: base + bodyStart, byteCount: bodyLength)
        position += extra
    }

    // MARK: Container operations (called by the container types)

    /// Starts a new map entry in frame `index`: writes the key; the caller then writes the value.
    @inline(__always)
    func beginEntry(_ index: Int, _ id: UInt32, key: String) throws(MessagePackError) {
        try prepareFrame(index, id)
        frames[index].count += 1
        frames[index].lastKeyOffset = position
        try writeString(key)
    }

    /// Starts a new array element in frame `index`; the caller then writes the value.
    @inline(__always)
    func beginElement(_ index: Int, _ id: UInt32) throws(MessagePackError) {
        try prepareFrame(index, id)
        frames[index].count += 1
    }

    func elementCount(_ index: Int, _ id: UInt32) -> Int {
        guard index < frames.count, frames[index].id == id else { return 0 }
        return frames[index].count
    }

    /// Encodes a sequence of bytes into array frame `index`: as raw bytes of a future bin value if the
    /// array is still empty (this is how Foundation's `Data` encodes itself), as integers otherwise.
    func appendBytes<S: Sequence>(_ bytes: S, toFrame index: Int, _ id: UInt32) throws(MessagePackError)
    where S.Element == UInt8 {
        guard index < frames.count, frames[index].id == id else { throw fail(invalidContainerError()) }
        if frames.count != index + 1 { try closeFrames(downTo: index + 1) }
        let frame: Frame = frames[index]
        if (frame.count == 0 && !frame.needsAttention) || (frame.isBinaryCandidate && frame.pendingChild == 0) {
            let written = writeRawBytes(bytes)
            frames[index].count += written
            frames[index].isBinaryCandidate = true
            frames[index].needsAttention = true
        } else {
            if frame.needsAttention { try attend(toFrame: index) }
            for byte in bytes {
                frames[index].count += 1
                writeUnsigned(UInt64(byte))
            }
        }
    }

    /// Opens a nested container in frame `index` (after its key was written by the caller).
    func nestedFrame(isMap: Bool) -> (index: Int, id: UInt32) {
        do {
            return try pushFrame(isMap: isMap)
        } catch {
            recordDeferred(error)
            return (0, 0)
        }
    }

    /// Creates the slot of a `superEncoder()` value in frame `index` (after its key was written).
    func makeSuperSlot(_ index: Int) -> Slot {
        let id = makeID()
        frames[index].pendingChild = id
        frames[index].needsAttention = true
        return Slot(parentIndex: index, parentID: frames[index].id, id: id, state: .empty)
    }

    func recordDeferred(_ error: MessagePackError) {
        if deferredError == nil { deferredError = error }
    }

    /// Records `error` so that the whole `encode` call fails even if user code catches it: after a
    /// failed write the buffer may hold a partial value.
    func fail(_ error: MessagePackError) -> MessagePackError {
        recordDeferred(error)
        return error
    }

    // MARK: Slots

    /// Checks that a `superEncoder()` slot may still receive its value, and marks it as filled.
    private func claimSuperSlot(_ slot: Slot) -> Bool {
        let parent = slot.parentIndex
        guard parent < frames.count, frames[parent].id == slot.parentID, frames[parent].pendingChild == slot.id else {
            return false
        }
        do {
            try closeFrames(downTo: parent + 1)
        } catch {
            recordDeferred(error)
            return false
        }
        frames[parent].pendingChild = 0
        frames[parent].needsAttention = frames[parent].isBinaryCandidate
        return true
    }

    /// Returns the container for the value in `slot`, opening it if needed.
    func openContainer(isMap: Bool, slot: inout Slot, isSuperSlot: Bool) -> (index: Int, id: UInt32) {
        switch slot.state {
        case .empty:
            if isSuperSlot {
                guard claimSuperSlot(slot) else {
                    recordDeferred(.encodingFailed("a superEncoder() was used after its container continued with other values"))
                    return (0, 0)
                }
            } else if frames.count != slot.parentIndex + 1 {
                recordDeferred(.encodingFailed("an encoder was used after its value finished encoding"))
                return (0, 0)
            }
            do {
                let frame = try pushFrame(isMap: isMap)
                slot.state = .container(frameID: frame.id)
                return frame
            } catch {
                recordDeferred(error)
                return (0, 0)
            }
        case .container(let frameID):
            let index = slot.parentIndex + 1
            if index < frames.count, frames[index].id == frameID, frames[index].isMap == isMap {
                return (index, frameID)
            }
            recordDeferred(
                .encodingFailed(
                    "requested a \(isMap ? "keyed" : "unkeyed") container for a value that already has a container of another kind, or whose container was already finished"
                )
            )
            return (0, 0)
        case .singleValue, .written:
            recordDeferred(.encodingFailed("requested a container for a value that was already encoded as a single value"))
            return (0, 0)
        }
    }

    func claimSingleValue(slot: inout Slot) {
        switch slot.state {
        case .empty:
            slot.state = .singleValue
        case .singleValue, .written:
            break  // reported when a second value is encoded
        case .container:
            recordDeferred(.encodingFailed("requested a single value container for a value that already has a keyed or unkeyed container"))
        }
    }

    /// Checks that the single value container of `slot` may write now; the caller then writes the value.
    func beginSingleValue(slot: inout Slot, slotID: UInt32, isSuperSlot: Bool) throws(MessagePackError) {
        guard slot.id == slotID else {
            throw fail(deferredError ?? .encodingFailed("a single value container was used after its value finished encoding"))
        }
        guard slot.state == .singleValue else {
            throw fail(deferredError ?? .encodingFailed("a single value container was asked to encode more than one value"))
        }
        if isSuperSlot {
            guard claimSuperSlot(slot) else {
                throw fail(.encodingFailed("a superEncoder() was used after its container continued with other values"))
            }
        } else if frames.count != slot.parentIndex + 1 {
            throw fail(.encodingFailed("an encoder was used after its value finished encoding"))
        }
        slot.state = .written
    }

    // MARK: Coding paths

    /// The coding path of the value held by frame `index` (-1: the top-level value).
    func path(throughFrame index: Int) -> [any CodingKey] {
        var path: [any CodingKey] = []
        var i = 0
        while i <= index && i < frames.count {
            let frame: Frame = frames[i]
            if frame.isMap {
                path.append(MessagePackCodingKey(stringValue: keyWritten(at: frame.lastKeyOffset)))
            } else {
                path.append(MessagePackCodingKey(intValue: max(frame.count - 1, 0)))
            }
            i += 1
        }
        return path
    }

    /// Reads back a key that this context wrote at `offset` (a str value), for coding paths.
    private func keyWritten(at offset: Int) -> String {
        guard offset >= 0 && offset < position else { return "" }
        let bytes = UnsafeRawBufferPointer(start: base, count: position)
        let marker = bytes[offset]
        let start: Int
        let length: Int
        switch marker {
        case 0xa0...0xbf:
            (start, length) = (offset + 1, Int(marker & 0x1f))
        case MessagePackFormat.str8:
            (start, length) = (offset + 2, Int(bytes[offset + 1]))
        case MessagePackFormat.str16:
            (start, length) = (offset + 3, Int(UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: offset + 1, as: UInt16.self))))
        case MessagePackFormat.str32:
            (start, length) = (offset + 5, Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset + 1, as: UInt32.self))))
        default:
            return ""
        }
        guard start + length <= position else { return "" }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<start + length]), as: UTF8.self)
    }

    // MARK: Writing primitives

    /// Writes `value` if `T` is one of Codable's primitive types; returns false otherwise.
    @inline(__always)
    func writePrimitive<T>(_ value: T) throws(MessagePackError) -> Bool {
        guard let kind = MessagePackPrimitive.kind(of: T.self) else { return false }
        switch kind {
        case .string: try writeString(unsafeBitCast(value, to: String.self))
        case .int: writeSigned(Int64(unsafeBitCast(value, to: Int.self)))
        case .double: writeDouble(unsafeBitCast(value, to: Double.self))
        case .bool: writeBool(unsafeBitCast(value, to: Bool.self))
        case .int64: writeSigned(unsafeBitCast(value, to: Int64.self))
        case .uint64: writeUnsigned(unsafeBitCast(value, to: UInt64.self))
        case .float: writeFloat(unsafeBitCast(value, to: Float.self))
        case .int32: writeSigned(Int64(unsafeBitCast(value, to: Int32.self)))
        case .uint32: writeUnsigned(UInt64(unsafeBitCast(value, to: UInt32.self)))
        case .uint: writeUnsigned(UInt64(unsafeBitCast(value, to: UInt.self)))
        case .int16: writeSigned(Int64(unsafeBitCast(value, to: Int16.self)))
        case .uint16: writeUnsigned(UInt64(unsafeBitCast(value, to: UInt16.self)))
        case .int8: writeSigned(Int64(unsafeBitCast(value, to: Int8.self)))
        case .uint8: writeUnsigned(UInt64(unsafeBitCast(value, to: UInt8.self)))
        }
        return true
    }

    /// Throws `lengthTooLarge` if `length` does not fit MessagePack's 32-bit length fields.
    @inline(__always)
    func checkLength(_ length: Int) throws(MessagePackError) {
        guard length <= MessagePackFormat.maximumLength else { throw fail(.lengthTooLarge(length)) }
    }

    /// Makes room for `count` more bytes at `position`.
    @inline(__always)
    private func reserve(_ count: Int) {
        if capacity - position < count { grow(count) }
    }

    @inline(never)
    private func grow(_ count: Int) {
        buffer.moveWriterIndex(to: position)
        // At least double, so that a long encoding reallocates O(log n) times.
        buffer.reserveCapacity(minimumWritableBytes: max(count, buffer.capacity))
        (base, capacity) = buffer.withVeryUnsafeMutableBytes { ($0.baseAddress!, $0.count) }
    }

    @inline(__always)
    func writeByte(_ byte: UInt8) {
        reserve(1)
        base.storeBytes(of: byte, toByteOffset: position, as: UInt8.self)
        position += 1
    }

    /// Writes a type byte followed by a big-endian number.
    @inline(__always)
    private func write<T: FixedWidthInteger>(_ marker: UInt8, _ value: T) {
        reserve(1 + MemoryLayout<T>.size)
        store(marker, value, at: position)
        position += 1 + MemoryLayout<T>.size
    }

    /// Stores a type byte followed by a big-endian number at `offset`, which has room for it.
    @inline(__always)
    private func store<T: FixedWidthInteger>(_ marker: UInt8, _ value: T, at offset: Int) {
        base.storeBytes(of: marker, toByteOffset: offset, as: UInt8.self)
        base.storeBytes(of: value.bigEndian, toByteOffset: offset + 1, as: T.self)
    }

    @inline(__always)
    private func writeRaw(_ bytes: UnsafeRawBufferPointer) {
        reserve(bytes.count)
        if let source = bytes.baseAddress {
            (base + position).copyMemory(from: source, byteCount: bytes.count)
        }
        position += bytes.count
    }

    /// Writes the bytes of a sequence as they are; returns how many.
    private func writeRawBytes<S: Sequence>(_ bytes: S) -> Int where S.Element == UInt8 {
        let written = bytes.withContiguousStorageIfAvailable { elements in
            writeRaw(UnsafeRawBufferPointer(elements))
            return elements.count
        }
        if let written { return written }
        var count = 0
        for byte in bytes {
            writeByte(byte)
            count += 1
        }
        return count
    }

    @inline(__always)
    func writeNil() {
        writeByte(MessagePackFormat.nil)
    }

    @inline(__always)
    func writeBool(_ value: Bool) {
        writeByte(value ? MessagePackFormat.true : MessagePackFormat.false)
    }

    /// Writes a signed integer in the smallest encoding. Non-negative values use the unsigned
    /// formats, as the reference implementations do.
    @inline(__always)
    func writeSigned(_ value: Int64) {
        if value >= 0 {
            writeUnsigned(UInt64(value))
        } else if value >= -32 {
            writeByte(UInt8(truncatingIfNeeded: value))  // negative fixint
        } else if value >= Int64(Int8.min) {
            write(MessagePackFormat.int8, Int8(truncatingIfNeeded: value))
        } else if value >= Int64(Int16.min) {
            write(MessagePackFormat.int16, Int16(truncatingIfNeeded: value))
        } else if value >= Int64(Int32.min) {
            write(MessagePackFormat.int32, Int32(truncatingIfNeeded: value))
        } else {
            write(MessagePackFormat.int64, value)
        }
    }

    @inline(__always)
    func writeUnsigned(_ value: UInt64) {
        if value <= 0x7f {
            writeByte(UInt8(truncatingIfNeeded: value))  // positive fixint
        } else if value <= 0xff {
            write(MessagePackFormat.uint8, UInt8(truncatingIfNeeded: value))
        } else if value <= 0xffff {
            write(MessagePackFormat.uint16, UInt16(truncatingIfNeeded: value))
        } else if value <= 0xffff_ffff {
            write(MessagePackFormat.uint32, UInt32(truncatingIfNeeded: value))
        } else {
            write(MessagePackFormat.uint64, value)
        }
    }

    @inline(__always)
    func writeFloat(_ value: Float) {
        write(MessagePackFormat.float32, value.bitPattern)
    }

    @inline(__always)
    func writeDouble(_ value: Double) {
        write(MessagePackFormat.float64, value.bitPattern)
    }

    @inline(__always)
    func writeString(_ value: String) throws(MessagePackError) {
        var value = value
        let length = value.utf8.count
        try checkLength(length)
        if length < 32 {
            reserve(1 + length)
            base.storeBytes(of: MessagePackFormat.fixStr | UInt8(truncatingIfNeeded: length), toByteOffset: position, as: UInt8.self)
            position += 1
        } else if length <= 0xff {
            write(MessagePackFormat.str8, UInt8(truncatingIfNeeded: length))
        } else if length <= 0xffff {
            write(MessagePackFormat.str16, UInt16(truncatingIfNeeded: length))
        } else {
            write(MessagePackFormat.str32, UInt32(truncatingIfNeeded: length))
        }
        // Native strings are contiguous UTF-8; `withUTF8` only copies bridged or lazy strings.
        value.withUTF8 { writeRaw(UnsafeRawBufferPointer($0)) }
    }

    private func writeBinaryHeader(length: Int) throws(MessagePackError) {
        try checkLength(length)
        if length <= 0xff {
            write(MessagePackFormat.bin8, UInt8(truncatingIfNeeded: length))
        } else if length <= 0xffff {
            write(MessagePackFormat.bin16, UInt16(truncatingIfNeeded: length))
        } else {
            write(MessagePackFormat.bin32, UInt32(truncatingIfNeeded: length))
        }
    }

    func writeBinary(_ bytes: [UInt8]) throws(MessagePackError) {
        try writeBinaryHeader(length: bytes.count)
        bytes.withUnsafeBytes { writeRaw($0) }
    }

    func writeBinary(_ bytes: ByteBuffer) throws(MessagePackError) {
        try writeBinaryHeader(length: bytes.readableBytes)
        bytes.withUnsafeReadableBytes { writeRaw($0) }
    }

    // MARK: Errors

    /// Maps an error thrown by user code (or by this codec, through Codable's untyped throws).
    static func map(_ error: any Error) -> MessagePackError {
        if let error = error as? MessagePackError { return error }
        if let error = error as? EncodingError {
            switch error {
            case .invalidValue(let value, let context):
                let path = MessagePackCodingKey.render(context.codingPath)
                return .encodingFailed(
                    "invalid value \(value) at \(path.isEmpty ? "<root>" : "'\(path)'"): \(context.debugDescription)"
                )
            @unknown default:
                return .encodingFailed(String(describing: error))
            }
        }
        return .encodingFailed(String(describing: error))
    }
}
