import NIOCore

/// The building blocks of tracker state payloads: variable-length integers,
/// strings, node identities and presence metadata (`docs/WIRE.md`, "Tracker
/// state payloads").
extension ByteBuffer {
    /// Writes `value` as an unsigned LEB128 varint: 7 bits a byte, least
    /// significant first, high bit set on every byte but the last.
    mutating func writeTrackerVarint(_ value: UInt64) {
        if value < 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: value))
            return
        }
        // Assembled in a scratch word pair and written at once: one capacity check, not one a byte.
        var scratch: (UInt64, UInt64) = (0, 0)
        let length = withUnsafeMutableBytes(of: &scratch) { bytes in
            var remaining = value
            var index = 0
            while remaining >= 0x80 {
                bytes[index] = UInt8(truncatingIfNeeded: remaining) | 0x80
                remaining >>= 7
                index += 1
            }
            bytes[index] = UInt8(truncatingIfNeeded: remaining)
            return index + 1
        }
        withUnsafeBytes(of: &scratch) { bytes in
            _ = writeBytes(UnsafeRawBufferPointer(rebasing: bytes[0..<length]))
        }
    }

    /// Reads an unsigned LEB128 varint of at most 10 bytes and 64 bits.
    mutating func readTrackerVarint(field: String) throws(TrackerWireError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard let byte = readInteger(as: UInt8.self) else { throw .truncated(field: field) }
            if shift == 63, byte > 1 { throw .invalidVarint(field: field) }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw .invalidVarint(field: field) }
        }
    }

    /// Reads a count of elements that each take at least `minimumSize` bytes, so a
    /// count the rest of the input cannot hold is refused before anything is allocated.
    mutating func readTrackerCount(field: String, minimumSize: Int = 1, limit: Int = .max)
        throws(TrackerWireError) -> Int
    {
        let count = try readTrackerVarint(field: field)
        let fitting = UInt64(readableBytes / max(1, minimumSize))
        let bound = min(fitting, UInt64(limit))
        guard count <= bound else { throw .countOverLimit(field: field, count: count, limit: bound) }
        return Int(count)
    }

    /// Reads an index into a table of `count` entries.
    mutating func readTrackerIndex(field: String, count: Int) throws(TrackerWireError) -> Int {
        let index = try readTrackerVarint(field: field)
        guard index < UInt64(count) else { throw .indexOutOfRange(field: field, index: index, count: count) }
        return Int(index)
    }

    /// Writes a varint length and the UTF-8 bytes of `string`.
    mutating func writeTrackerString(_ string: String) {
        writeTrackerVarint(UInt64(string.utf8.count))
        writeString(string)
    }

    /// Reads a varint length and that many bytes of valid UTF-8.
    mutating func readTrackerString(field: String) throws(TrackerWireError) -> String {
        let length = try readTrackerVarint(field: field)
        guard length <= UInt64(readableBytes) else { throw .truncated(field: field) }
        return try readTrackerUTF8(length: Int(length), field: field)
    }

    /// Reads `length` bytes that must be valid UTF-8.
    private mutating func readTrackerUTF8(length: Int, field: String) throws(TrackerWireError) -> String {
        if length == 0 { return "" }
        let valid = withUnsafeReadableBytes { bytes in
            MessagePackUTF8.isValid(UnsafeRawBufferPointer(rebasing: bytes[0..<length]))
        }
        guard valid, let text = readString(length: length) else { throw .invalidUTF8(field: field) }
        return text
    }

    /// Writes a node identity: the name behind a one-byte length, then the incarnation as a u64.
    mutating func writeTrackerNodeIdentity(_ identity: NodeIdentity) {
        writeInteger(UInt8(truncatingIfNeeded: identity.name.rawValue.utf8.count))
        writeString(identity.name.rawValue)
        writeInteger(identity.incarnation.rawValue)
    }

    /// Reads a node identity, validating the name as ``NodeName`` does.
    mutating func readTrackerNodeIdentity(field: String) throws(TrackerWireError) -> NodeIdentity {
        guard let length = readInteger(as: UInt8.self) else { throw .truncated(field: field) }
        guard Int(length) <= readableBytes else { throw .truncated(field: field) }
        let text = try readTrackerUTF8(length: Int(length), field: field)
        let name: NodeName
        do {
            name = try NodeName(text)
        } catch {
            throw .invalidNodeName(field: field, reason: error)
        }
        guard let incarnation = readInteger(as: UInt64.self) else { throw .truncated(field: field) }
        return NodeIdentity(name: name, incarnation: Incarnation(rawValue: incarnation))
    }

    /// Writes presence metadata: the reference as a u64, a flags byte, the
    /// previous reference if any, then the values as a count and name/value pairs
    /// (names sorted, so equal metadata always writes equal bytes).
    mutating func writePresenceMeta(_ meta: PresenceMeta) {
        var previousValues: (values: [String: PresenceValue], bytes: [UInt8])?
        writePresenceMeta(meta, reusing: &previousValues)
    }

    /// Writes presence metadata, copying the bytes written for `previous`'s values
    /// when they are the same values (usually the very same shared storage).
    ///
    /// The bytes are kept as a copy, never as a slice of this buffer: a slice
    /// would make every later write copy the whole buffer.
    mutating func writePresenceMeta(
        _ meta: PresenceMeta, reusing previous: inout (values: [String: PresenceValue], bytes: [UInt8])?
    ) {
        if let previous = meta.previousRef {
            writeMultipleIntegers(meta.ref.rawValue, TrackerWire.previousRefFlag, previous.rawValue)
        } else {
            writeMultipleIntegers(meta.ref.rawValue, UInt8(0))
        }
        if let known = previous, known.values == meta.values {
            writeBytes(known.bytes)
            return
        }
        let start = writerIndex
        writePresenceValueMap(meta.values)
        if let bytes = getBytes(at: start, length: writerIndex - start) { previous = (meta.values, bytes) }
    }

    /// Reads presence metadata.
    mutating func readPresenceMeta() throws(TrackerWireError) -> PresenceMeta {
        var previousValues: (bytes: ByteBuffer, values: [String: PresenceValue])?
        return try readPresenceMeta(reusing: &previousValues)
    }

    /// Reads presence metadata; when its values are byte for byte those of
    /// `previous`, the values already decoded are reused (the encoding delimits
    /// itself, so equal bytes decode to equal values), which spares presences
    /// that share their values a dictionary each.
    mutating func readPresenceMeta(reusing previous: inout (bytes: ByteBuffer, values: [String: PresenceValue])?)
        throws(TrackerWireError) -> PresenceMeta
    {
        guard let ref = readInteger(as: UInt64.self) else { throw .truncated(field: "meta ref") }
        guard let flags = readInteger(as: UInt8.self) else { throw .truncated(field: "meta flags") }
        guard flags & ~TrackerWire.previousRefFlag == 0 else { throw .invalidFlags(field: "meta", flags: flags) }
        var previousRef: PresenceRef?
        if flags & TrackerWire.previousRefFlag != 0 {
            guard let raw = readInteger(as: UInt64.self) else { throw .truncated(field: "meta previous ref") }
            previousRef = PresenceRef(rawValue: raw)
        }
        if let known = previous, readableBytes >= known.bytes.readableBytes,
            getSlice(at: readerIndex, length: known.bytes.readableBytes) == known.bytes
        {
            moveReaderIndex(forwardBy: known.bytes.readableBytes)
            return PresenceMeta(ref: PresenceRef(rawValue: ref), previousRef: previousRef, values: known.values)
        }
        let start = readerIndex
        let values = try readPresenceValueMap(depth: 1)
        if let bytes = getSlice(at: start, length: readerIndex - start) { previous = (bytes, values) }
        return PresenceMeta(ref: PresenceRef(rawValue: ref), previousRef: previousRef, values: values)
    }

    /// Writes one presence value: a type tag, then its contents.
    mutating func writePresenceValue(_ value: PresenceValue) {
        switch value {
        case .null:
            writeInteger(TrackerWire.nullTag)
        case .bool(let flag):
            writeInteger(flag ? TrackerWire.trueTag : TrackerWire.falseTag)
        case .int(let number):
            writeInteger(TrackerWire.intTag)
            writeTrackerVarint(UInt64(bitPattern: (number << 1) ^ (number >> 63)))
        case .double(let number):
            writeInteger(TrackerWire.doubleTag)
            writeInteger(number.bitPattern)
        case .string(let text):
            writeInteger(TrackerWire.stringTag)
            writeTrackerString(text)
        case .bytes(let bytes):
            writeInteger(TrackerWire.bytesTag)
            writeTrackerVarint(UInt64(bytes.count))
            writeBytes(bytes)
        case .array(let elements):
            writeInteger(TrackerWire.arrayTag)
            writeTrackerVarint(UInt64(elements.count))
            for element in elements { writePresenceValue(element) }
        case .map(let entries):
            writeInteger(TrackerWire.mapTag)
            writePresenceValueMap(entries)
        }
    }

    /// Reads one presence value at nesting `depth` (1 for a metadata value).
    mutating func readPresenceValue(depth: Int = 1) throws(TrackerWireError) -> PresenceValue {
        guard depth <= TrackerWire.maximumDepth else { throw .nestingTooDeep(limit: TrackerWire.maximumDepth) }
        guard let tag = readInteger(as: UInt8.self) else { throw .truncated(field: "value tag") }
        switch tag {
        case TrackerWire.nullTag:
            return .null
        case TrackerWire.falseTag:
            return .bool(false)
        case TrackerWire.trueTag:
            return .bool(true)
        case TrackerWire.intTag:
            let zigzag = try readTrackerVarint(field: "int value")
            return .int(Int64(bitPattern: (zigzag >> 1) ^ (0 &- (zigzag & 1))))
        case TrackerWire.doubleTag:
            guard let bits = readInteger(as: UInt64.self) else { throw .truncated(field: "double value") }
            return .double(Double(bitPattern: bits))
        case TrackerWire.stringTag:
            return .string(try readTrackerString(field: "string value"))
        case TrackerWire.bytesTag:
            let length = try readTrackerVarint(field: "bytes value")
            guard length <= UInt64(readableBytes), let bytes = readBytes(length: Int(length)) else {
                throw .truncated(field: "bytes value")
            }
            return .bytes(bytes)
        case TrackerWire.arrayTag:
            let count = try readTrackerCount(field: "array value")
            var elements: [PresenceValue] = []
            elements.reserveCapacity(count)
            for _ in 0..<count { elements.append(try readPresenceValue(depth: depth + 1)) }
            return .array(elements)
        case TrackerWire.mapTag:
            return .map(try readPresenceValueMap(depth: depth + 1))
        default:
            throw .invalidValueTag(tag)
        }
    }

    /// Writes a count and name/value pairs, names sorted.
    private mutating func writePresenceValueMap(_ values: [String: PresenceValue]) {
        writeTrackerVarint(UInt64(values.count))
        if values.count == 1, let only = values.first {
            writeTrackerString(only.key)
            writePresenceValue(only.value)
            return
        }
        for name in values.keys.sorted() {
            writeTrackerString(name)
            // The name came from the dictionary's own keys.
            writePresenceValue(values[name] ?? .null)
        }
    }

    /// Reads a count and name/value pairs whose values are at nesting `depth`.
    private mutating func readPresenceValueMap(depth: Int) throws(TrackerWireError) -> [String: PresenceValue] {
        let count = try readTrackerCount(field: "values", minimumSize: 2)
        if count == 0 { return [:] }
        var values: [String: PresenceValue] = [:]
        values.reserveCapacity(count)
        for _ in 0..<count {
            let name = try readTrackerString(field: "value name")
            let value = try readPresenceValue(depth: depth)
            guard values.updateValue(value, forKey: name) == nil else { throw .duplicate(field: "value name") }
        }
        return values
    }
}
