/// Writes a MessagePack map whose keys are the coding keys' `stringValue`s.
///
/// Integer keys (for example of `[Int: V]`) are written in their string form too, which is what
/// their `stringValue` holds; the decoder turns them back into integer keys.
struct MessagePackKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let context: MessagePackEncodingContext
    let frameIndex: Int
    let frameID: UInt32

    var codingPath: [any CodingKey] { context.path(throughFrame: frameIndex - 1) }

    mutating func encodeNil(forKey key: Key) throws {
        try context.beginEntry(frameIndex, frameID, key: key.stringValue)
        context.writeNil()
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws {
        try context.beginEntry(frameIndex, frameID, key: key.stringValue)
        context.writeBool(value)
    }

    mutating func encode(_ value: String, forKey key: Key) throws {
        try context.beginEntry(frameIndex, frameID, key: key.stringValue)
        try context.writeString(value)
    }

    mutating func encode(_ value: Double, forKey key: Key) throws {
        try context.beginEntry(frameIndex, frameID, key: key.stringValue)
        context.writeDouble(value)
    }

    mutating func encode(_ value: Float, forKey key: Key) throws {
        try context.beginEntry(frameIndex, frameID, key: key.stringValue)
        context.writeFloat(value)
    }

    mutating func encode(_ value: Int, forKey key: Key) throws {
        try context.beginEntry(frameIndex, frameID, key: key.stringValue)
        context.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int8, forKey key: Key) throws {
        try context.beginEntry(frameIndex, frameID, key: key.stringValue)
        context.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int16, forKey key: Key) throws {
        try context.beginEntry(frameIndex, frameID, key: key.stringValue)
        context.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int32, forKey key: Key) throws {
        try context.beginEntry(frameIndex, frameID, key: key.stringValue)
        context.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int64, forKey key: Key) throws {
        try context.beginEntry(frameIndex, frameID, key: key.stringValue)
        context.writeSigned(value)
    }

    mutating func encode(_ value: UInt, forKey key: Key) throws {
        try context.beginEntry(frameIndex, frameID, key: key.stringValue)
        context.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt8, forKey key: Key) throws {
        try context.beginEntry(frameIndex, frameID, key: key.stringValue)
        context.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt16, forKey key: Key) throws {
        try context.beginEntry(frameIndex, frameID, key: key.stringValue)
        context.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt32, forKey key: Key) throws {
        try context.beginEntry(frameIndex, frameID, key: key.stringValue)
        context.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt64, forKey key: Key) throws {
        try context.beginEntry(frameIndex, frameID, key: key.stringValue)
        context.writeUnsigned(value)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try context.beginEntry(frameIndex, frameID, key: key.stringValue)
        try context.encodeValue(value)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let frame = beginNested(key)
        return KeyedEncodingContainer(
            MessagePackKeyedEncodingContainer<NestedKey>(context: context, frameIndex: frame.index, frameID: frame.id)
        )
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let frame = beginNested(key, isMap: false)
        return MessagePackUnkeyedEncodingContainer(context: context, frameIndex: frame.index, frameID: frame.id)
    }

    mutating func superEncoder() -> any Encoder {
        makeSuperEncoder(key: MessagePackCodingKey.super.stringValue)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        makeSuperEncoder(key: key.stringValue)
    }

    private func beginNested(_ key: Key, isMap: Bool = true) -> (index: Int, id: UInt32) {
        do {
            try context.beginEntry(frameIndex, frameID, key: key.stringValue)
        } catch {
            return (0, 0)  // recorded by the context; the returned container is invalid
        }
        return context.nestedFrame(isMap: isMap)
    }

    private func makeSuperEncoder(key: String) -> any Encoder {
        do {
            try context.beginEntry(frameIndex, frameID, key: key)
        } catch {
            return MessagePackSuperEncoder(context: context, slot: .init(parentIndex: 0, parentID: 0, id: 0, state: .written))
        }
        return MessagePackSuperEncoder(context: context, slot: context.makeSuperSlot(frameIndex))
    }
}
