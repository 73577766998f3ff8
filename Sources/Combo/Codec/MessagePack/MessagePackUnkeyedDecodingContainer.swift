/// Reads a MessagePack array element by element; also reads a bin value as a sequence of `UInt8`
/// elements (see `MessagePackDecodingContext.ScopeKind.binary`).
///
/// Kept to three words so that returning it as `any UnkeyedDecodingContainer` does not allocate;
/// the read position lives in the context's scope.
struct MessagePackUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let context: MessagePackDecodingContext
    let scopeIndex: Int
    let scopeID: UInt32

    var codingPath: [any CodingKey] { context.containerPath(scopeIndex, scopeID) }

    var count: Int? { context.elementCount(scopeIndex, scopeID) }

    var isAtEnd: Bool { context.isAtEnd(scopeIndex, scopeID) }

    var currentIndex: Int { context.currentIndex(scopeIndex, scopeID) }

    private var isBinary: Bool { context.scopeKind(scopeIndex) == .binary }

    private func annotate(_ error: MessagePackError) -> MessagePackError {
        error.withCodingPath(context.renderedPath(through: scopeIndex, element: currentIndex))
    }

    private func binaryMismatch(_ expected: String) -> MessagePackError {
        .typeMismatch(expected: expected, found: "binary", codingPath: context.renderedPath(through: scopeIndex, element: currentIndex))
    }

    // MARK: Reading helpers

    @inline(__always)
    private mutating func integer<T: FixedWidthInteger>(_ type: T.Type) throws(MessagePackError) -> T {
        let offset = try context.beginElement(scopeIndex, scopeID, expected: String(describing: T.self))
        var position = offset
        let value: T
        do {
            if isBinary {
                value = try MessagePackDecodingContext.exactly(try context.byte(at: offset))
                position = offset + 1
            } else {
                value = try context.readInteger(T.self, at: &position)
            }
        } catch {
            throw annotate(error)
        }
        context.endElement(scopeIndex, next: position)
        return value
    }

    @inline(__always)
    private mutating func read<T>(
        _ expected: @autoclosure () -> String,
        _ reader: (MessagePackDecodingContext, inout Int) throws(MessagePackError) -> T
    ) throws(MessagePackError) -> T {
        let offset = try context.beginElement(scopeIndex, scopeID, expected: expected())
        guard !isBinary else { throw binaryMismatch(expected()) }
        var position = offset
        let value: T
        do {
            value = try reader(context, &position)
        } catch {
            throw annotate(error)
        }
        context.endElement(scopeIndex, next: position)
        return value
    }

    // MARK: Decoding

    mutating func decodeNil() throws -> Bool {
        let offset = try context.beginElement(scopeIndex, scopeID, expected: "nil")
        guard !isBinary, context.isNil(at: offset) else { return false }
        context.endElement(scopeIndex, next: offset + 1)
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool {
        try read("Bool") { (context, position) throws(MessagePackError) in try context.readBool(at: &position) }
    }

    mutating func decode(_ type: String.Type) throws -> String {
        try read("String") { (context, position) throws(MessagePackError) in try context.readString(at: &position) }
    }

    mutating func decode(_ type: Double.Type) throws -> Double {
        try read("Double") { (context, position) throws(MessagePackError) in try context.readDouble(at: &position) }
    }

    mutating func decode(_ type: Float.Type) throws -> Float {
        try read("Float") { (context, position) throws(MessagePackError) in try context.readFloat(at: &position) }
    }

    mutating func decode(_ type: Int.Type) throws -> Int { try integer(Int.self) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try integer(Int8.self) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try integer(Int16.self) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try integer(Int32.self) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try integer(Int64.self) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try integer(UInt.self) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(UInt8.self) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(UInt16.self) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(UInt32.self) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(UInt64.self) }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let offset = try context.beginElement(scopeIndex, scopeID, expected: String(describing: T.self))
        if isBinary {
            // A byte of a bin value can only become an integer.
            if let integerType = T.self as? any FixedWidthInteger.Type,
                let value = integerType.init(exactly: try context.byte(at: offset)) as? T
            {
                context.endElement(scopeIndex, next: offset + 1)
                return value
            }
            throw binaryMismatch(String(describing: T.self))
        }
        context.setChild(scopeIndex, currentIndex)
        let (value, end) = try context.decodeValue(T.self, at: offset, parent: scopeIndex, needEnd: true)
        context.endElement(scopeIndex, next: end)
        return value
    }

    // MARK: Nested containers

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let offset = try context.beginElement(scopeIndex, scopeID, expected: "map")
        guard !isBinary else { throw binaryMismatch("map") }
        context.setChild(scopeIndex, currentIndex)
        let container: KeyedDecodingContainer<NestedKey> = try context.keyedContainer(at: offset, parent: scopeIndex)
        context.endElement(scopeIndex, next: context.endOfLastScope())
        return container
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let offset = try context.beginElement(scopeIndex, scopeID, expected: "array")
        guard !isBinary else { throw binaryMismatch("array") }
        context.setChild(scopeIndex, currentIndex)
        let container = try context.unkeyedContainer(at: offset, parent: scopeIndex)
        // The nested array's end is only known once it is read; find it now.
        context.endElement(scopeIndex, next: try context.skip(from: offset, level: context.levelOfScope(scopeIndex)))
        return container
    }

    mutating func superDecoder() throws -> any Decoder {
        let offset = try context.beginElement(scopeIndex, scopeID, expected: "value")
        guard !isBinary else { throw binaryMismatch("value") }
        context.setChild(scopeIndex, currentIndex)
        let end = try context.skip(from: offset, level: context.levelOfScope(scopeIndex))
        let decoder = MessagePackSuperDecoder(context: context, offset: offset, parent: scopeIndex)
        context.endElement(scopeIndex, next: end)
        return decoder
    }
}
