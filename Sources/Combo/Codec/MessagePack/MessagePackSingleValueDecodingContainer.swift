/// Reads the value a `Decoder` stands for. Reading does not consume anything, so a type may try
/// several types in turn (`try? decode(Int.self)`, then `decode(String.self)`).
///
/// Kept to three words so that returning it as `any SingleValueDecodingContainer` does not allocate.
struct MessagePackSingleValueDecodingContainer: SingleValueDecodingContainer {
    let context: MessagePackDecodingContext
    let offset: Int
    /// The scope holding the value (-1: the top-level value).
    let parent: Int

    var codingPath: [any CodingKey] { context.path(through: parent) }

    @inline(__always)
    private func read<T>(
        _ reader: (MessagePackDecodingContext, inout Int) throws(MessagePackError) -> T
    ) throws(MessagePackError) -> T {
        var position = offset
        do {
            return try reader(context, &position)
        } catch {
            throw error.withCodingPath(context.renderedPath(through: parent))
        }
    }

    @inline(__always)
    private func integer<T: FixedWidthInteger>(_ type: T.Type) throws(MessagePackError) -> T {
        try read { (context, position) throws(MessagePackError) in try context.readInteger(T.self, at: &position) }
    }

    func decodeNil() -> Bool {
        context.isNil(at: offset)
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        try read { (context, position) throws(MessagePackError) in try context.readBool(at: &position) }
    }

    func decode(_ type: String.Type) throws -> String {
        try read { (context, position) throws(MessagePackError) in try context.readString(at: &position) }
    }

    func decode(_ type: Double.Type) throws -> Double {
        try read { (context, position) throws(MessagePackError) in try context.readDouble(at: &position) }
    }

    func decode(_ type: Float.Type) throws -> Float {
        try read { (context, position) throws(MessagePackError) in try context.readFloat(at: &position) }
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(UInt64.self) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try context.decodeValue(T.self, at: offset, parent: parent, needEnd: false).value
    }
}
