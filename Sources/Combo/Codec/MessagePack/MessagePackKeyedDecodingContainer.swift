/// Reads a MessagePack map. The map was scanned when the container was created (see
/// `MessagePackDecodingContext.openMap`); every access is a key lookup followed by a read in place.
struct MessagePackKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let context: MessagePackDecodingContext
    let scopeIndex: Int
    let scopeID: UInt32

    var codingPath: [any CodingKey] { context.containerPath(scopeIndex, scopeID) }

    var allKeys: [Key] {
        context.allKeys(scopeIndex, scopeID).compactMap { Key(stringValue: $0) }
    }

    func contains(_ key: Key) -> Bool {
        (try? context.findEntry(scopeIndex, scopeID, key: key.stringValue)) != nil
    }

    // MARK: Lookup

    /// The entry for `key`; throws `keyNotFound` if there is none.
    @inline(__always)
    private func requireEntry(_ key: Key) throws(MessagePackError) -> Int {
        guard let entry = try context.findEntry(scopeIndex, scopeID, key: key.stringValue) else {
            throw .keyNotFound(key.stringValue, codingPath: MessagePackCodingKey.render(codingPath))
        }
        return entry
    }

    /// The offset of the value for `key`; throws `keyNotFound` if there is none.
    @inline(__always)
    private func valueOffset(_ key: Key) throws(MessagePackError) -> Int {
        context.valueOffset(ofEntry: try requireEntry(key))
    }

    /// The offset of the value for `key`, or nil if the key is missing or its value is nil.
    @inline(__always)
    private func presentValueOffset(_ key: Key) throws(MessagePackError) -> Int? {
        guard let entry = try context.findEntry(scopeIndex, scopeID, key: key.stringValue) else { return nil }
        let offset = context.valueOffset(ofEntry: entry)
        return context.isNil(at: offset) ? nil : offset
    }

    private func annotate(_ error: MessagePackError, _ key: Key) -> MessagePackError {
        error.withCodingPath(context.renderedPath(through: scopeIndex, key: key))
    }

    @inline(__always)
    private func integer<T: FixedWidthInteger>(_ type: T.Type, at offset: Int, _ key: Key) throws(MessagePackError) -> T {
        var position = offset
        do {
            return try context.readInteger(T.self, at: &position)
        } catch {
            throw annotate(error, key)
        }
    }

    @inline(__always)
    private func integer<T: FixedWidthInteger>(_ type: T.Type, forKey key: Key) throws(MessagePackError) -> T {
        try integer(T.self, at: valueOffset(key), key)
    }

    @inline(__always)
    private func integerIfPresent<T: FixedWidthInteger>(_ type: T.Type, forKey key: Key) throws(MessagePackError) -> T? {
        guard let offset = try presentValueOffset(key) else { return nil }
        return try integer(T.self, at: offset, key)
    }

    private func read<T>(
        at offset: Int,
        _ key: Key,
        _ reader: (MessagePackDecodingContext, inout Int) throws(MessagePackError) -> T
    ) throws(MessagePackError) -> T {
        var position = offset
        do {
            return try reader(context, &position)
        } catch {
            throw annotate(error, key)
        }
    }

    // MARK: Decoding

    func decodeNil(forKey key: Key) throws -> Bool {
        context.isNil(at: try valueOffset(key))
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        try read(at: valueOffset(key), key) { (context, position) throws(MessagePackError) in try context.readBool(at: &position) }
    }

    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        try read(at: valueOffset(key), key) { (context, position) throws(MessagePackError) in try context.readString(at: &position) }
    }

    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        try read(at: valueOffset(key), key) { (context, position) throws(MessagePackError) in try context.readDouble(at: &position) }
    }

    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
        try read(at: valueOffset(key), key) { (context, position) throws(MessagePackError) in try context.readFloat(at: &position) }
    }

    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(Int.self, forKey: key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(Int8.self, forKey: key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(Int16.self, forKey: key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(Int32.self, forKey: key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(Int64.self, forKey: key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(UInt.self, forKey: key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(UInt8.self, forKey: key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(UInt16.self, forKey: key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(UInt32.self, forKey: key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(UInt64.self, forKey: key) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decodeValue(T.self, entry: requireEntry(key))
    }

    private func decodeValue<T: Decodable>(_ type: T.Type, entry: Int) throws(MessagePackError) -> T {
        context.setChild(scopeIndex, entry)
        return try context.decodeValue(T.self, at: context.valueOffset(ofEntry: entry), parent: scopeIndex, needEnd: false).value
    }

    // MARK: decodeIfPresent (missing keys and nil values give nil)

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        guard let offset = try presentValueOffset(key) else { return nil }
        return try read(at: offset, key) { (context, position) throws(MessagePackError) in try context.readBool(at: &position) }
    }

    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        guard let offset = try presentValueOffset(key) else { return nil }
        return try read(at: offset, key) { (context, position) throws(MessagePackError) in try context.readString(at: &position) }
    }

    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        guard let offset = try presentValueOffset(key) else { return nil }
        return try read(at: offset, key) { (context, position) throws(MessagePackError) in try context.readDouble(at: &position) }
    }

    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? {
        guard let offset = try presentValueOffset(key) else { return nil }
        return try read(at: offset, key) { (context, position) throws(MessagePackError) in try context.readFloat(at: &position) }
    }

    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try integerIfPresent(Int.self, forKey: key) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try integerIfPresent(Int8.self, forKey: key) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try integerIfPresent(Int16.self, forKey: key) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try integerIfPresent(Int32.self, forKey: key) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try integerIfPresent(Int64.self, forKey: key) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try integerIfPresent(UInt.self, forKey: key) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try integerIfPresent(UInt8.self, forKey: key) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try integerIfPresent(UInt16.self, forKey: key) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try integerIfPresent(UInt32.self, forKey: key) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try integerIfPresent(UInt64.self, forKey: key) }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let entry = try context.findEntry(scopeIndex, scopeID, key: key.stringValue),
            !context.isNil(at: context.valueOffset(ofEntry: entry))
        else { return nil }
        return try decodeValue(T.self, entry: entry)
    }

    // MARK: Nested containers

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let entry = try requireEntry(key)
        context.setChild(scopeIndex, entry)
        return try context.keyedContainer(at: context.valueOffset(ofEntry: entry), parent: scopeIndex)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        let entry = try requireEntry(key)
        context.setChild(scopeIndex, entry)
        return try context.unkeyedContainer(at: context.valueOffset(ofEntry: entry), parent: scopeIndex)
    }

    func superDecoder() throws -> any Decoder {
        try makeSuperDecoder(key: MessagePackCodingKey.super.stringValue)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        try makeSuperDecoder(key: key.stringValue)
    }

    private func makeSuperDecoder(key: String) throws(MessagePackError) -> any Decoder {
        guard let entry = try context.findEntry(scopeIndex, scopeID, key: key) else {
            throw .keyNotFound(key, codingPath: MessagePackCodingKey.render(codingPath))
        }
        context.setChild(scopeIndex, entry)
        return MessagePackSuperDecoder(context: context, offset: context.valueOffset(ofEntry: entry), parent: scopeIndex)
    }
}
