import NIOCore

/// The `Decoder` that `MessagePackDecoder` hands to `init(from:)`. It reads the input bytes in
/// place; nothing is materialized except the Swift values themselves.
///
/// One instance serves every nesting level of one `decode` call:
/// - `valueStart`/`parentScope` describe the value whose `init(from:)` is running, and are saved
///   and restored around each nested value.
/// - Every keyed or unkeyed container is a `Scope` on a stack. A map is scanned once when its
///   container is created: its entries (key position, value position, key hash) go into `entries`,
///   so looking up a key never rescans the map. Lookups first try the entry after the previously
///   found one (synthesized `init(from:)` reads keys in the order they were written), then a hash
///   comparison (small maps) or an open-addressing table (large maps): never quadratic.
/// - Scopes, entries and tables of a nested value are dropped when its `init(from:)` returns, so
///   the stacks are reused and a decode allocates them only once. Arrays of `Int`, `String` and
///   `Double`, `[String: String]`, `[String: Int]` and byte arrays are read directly (see `decodeValue`).
///
/// Hardening: every read is bounds-checked and a declared length is compared with the bytes that are
/// actually left *before* anything is allocated or iterated; nesting is limited by `maximumDepth`
/// (skipping uses an explicit stack, not recursion); strings and map keys must be valid UTF-8;
/// duplicate map keys are rejected.
final class MessagePackDecodingContext: Decoder {
    enum ScopeKind {
        case map
        case array
        /// A bin value read through an unkeyed container (how Foundation's `Data` decodes itself):
        /// every byte is one `UInt8` element.
        case binary
    }

    struct Scope {
        let id: UInt32
        /// The scope holding the value this container belongs to (-1: the top-level value).
        let parent: Int
        /// Container nesting level: 1 for a container of the top-level value.
        let level: Int
        let kind: ScopeKind
        /// Offset of the container's header.
        let start: Int
        /// Offset just after the container; -1 for arrays until all elements were read.
        let end: Int
        /// Number of entries (maps), elements (arrays) or bytes (binary).
        let count: Int
        /// Maps: index of the first entry in `entries`.
        let firstEntry: Int
        /// Maps with more than `linearLookupLimit` entries: start of the hash table in `table`, else -1.
        var tableStart: Int = -1
        var tableMask: Int = 0
        /// Maps: entry after the last one found (relative). Arrays and binary: index of the next element.
        var cursor: Int = 0
        /// Arrays and binary: offset of the next element.
        var nextOffset: Int
        /// The nested value currently being decoded, for coding paths: absolute entry index (maps)
        /// or element index (arrays); -1 when none.
        var child: Int = -1
    }

    struct Entry {
        /// Offset of the key's type byte.
        let keyStart: Int
        /// Offset of the value's type byte.
        let valueStart: Int
        /// FNV-1a hash of the key's UTF-8 bytes (of the decimal text for integer keys).
        let hash: UInt32
    }

    /// Maps with at most this many entries are searched linearly (by hash) and checked for duplicate
    /// keys pairwise; larger ones get a hash table.
    static let linearLookupLimit = 16

    // The hot properties opt out of dynamic exclusivity checks (`swift_beginAccess` on every access
    // costs a large share of the decoding time). All accesses are short and never overlap.
    @exclusivity(unchecked) private(set) var bytes: UnsafeRawBufferPointer
    let maximumDepth: Int
    /// Offset of the value that this context, as a `Decoder`, currently stands for.
    @exclusivity(unchecked) private(set) var valueStart = 0
    /// Scope holding that value (-1: the top-level value).
    @exclusivity(unchecked) private(set) var parentScope = -1
    @exclusivity(unchecked) private var depth = 0
    @exclusivity(unchecked) private var scopes = MessagePackStack<Scope>()
    @exclusivity(unchecked) private var entries = MessagePackStack<Entry>()
    @exclusivity(unchecked) private var table = MessagePackStack<Int>()
    @exclusivity(unchecked) private var skipStack = MessagePackStack<Int>()
    private var lastID: UInt32 = 0

    init(bytes: UnsafeRawBufferPointer, maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    /// Called when `decode` returns: a `Decoder` or container that user code kept must not read
    /// the buffer any more. Every later read fails with `truncated` instead.
    func invalidate() {
        bytes = UnsafeRawBufferPointer(start: nil, count: 0)
        scopes.removeAll()
    }

    // MARK: Decoder

    var codingPath: [any CodingKey] { path(through: parentScope) }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        try keyedContainer(at: valueStart, parent: parentScope)
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try unkeyedContainer(at: valueStart, parent: parentScope)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        MessagePackSingleValueDecodingContainer(context: self, offset: valueStart, parent: parentScope)
    }

    func keyedContainer<Key: CodingKey>(at offset: Int, parent: Int) throws(MessagePackError) -> KeyedDecodingContainer<Key> {
        let index = try openMap(at: offset, parent: parent)
        return KeyedDecodingContainer(
            MessagePackKeyedDecodingContainer<Key>(context: self, scopeIndex: index, scopeID: scopes[index].id)
        )
    }

    func unkeyedContainer(at offset: Int, parent: Int) throws(MessagePackError) -> MessagePackUnkeyedDecodingContainer {
        let index = try openArray(at: offset, parent: parent)
        return MessagePackUnkeyedDecodingContainer(context: self, scopeIndex: index, scopeID: scopes[index].id)
    }

    // MARK: Values

    /// Decodes a value of type `T` starting at `start`, held by scope `parent`.
    /// - Returns: the value and, if `needEnd`, the offset just after it (else -1).
    func decodeValue<T: Decodable>(
        _ type: T.Type,
        at start: Int,
        parent: Int,
        needEnd: Bool
    ) throws(MessagePackError) -> (value: T, end: Int) {
        // bin fast paths; other encodings fall through to the types' own `init(from:)`.
        let type = ObjectIdentifier(T.self)
        let known = MessagePackKnownTypes.shared
        if type == known.byteArray, let (dataStart, length) = try binaryHeader(at: start) {
            let value = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[dataStart..<dataStart + length]))
            return (unsafeBitCast(value, to: T.self), dataStart + length)
        }
        // Arrays of common primitives are read directly (no container, no call per element).
        if type == known.intArray, let (array, end) = try readArray(at: start, parent: parent, { (context, position) throws(MessagePackError) in
            try context.readInteger(Int.self, at: &position)
        }) {
            return (unsafeBitCast(array, to: T.self), end)
        }
        if type == known.stringArray, let (array, end) = try readArray(at: start, parent: parent, { (context, position) throws(MessagePackError) in
            try context.readString(at: &position)
        }) {
            return (unsafeBitCast(array, to: T.self), end)
        }
        if type == known.doubleArray, let (array, end) = try readArray(at: start, parent: parent, { (context, position) throws(MessagePackError) in
            try context.readDouble(at: &position)
        }) {
            return (unsafeBitCast(array, to: T.self), end)
        }
        // Dictionaries with String keys and String or Int values, likewise.
        if type == known.stringToStringMap, let (map, end) = try readMap(at: start, parent: parent, { (context, position) throws(MessagePackError) in
            try context.readString(at: &position)
        }) {
            return (unsafeBitCast(map, to: T.self), end)
        }
        if type == known.stringToIntMap, let (map, end) = try readMap(at: start, parent: parent, { (context, position) throws(MessagePackError) in
            try context.readInteger(Int.self, at: &position)
        }) {
            return (unsafeBitCast(map, to: T.self), end)
        }
        if T.self == ByteBuffer.self, let (dataStart, length) = try binaryHeader(at: start) {
            let value = ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: bytes[dataStart..<dataStart + length]))
            return (unsafeBitCast(value, to: T.self), dataStart + length)
        }
        // Generic code such as `Array.init(from:)` reaches primitives through this generic path:
        // read them directly instead of going through `init(from:)` and a single value container.
        // (`readPrimitive` returns `T`, not `T?`: in unspecialized code an optional of a generic type
        // costs a runtime metadata lookup on every call.)
        if let kind = MessagePackPrimitive.kind(of: T.self) {
            var position = start
            do {
                let value: T = try readPrimitive(kind, at: &position)
                return (value, position)
            } catch {
                throw error.withCodingPath(renderedPath(through: parent))
            }
        }

        depth += 1
        defer { depth -= 1 }
        guard depth <= maximumDepth else { throw .depthLimitExceeded(maximumDepth) }

        let savedStart = valueStart
        let savedParent = parentScope
        let scopeMark = scopes.count
        let entryMark = entries.count
        let tableMark = table.count
        valueStart = start
        parentScope = parent
        defer {
            valueStart = savedStart
            parentScope = savedParent
            scopes.truncate(to: scopeMark)
            entries.truncate(to: entryMark)
            table.truncate(to: tableMark)
        }

        let value: T
        do {
            value = try T(from: self)
        } catch {
            throw Self.map(error)
        }
        guard needEnd else { return (value, -1) }

        // The end of the value: known from its first container if that one was a map or a fully
        // read array, else found by skipping over it.
        if scopes.count > scopeMark, scopes[scopeMark].start == start {
            let scope = scopes[scopeMark]
            if scope.end >= 0 { return (value, scope.end) }
            if scope.cursor == scope.count { return (value, scope.nextOffset) }
        }
        return (value, try skip(from: start, level: level(of: parent)))
    }

    /// Reads a map into a `[String: Value]` whose values are read by `readValue`; nil (nothing read)
    /// if the value at `offset` is not a map. Keys may be strings or integers (as decimal text),
    /// like the keyed container this replaces.
    @inline(__always)
    private func readMap<Value>(
        at offset: Int,
        parent: Int,
        _ readValue: (MessagePackDecodingContext, inout Int) throws(MessagePackError) -> Value
    ) throws(MessagePackError) -> ([String: Value], Int)? {
        let typeByte = try byte(at: offset)
        var position: Int
        let count: Int
        switch typeByte {
        case 0x80...0x8f:
            count = Int(typeByte & 0x0f)
            position = offset + 1
        case MessagePackFormat.map16:
            count = Int(try load(UInt16.self, at: offset + 1))
            position = offset + 3
        case MessagePackFormat.map32:
            count = Int(try load(UInt32.self, at: offset + 1))
            position = offset + 5
        default:
            return nil
        }
        guard level(of: parent) < maximumDepth, depth < maximumDepth else { throw .depthLimitExceeded(maximumDepth) }
        // Every entry takes at least two bytes: check before reserving memory.
        guard count <= (bytes.count - position) / 2 else { throw .truncated }
        var map: [String: Value] = [:]
        map.reserveCapacity(count)
        for _ in 0..<count {
            let keyByte = try byte(at: position)
            let key: String
            if Self.isInteger(keyByte) {
                key = try integerKeyText(at: &position)
            } else {
                do {
                    key = try readString(at: &position)
                } catch .typeMismatch, .valueNotFound {
                    throw .typeMismatch(
                        expected: "string or integer map key",
                        found: MessagePackFormat.typeName(of: keyByte),
                        codingPath: renderedPath(through: parent)
                    )
                }
            }
            let value: Value
            do {
                value = try readValue(self, &position)
            } catch {
                throw error.withCodingPath(MessagePackCodingKey.render(path(through: parent) + [MessagePackCodingKey(stringValue: key)]))
            }
            guard map.updateValue(value, forKey: key) == nil else {
                throw .duplicateKey(key, codingPath: renderedPath(through: parent))
            }
        }
        return (map, position)
    }

    /// Reads an array whose elements are read by `readElement`; nil (nothing read) if the value at
    /// `offset` is not an array, so that the caller falls back to the generic path.
    @inline(__always)
    private func readArray<Element>(
        at offset: Int,
        parent: Int,
        _ readElement: (MessagePackDecodingContext, inout Int) throws(MessagePackError) -> Element
    ) throws(MessagePackError) -> ([Element], Int)? {
        let typeByte = try byte(at: offset)
        var position: Int
        let count: Int
        switch typeByte {
        case 0x90...0x9f:
            count = Int(typeByte & 0x0f)
            position = offset + 1
        case MessagePackFormat.array16:
            count = Int(try load(UInt16.self, at: offset + 1))
            position = offset + 3
        case MessagePackFormat.array32:
            count = Int(try load(UInt32.self, at: offset + 1))
            position = offset + 5
        default:
            return nil
        }
        // The same limits as for the container this replaces.
        guard level(of: parent) < maximumDepth, depth < maximumDepth else { throw .depthLimitExceeded(maximumDepth) }
        // Every element takes at least one byte: check before reserving memory.
        guard count <= bytes.count - position else { throw .truncated }
        var elements: [Element] = []
        elements.reserveCapacity(count)
        for index in 0..<count {
            do {
                elements.append(try readElement(self, &position))
            } catch {
                throw error.withCodingPath(
                    MessagePackCodingKey.render(self.path(through: parent) + [MessagePackCodingKey(intValue: index)])
                )
            }
        }
        return (elements, position)
    }

    /// Nesting level of container scope `scope` (0 for -1, the top level, and for scopes that no
    /// longer exist, as seen by a decoder that user code kept after `decode` returned).
    private func level(of scope: Int) -> Int {
        scope >= 0 && scope < scopes.count ? scopes[scope].level : 0
    }

    private func makeID() -> UInt32 {
        lastID &+= 1
        if lastID == 0 { lastID = 1 }
        return lastID
    }

    // MARK: Scopes

    func checkScope(_ index: Int, _ id: UInt32) throws(MessagePackError) {
        guard index < scopes.count, scopes[index].id == id else {
            throw .decodingFailed("a decoding container was used after the value it belongs to finished decoding")
        }
    }

    func isValidScope(_ index: Int, _ id: UInt32) -> Bool {
        index < scopes.count && scopes[index].id == id
    }

    /// Scans the map at `offset` and pushes its scope. Returns the scope index.
    func openMap(at offset: Int, parent: Int) throws(MessagePackError) -> Int {
        let level = level(of: parent) + 1
        guard level <= maximumDepth else { throw .depthLimitExceeded(maximumDepth) }
        let typeByte = try byte(at: offset)
        var position: Int
        let count: Int
        switch typeByte {
        case 0x80...0x8f:
            count = Int(typeByte & 0x0f)
            position = offset + 1
        case MessagePackFormat.map16:
            count = Int(try load(UInt16.self, at: offset + 1))
            position = offset + 3
        case MessagePackFormat.map32:
            count = Int(try load(UInt32.self, at: offset + 1))
            position = offset + 5
        default:
            throw mismatch(expected: "map", byte: typeByte).withCodingPath(self.renderedPath(through: parent))
        }
        // Every entry takes at least two bytes: reject impossible counts before doing any work.
        guard count <= (bytes.count - position) / 2 else { throw .truncated }

        let firstEntry = entries.count
        entries.reserveCapacity(firstEntry + count)
        for _ in 0..<count {
            let keyStart = position
            let keyByte = try byte(at: position)
            let hash: UInt32
            if let (dataStart, length) = try stringHeader(at: position, byte: keyByte) {
                hash = try hashValidatingKey(at: dataStart, length: length)
                position = dataStart + length
            } else if Self.isInteger(keyByte) {
                hash = Self.hash(try integerKeyText(at: &position))
            } else {
                throw .typeMismatch(
                    expected: "string or integer map key",
                    found: MessagePackFormat.typeName(of: keyByte),
                    codingPath: renderedPath(through: parent)
                )
            }
            let valueStart = position
            position = try skip(from: position, level: level)
            entries.append(Entry(keyStart: keyStart, valueStart: valueStart, hash: hash))
        }

        var scope = Scope(
            id: makeID(),
            parent: parent,
            level: level,
            kind: .map,
            start: offset,
            end: position,
            count: count,
            firstEntry: firstEntry,
            nextOffset: position
        )
        if count > Self.linearLookupLimit {
            try buildTable(for: &scope, parent: parent)
        } else if count > 1 {
            for i in (firstEntry + 1)..<(firstEntry + count) {
                for j in firstEntry..<i where entries[i].hash == entries[j].hash && keysEqual(i, j) {
                    throw .duplicateKey(keyText(ofEntry: i), codingPath: renderedPath(through: parent))
                }
            }
        }
        scopes.append(scope)
        return scopes.count - 1
    }

    /// Builds the open-addressing index of a large map, rejecting duplicate keys.
    private func buildTable(for scope: inout Scope, parent: Int) throws(MessagePackError) {
        var size = 2
        while size < scope.count * 2 { size <<= 1 }
        let tableStart = table.count
        table.append(repeating: -1, count: size)
        let mask = size - 1
        for entry in scope.firstEntry..<(scope.firstEntry + scope.count) {
            var slot = Int(entries[entry].hash) & mask
            while true {
                let existing = table[tableStart + slot]
                if existing < 0 {
                    table[tableStart + slot] = entry
                    break
                }
                if entries[existing].hash == entries[entry].hash && keysEqual(existing, entry) {
                    throw .duplicateKey(keyText(ofEntry: entry), codingPath: renderedPath(through: parent))
                }
                slot = (slot + 1) & mask
            }
        }
        scope.tableStart = tableStart
        scope.tableMask = mask
    }

    /// Reads the array (or bin, see `ScopeKind.binary`) header at `offset` and pushes its scope.
    func openArray(at offset: Int, parent: Int) throws(MessagePackError) -> Int {
        let level = level(of: parent) + 1
        guard level <= maximumDepth else { throw .depthLimitExceeded(maximumDepth) }
        let typeByte = try byte(at: offset)
        var kind = ScopeKind.array
        let position: Int
        let count: Int
        switch typeByte {
        case 0x90...0x9f:
            count = Int(typeByte & 0x0f)
            position = offset + 1
        case MessagePackFormat.array16:
            count = Int(try load(UInt16.self, at: offset + 1))
            position = offset + 3
        case MessagePackFormat.array32:
            count = Int(try load(UInt32.self, at: offset + 1))
            position = offset + 5
        default:
            guard let (dataStart, length) = try binaryHeader(at: offset) else {
                throw mismatch(expected: "array", byte: typeByte).withCodingPath(self.renderedPath(through: parent))
            }
            kind = .binary
            count = length
            position = dataStart
        }
        // Every element takes at least one byte.
        guard count <= bytes.count - position else { throw .truncated }
        scopes.append(
            Scope(
                id: makeID(),
                parent: parent,
                level: level,
                kind: kind,
                start: offset,
                end: kind == .binary || count == 0 ? position + count : -1,
                count: count,
                firstEntry: 0,
                nextOffset: position
            )
        )
        return scopes.count - 1
    }

    // MARK: Keyed access

    /// Finds the entry for `key` in map scope `index`; nil if the map has no such key.
    func findEntry(_ index: Int, _ id: UInt32, key: String) throws(MessagePackError) -> Int? {
        try checkScope(index, id)
        let scope = scopes[index]
        // Fast path: keys are usually read in the order they were written.
        let expected = scope.firstEntry + scope.cursor
        if scope.cursor < scope.count, keyMatches(expected, key) {
            scopes[index].cursor = scope.cursor + 1
            return expected
        }
        let hash = Self.hash(key)
        var found: Int? = nil
        if scope.tableStart >= 0 {
            var slot = Int(hash) & scope.tableMask
            while true {
                let entry = table[scope.tableStart + slot]
                if entry < 0 { break }
                if entries[entry].hash == hash && keyMatches(entry, key) {
                    found = entry
                    break
                }
                slot = (slot + 1) & scope.tableMask
            }
        } else {
            for entry in scope.firstEntry..<(scope.firstEntry + scope.count)
            where entries[entry].hash == hash && keyMatches(entry, key) {
                found = entry
                break
            }
        }
        if let found { scopes[index].cursor = found - scope.firstEntry + 1 }
        return found
    }

    func valueOffset(ofEntry entry: Int) -> Int {
        entries[entry].valueStart
    }

    /// Records the entry (maps) or element index (arrays) of the nested value about to be decoded.
    func setChild(_ index: Int, _ child: Int) {
        scopes[index].child = child
    }

    /// The keys of map scope `index`, in the order of the data.
    func allKeys(_ index: Int, _ id: UInt32) -> [String] {
        guard isValidScope(index, id) else { return [] }
        let scope = scopes[index]
        return (scope.firstEntry..<(scope.firstEntry + scope.count)).map { keyText(ofEntry: $0) }
    }

    // MARK: Unkeyed access

    /// Returns the offset of the next element of array scope `index`.
    func beginElement(_ index: Int, _ id: UInt32, expected: @autoclosure () -> String) throws(MessagePackError) -> Int {
        try checkScope(index, id)
        let scope = scopes[index]
        guard scope.cursor < scope.count else {
            throw .valueNotFound(expected: expected(), codingPath: renderedPath(through: index, element: scope.cursor))
        }
        return scope.nextOffset
    }

    /// Moves array scope `index` past the element that ends at `next`.
    func endElement(_ index: Int, next: Int) {
        scopes[index].cursor += 1
        scopes[index].nextOffset = next
    }

    func scopeKind(_ index: Int) -> ScopeKind {
        scopes[index].kind
    }

    func elementCount(_ index: Int, _ id: UInt32) -> Int {
        isValidScope(index, id) ? scopes[index].count : 0
    }

    func currentIndex(_ index: Int, _ id: UInt32) -> Int {
        isValidScope(index, id) ? scopes[index].cursor : 0
    }

    func isAtEnd(_ index: Int, _ id: UInt32) -> Bool {
        guard isValidScope(index, id) else { return true }
        return scopes[index].cursor >= scopes[index].count
    }

    func levelOfScope(_ index: Int) -> Int {
        scopes[index].level
    }

    /// The end offset of the most recently opened container (maps and binary: known when opened).
    func endOfLastScope() -> Int {
        scopes[scopes.count - 1].end
    }

    // MARK: Coding paths

    /// The coding path of the value currently decoded inside scope `scope` (-1: the top-level value).
    func path(through scope: Int) -> [any CodingKey] {
        var keys: [any CodingKey] = []
        var index = scope
        while index >= 0 && index < scopes.count {
            let current = scopes[index]
            switch current.kind {
            case .map:
                let name = current.child >= 0 && current.child < entries.count ? keyText(ofEntry: current.child) : "?"
                keys.append(MessagePackCodingKey(stringValue: name))
            case .array, .binary:
                keys.append(MessagePackCodingKey(intValue: current.child))
            }
            index = current.parent
        }
        return keys.reversed()
    }

    /// The coding path of container scope `index` itself.
    func containerPath(_ index: Int, _ id: UInt32) -> [any CodingKey] {
        guard isValidScope(index, id) else { return [] }
        return path(through: scopes[index].parent)
    }

    func renderedPath(through scope: Int) -> String {
        MessagePackCodingKey.render(path(through: scope))
    }

    /// The path of element `element` of array scope `index`.
    func renderedPath(through index: Int, element: Int) -> String {
        MessagePackCodingKey.render(path(through: scopes[index].parent) + [MessagePackCodingKey(intValue: element)])
    }

    /// The path of `key` in map scope `index`.
    func renderedPath(through index: Int, key: some CodingKey) -> String {
        guard index < scopes.count else { return key.stringValue }
        return MessagePackCodingKey.render(path(through: scopes[index].parent) + [key])
    }

    // MARK: Reading

    @inline(__always)
    func byte(at offset: Int) throws(MessagePackError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated }
        return bytes[offset]
    }

    @inline(__always)
    func load<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) throws(MessagePackError) -> T {
        guard offset <= bytes.count - MemoryLayout<T>.size else { throw .truncated }
        return T(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    func isNil(at offset: Int) -> Bool {
        offset < bytes.count && bytes[offset] == MessagePackFormat.nil
    }

    /// The error for a value of the wrong type (nil: `valueNotFound`).
    func mismatch(expected: String, byte: UInt8) -> MessagePackError {
        switch byte {
        case MessagePackFormat.nil: return .valueNotFound(expected: expected, codingPath: "")
        case MessagePackFormat.neverUsed: return .invalidTypeByte(byte)
        default: return .typeMismatch(expected: expected, found: MessagePackFormat.typeName(of: byte), codingPath: "")
        }
    }

    static func isInteger(_ byte: UInt8) -> Bool {
        byte <= 0x7f || byte >= 0xe0 || (MessagePackFormat.uint8...MessagePackFormat.int64).contains(byte)
    }

    /// Reads a primitive value; `T` must be the Swift type of `kind`.
    @inline(__always)
    func readPrimitive<T>(_ kind: MessagePackPrimitive, at position: inout Int) throws(MessagePackError) -> T {
        switch kind {
        case .string: return unsafeBitCast(try readString(at: &position), to: T.self)
        case .int: return unsafeBitCast(try readInteger(Int.self, at: &position), to: T.self)
        case .double: return unsafeBitCast(try readDouble(at: &position), to: T.self)
        case .bool: return unsafeBitCast(try readBool(at: &position), to: T.self)
        case .int64: return unsafeBitCast(try readInteger(Int64.self, at: &position), to: T.self)
        case .uint64: return unsafeBitCast(try readInteger(UInt64.self, at: &position), to: T.self)
        case .float: return unsafeBitCast(try readFloat(at: &position), to: T.self)
        case .int32: return unsafeBitCast(try readInteger(Int32.self, at: &position), to: T.self)
        case .uint32: return unsafeBitCast(try readInteger(UInt32.self, at: &position), to: T.self)
        case .uint: return unsafeBitCast(try readInteger(UInt.self, at: &position), to: T.self)
        case .int16: return unsafeBitCast(try readInteger(Int16.self, at: &position), to: T.self)
        case .uint16: return unsafeBitCast(try readInteger(UInt16.self, at: &position), to: T.self)
        case .int8: return unsafeBitCast(try readInteger(Int8.self, at: &position), to: T.self)
        case .uint8: return unsafeBitCast(try readInteger(UInt8.self, at: &position), to: T.self)
        }
    }

    /// Reads an integer of any MessagePack integer format into `T`.
    @inline(__always)
    func readInteger<T: FixedWidthInteger>(_ type: T.Type, at position: inout Int) throws(MessagePackError) -> T {
        let typeByte = try byte(at: position)
        if typeByte <= MessagePackFormat.positiveFixIntMax {
            position += 1
            return try Self.exactly(typeByte)
        }
        if typeByte >= MessagePackFormat.negativeFixIntMin {
            position += 1
            return try Self.exactly(Int8(bitPattern: typeByte))
        }
        let value: T
        switch typeByte {
        case MessagePackFormat.uint8:
            value = try Self.exactly(try load(UInt8.self, at: position + 1))
            position += 2
        case MessagePackFormat.uint16:
            value = try Self.exactly(try load(UInt16.self, at: position + 1))
            position += 3
        case MessagePackFormat.uint32:
            value = try Self.exactly(try load(UInt32.self, at: position + 1))
            position += 5
        case MessagePackFormat.uint64:
            value = try Self.exactly(try load(UInt64.self, at: position + 1))
            position += 9
        case MessagePackFormat.int8:
            value = try Self.exactly(try load(Int8.self, at: position + 1))
            position += 2
        case MessagePackFormat.int16:
            value = try Self.exactly(try load(Int16.self, at: position + 1))
            position += 3
        case MessagePackFormat.int32:
            value = try Self.exactly(try load(Int32.self, at: position + 1))
            position += 5
        case MessagePackFormat.int64:
            value = try Self.exactly(try load(Int64.self, at: position + 1))
            position += 9
        default:
            throw mismatch(expected: String(describing: T.self), byte: typeByte)
        }
        return value
    }

    @inline(__always)
    static func exactly<T: FixedWidthInteger, Source: BinaryInteger>(_ value: Source) throws(MessagePackError) -> T {
        guard let result = T(exactly: value) else { throw .valueOutOfRange(codingPath: "") }
        return result
    }

    func readBool(at position: inout Int) throws(MessagePackError) -> Bool {
        let typeByte = try byte(at: position)
        switch typeByte {
        case MessagePackFormat.true:
            position += 1
            return true
        case MessagePackFormat.false:
            position += 1
            return false
        default:
            throw mismatch(expected: "Bool", byte: typeByte)
        }
    }

    /// Reads float64 or float32; integers are accepted when exactly representable.
    func readDouble(at position: inout Int) throws(MessagePackError) -> Double {
        let typeByte = try byte(at: position)
        switch typeByte {
        case MessagePackFormat.float64:
            let value = Double(bitPattern: try load(UInt64.self, at: position + 1))
            position += 9
            return value
        case MessagePackFormat.float32:
            let value = Double(Float(bitPattern: try load(UInt32.self, at: position + 1)))
            position += 5
            return value
        case _ where Self.isInteger(typeByte):
            let result: Double?
            if typeByte == MessagePackFormat.uint64 {
                result = Double(exactly: try readInteger(UInt64.self, at: &position))
            } else {
                result = Double(exactly: try readInteger(Int64.self, at: &position))
            }
            guard let result else { throw .valueOutOfRange(codingPath: "") }
            return result
        default:
            throw mismatch(expected: "Double", byte: typeByte)
        }
    }

    /// Reads float32 or float64 (narrowed; finite values beyond `Float`'s range are out of range);
    /// integers are accepted when exactly representable.
    func readFloat(at position: inout Int) throws(MessagePackError) -> Float {
        let typeByte = try byte(at: position)
        switch typeByte {
        case MessagePackFormat.float32:
            let value = Float(bitPattern: try load(UInt32.self, at: position + 1))
            position += 5
            return value
        case MessagePackFormat.float64:
            let value = Double(bitPattern: try load(UInt64.self, at: position + 1))
            guard !value.isFinite || value.magnitude <= Double(Float.greatestFiniteMagnitude) else {
                throw .valueOutOfRange(codingPath: "")
            }
            position += 9
            return Float(value)
        case _ where Self.isInteger(typeByte):
            let result: Float?
            if typeByte == MessagePackFormat.uint64 {
                result = Float(exactly: try readInteger(UInt64.self, at: &position))
            } else {
                result = Float(exactly: try readInteger(Int64.self, at: &position))
            }
            guard let result else { throw .valueOutOfRange(codingPath: "") }
            return result
        default:
            throw mismatch(expected: "Float", byte: typeByte)
        }
    }

    func readString(at position: inout Int) throws(MessagePackError) -> String {
        let typeByte = try byte(at: position)
        guard let (dataStart, length) = try stringHeader(at: position, byte: typeByte) else {
            throw mismatch(expected: "String", byte: typeByte)
        }
        let raw = UnsafeRawBufferPointer(rebasing: bytes[dataStart..<dataStart + length])
        guard MessagePackUTF8.isValid(raw) else { throw .invalidUTF8 }
        position = dataStart + length
        return String(decoding: raw, as: UTF8.self)
    }

    /// Parses a str header: the offset and length of the string's bytes, which are checked to be
    /// present. Nil if `byte` is not a str type.
    @inline(__always)
    func stringHeader(at offset: Int, byte typeByte: UInt8) throws(MessagePackError) -> (Int, Int)? {
        let dataStart: Int
        let length: Int
        switch typeByte {
        case 0xa0...0xbf:
            dataStart = offset + 1
            length = Int(typeByte & 0x1f)
        case MessagePackFormat.str8:
            dataStart = offset + 2
            length = Int(try load(UInt8.self, at: offset + 1))
        case MessagePackFormat.str16:
            dataStart = offset + 3
            length = Int(try load(UInt16.self, at: offset + 1))
        case MessagePackFormat.str32:
            dataStart = offset + 5
            length = Int(try load(UInt32.self, at: offset + 1))
        default:
            return nil
        }
        guard length <= bytes.count - dataStart else { throw .truncated }
        return (dataStart, length)
    }

    /// Parses a bin header like `stringHeader`. Nil if the value at `offset` is not bin.
    func binaryHeader(at offset: Int) throws(MessagePackError) -> (Int, Int)? {
        let dataStart: Int
        let length: Int
        switch try byte(at: offset) {
        case MessagePackFormat.bin8:
            dataStart = offset + 2
            length = Int(try load(UInt8.self, at: offset + 1))
        case MessagePackFormat.bin16:
            dataStart = offset + 3
            length = Int(try load(UInt16.self, at: offset + 1))
        case MessagePackFormat.bin32:
            dataStart = offset + 5
            length = Int(try load(UInt32.self, at: offset + 1))
        default:
            return nil
        }
        guard length <= bytes.count - dataStart else { throw .truncated }
        return (dataStart, length)
    }

    // MARK: Skipping

    /// Returns the offset just after the value at `offset`, checking its structure: types, lengths
    /// against the remaining input, and nesting (`level` containers enclose the value).
    @inline(__always)
    func skip(from offset: Int, level: Int) throws(MessagePackError) -> Int {
        // Fast path for the most common scalars, which are most map values.
        let typeByte = try byte(at: offset)
        switch typeByte {
        case 0x00...0x7f, 0xe0...0xff, MessagePackFormat.nil, MessagePackFormat.false, MessagePackFormat.true:
            return offset + 1
        case 0xa0...0xbf:
            let end = offset + 1 + Int(typeByte & 0x1f)
            guard end <= bytes.count else { throw .truncated }
            return end
        case MessagePackFormat.float32...MessagePackFormat.int64:
            // float32, float64, uint8...uint64, int8...int64: a type byte and 1, 2, 4 or 8 bytes.
            let end = offset + Self.fixedSizes[Int(typeByte - MessagePackFormat.float32)]
            guard end <= bytes.count else { throw .truncated }
            return end
        default:
            return try skipAny(from: offset, level: level)
        }
    }

    /// Total sizes of the fixed-size formats 0xca (float32) through 0xd3 (int64).
    private static let fixedSizes = [5, 9, 2, 3, 5, 9, 2, 3, 5, 9]

    /// `skip` for any value. Iterative, with `skipStack` holding the remaining element counts of
    /// the enclosing containers, so that deep nesting cannot overflow the call stack.
    private func skipAny(from offset: Int, level: Int) throws(MessagePackError) -> Int {
        var position = offset
        var remaining = 1
        var currentLevel = level
        skipStack.removeAll()
        while true {
            if remaining == 0 {
                guard let outer = skipStack.popLast() else { return position }
                remaining = outer
                currentLevel -= 1
                continue
            }
            remaining -= 1
            let typeByte = try byte(at: position)
            var header = 1
            var payload = 0
            var children = -1  // -1: not a container
            switch typeByte {
            case 0x00...0x7f, 0xe0...0xff, MessagePackFormat.nil, MessagePackFormat.false, MessagePackFormat.true:
                break
            case 0x80...0x8f:
                children = Int(typeByte & 0x0f) * 2
            case 0x90...0x9f:
                children = Int(typeByte & 0x0f)
            case 0xa0...0xbf:
                payload = Int(typeByte & 0x1f)
            case MessagePackFormat.neverUsed:
                throw .invalidTypeByte(typeByte)
            case MessagePackFormat.bin8, MessagePackFormat.str8:
                header = 2
                payload = Int(try load(UInt8.self, at: position + 1))
            case MessagePackFormat.bin16, MessagePackFormat.str16:
                header = 3
                payload = Int(try load(UInt16.self, at: position + 1))
            case MessagePackFormat.bin32, MessagePackFormat.str32:
                header = 5
                payload = Int(try load(UInt32.self, at: position + 1))
            case MessagePackFormat.ext8:
                header = 3  // length, ext type
                payload = Int(try load(UInt8.self, at: position + 1))
            case MessagePackFormat.ext16:
                header = 4
                payload = Int(try load(UInt16.self, at: position + 1))
            case MessagePackFormat.ext32:
                header = 6
                payload = Int(try load(UInt32.self, at: position + 1))
            case MessagePackFormat.float32, MessagePackFormat.uint32, MessagePackFormat.int32:
                payload = 4
            case MessagePackFormat.float64, MessagePackFormat.uint64, MessagePackFormat.int64:
                payload = 8
            case MessagePackFormat.uint8, MessagePackFormat.int8:
                payload = 1
            case MessagePackFormat.uint16, MessagePackFormat.int16:
                payload = 2
            case MessagePackFormat.fixExt1...MessagePackFormat.fixExt16:
                header = 2  // ext type
                payload = 1 << Int(typeByte - MessagePackFormat.fixExt1)
            case MessagePackFormat.array16:
                header = 3
                children = Int(try load(UInt16.self, at: position + 1))
            case MessagePackFormat.array32:
                header = 5
                children = Int(try load(UInt32.self, at: position + 1))
            case MessagePackFormat.map16:
                header = 3
                children = Int(try load(UInt16.self, at: position + 1)) * 2
            case MessagePackFormat.map32:
                header = 5
                children = Int(try load(UInt32.self, at: position + 1)) * 2
            default:
                throw .invalidTypeByte(typeByte)  // unreachable: every byte is covered above
            }
            guard header + payload <= bytes.count - position else { throw .truncated }
            position += header + payload
            if children >= 0 {
                guard currentLevel < maximumDepth else { throw .depthLimitExceeded(maximumDepth) }
                if children > 0 {
                    // Every element takes at least one byte.
                    guard children <= bytes.count - position else { throw .truncated }
                    skipStack.append(remaining)
                    remaining = children
                    currentLevel += 1
                }
            }
        }
    }

    // MARK: Keys

    /// Hashes a string key's bytes, checking that they are valid UTF-8.
    private func hashValidatingKey(at start: Int, length: Int) throws(MessagePackError) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        var allBits: UInt8 = 0
        for offset in start..<(start + length) {
            let byte = bytes[offset]
            allBits |= byte
            hash = (hash ^ UInt32(byte)) &* 16_777_619
        }
        if allBits & 0x80 != 0 {
            guard MessagePackUTF8.isValid(UnsafeRawBufferPointer(rebasing: bytes[start..<start + length])) else {
                throw .invalidUTF8
            }
        }
        return hash
    }

    /// FNV-1a over a string's UTF-8 bytes; must agree with `hashValidatingKey`.
    static func hash(_ key: String) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in key.utf8 {
            hash = (hash ^ UInt32(byte)) &* 16_777_619
        }
        return hash
    }

    /// Reads an integer map key and returns its decimal text, which is how integer coding keys match.
    private func integerKeyText(at position: inout Int) throws(MessagePackError) -> String {
        if try byte(at: position) == MessagePackFormat.uint64 {
            return String(try readInteger(UInt64.self, at: &position))
        }
        return String(try readInteger(Int64.self, at: &position))
    }

    /// The key of `entry` as text (integer keys in decimal).
    func keyText(ofEntry entry: Int) -> String {
        var position = entries[entry].keyStart
        if let (dataStart, length) = try? stringHeader(at: position, byte: bytes[position]) {
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[dataStart..<dataStart + length]), as: UTF8.self)
        }
        return (try? integerKeyText(at: &position)) ?? ""
    }

    /// The key bytes of `entry` if it is a string key (validated when the map was scanned).
    @inline(__always)
    private func stringKeyBytes(ofEntry entry: Int) -> UnsafeRawBufferPointer? {
        let position = entries[entry].keyStart
        let typeByte = bytes[position]
        let dataStart: Int
        let length: Int
        switch typeByte {
        case 0xa0...0xbf:
            dataStart = position + 1
            length = Int(typeByte & 0x1f)
        case MessagePackFormat.str8:
            dataStart = position + 2
            length = Int(bytes[position + 1])
        case MessagePackFormat.str16:
            dataStart = position + 3
            length = Int(UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: position + 1, as: UInt16.self)))
        case MessagePackFormat.str32:
            dataStart = position + 5
            length = Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: position + 1, as: UInt32.self)))
        default:
            return nil
        }
        return UnsafeRawBufferPointer(rebasing: bytes[dataStart..<dataStart + length])
    }

    @inline(__always)
    private func keyMatches(_ entry: Int, _ key: String) -> Bool {
        guard let keyBytes = stringKeyBytes(ofEntry: entry) else {
            return keyText(ofEntry: entry) == key
        }
        var key = key
        return key.withUTF8 { Self.equal(UnsafeRawBufferPointer($0), keyBytes) }
    }

    private func keysEqual(_ first: Int, _ second: Int) -> Bool {
        if let a = stringKeyBytes(ofEntry: first), let b = stringKeyBytes(ofEntry: second) {
            return Self.equal(a, b)
        }
        return keyText(ofEntry: first) == keyText(ofEntry: second)
    }

    @inline(__always)
    private static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        var index = 0
        while index + 8 <= a.count {
            if a.loadUnaligned(fromByteOffset: index, as: UInt64.self) != b.loadUnaligned(fromByteOffset: index, as: UInt64.self) {
                return false
            }
            index += 8
        }
        while index < a.count {
            if a[index] != b[index] { return false }
            index += 1
        }
        return true
    }

    // MARK: Errors

    /// Maps an error thrown by user code (or by this codec, through Codable's untyped throws).
    static func map(_ error: any Error) -> MessagePackError {
        if let error = error as? MessagePackError { return error }
        if let error = error as? DecodingError {
            switch error {
            case .typeMismatch(let type, let context):
                return .typeMismatch(
                    expected: String(describing: type),
                    found: context.debugDescription,
                    codingPath: MessagePackCodingKey.render(context.codingPath)
                )
            case .valueNotFound(let type, let context):
                return .valueNotFound(
                    expected: String(describing: type),
                    codingPath: MessagePackCodingKey.render(context.codingPath)
                )
            case .keyNotFound(let key, let context):
                return .keyNotFound(key.stringValue, codingPath: MessagePackCodingKey.render(context.codingPath))
            case .dataCorrupted(let context):
                let path = MessagePackCodingKey.render(context.codingPath)
                return .decodingFailed("\(context.debugDescription) (at \(path.isEmpty ? "<root>" : "'\(path)'"))")
            @unknown default:
                return .decodingFailed(String(describing: error))
            }
        }
        return .decodingFailed(String(describing: error))
    }
}
