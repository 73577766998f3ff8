/// Writes one value in place of the value being encoded.
///
/// Kept to three words so that returning it as `any SingleValueEncodingContainer` does not allocate.
struct MessagePackSingleValueEncodingContainer: SingleValueEncodingContainer {
    let context: MessagePackEncodingContext
    /// The encoder this container came from when it is a `superEncoder()`; nil for the shared context.
    let superEncoder: MessagePackSuperEncoder?
    let slotID: UInt32

    var codingPath: [any CodingKey] { superEncoder?.codingPath ?? context.codingPath }

    private func begin() throws(MessagePackError) {
        if let superEncoder {
            try context.beginSingleValue(slot: &superEncoder.slot, slotID: slotID, isSuperSlot: true)
        } else {
            try context.beginSingleValue(slot: &context.slot, slotID: slotID, isSuperSlot: false)
        }
    }

    mutating func encodeNil() throws {
        try begin()
        context.writeNil()
    }

    mutating func encode(_ value: Bool) throws {
        try begin()
        context.writeBool(value)
    }

    mutating func encode(_ value: String) throws {
        try begin()
        try context.writeString(value)
    }

    mutating func encode(_ value: Double) throws {
        try begin()
        context.writeDouble(value)
    }

    mutating func encode(_ value: Float) throws {
        try begin()
        context.writeFloat(value)
    }

    mutating func encode(_ value: Int) throws {
        try begin()
        context.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int8) throws {
        try begin()
        context.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int16) throws {
        try begin()
        context.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int32) throws {
        try begin()
        context.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int64) throws {
        try begin()
        context.writeSigned(value)
    }

    mutating func encode(_ value: UInt) throws {
        try begin()
        context.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt8) throws {
        try begin()
        context.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt16) throws {
        try begin()
        context.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt32) throws {
        try begin()
        context.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt64) throws {
        try begin()
        context.writeUnsigned(value)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try begin()
        try context.encodeValue(value)
    }
}
