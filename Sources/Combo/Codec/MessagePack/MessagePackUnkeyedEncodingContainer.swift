/// Writes a MessagePack array.
///
/// Kept to three words so that returning it as `any UnkeyedEncodingContainer` does not allocate.
struct MessagePackUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let context: MessagePackEncodingContext
    let frameIndex: Int
    let frameID: UInt32

    var codingPath: [any CodingKey] { context.path(throughFrame: frameIndex - 1) }

    var count: Int { context.elementCount(frameIndex, frameID) }

    mutating func encodeNil() throws {
        try context.beginElement(frameIndex, frameID)
        context.writeNil()
    }

    mutating func encode(_ value: Bool) throws {
        try context.beginElement(frameIndex, frameID)
        context.writeBool(value)
    }

    mutating func encode(_ value: String) throws {
        try context.beginElement(frameIndex, frameID)
        try context.writeString(value)
    }

    mutating func encode(_ value: Double) throws {
        try context.beginElement(frameIndex, frameID)
        context.writeDouble(value)
    }

    mutating func encode(_ value: Float) throws {
        try context.beginElement(frameIndex, frameID)
        context.writeFloat(value)
    }

    mutating func encode(_ value: Int) throws {
        try context.beginElement(frameIndex, frameID)
        context.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int8) throws {
        try context.beginElement(frameIndex, frameID)
        context.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int16) throws {
        try context.beginElement(frameIndex, frameID)
        context.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int32) throws {
        try context.beginElement(frameIndex, frameID)
        context.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int64) throws {
        try context.beginElement(frameIndex, frameID)
        context.writeSigned(value)
    }

    mutating func encode(_ value: UInt) throws {
        try context.beginElement(frameIndex, frameID)
        context.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt8) throws {
        try context.beginElement(frameIndex, frameID)
        context.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt16) throws {
        try context.beginElement(frameIndex, frameID)
        context.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt32) throws {
        try context.beginElement(frameIndex, frameID)
        context.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt64) throws {
        try context.beginElement(frameIndex, frameID)
        context.writeUnsigned(value)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try context.beginElement(frameIndex, frameID)
        try context.encodeValue(value)
    }

    /// Foundation's `Data` encodes itself through this method; an array that receives only such
    /// bytes is written as MessagePack bin (see `MessagePackEncodingContext.appendBytes`).
    mutating func encode<T: Sequence>(contentsOf sequence: T) throws where T.Element == UInt8 {
        try context.appendBytes(sequence, toFrame: frameIndex, frameID)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let frame = beginNested(isMap: true)
        return KeyedEncodingContainer(
            MessagePackKeyedEncodingContainer<NestedKey>(context: context, frameIndex: frame.index, frameID: frame.id)
        )
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let frame = beginNested(isMap: false)
        return MessagePackUnkeyedEncodingContainer(context: context, frameIndex: frame.index, frameID: frame.id)
    }

    mutating func superEncoder() -> any Encoder {
        do {
            try context.beginElement(frameIndex, frameID)
        } catch {
            return MessagePackSuperEncoder(context: context, slot: .init(parentIndex: 0, parentID: 0, id: 0, state: .written))
        }
        return MessagePackSuperEncoder(context: context, slot: context.makeSuperSlot(frameIndex))
    }

    private func beginNested(isMap: Bool) -> (index: Int, id: UInt32) {
        do {
            try context.beginElement(frameIndex, frameID)
        } catch {
            return (0, 0)  // recorded by the context; the returned container is invalid
        }
        return context.nestedFrame(isMap: isMap)
    }
}
