@testable import Combo
import NIOCore
import Testing

/// Encodes `value` and returns the bytes.
func encodedBytes<T: Encodable>(_ value: T, maximumDepth: Int = 256) throws(MessagePackError) -> [UInt8] {
    var buffer = ByteBufferAllocator().buffer(capacity: 16)
    try MessagePackEncoder(maximumDepth: maximumDepth).encode(value, into: &buffer)
    return Array(buffer.readableBytesView)
}

/// Decodes a value of type `T` from `bytes`.
func decoded<T: Decodable>(
    _ type: T.Type,
    from bytes: [UInt8],
    maximumDepth: Int = 256
) throws(MessagePackError) -> T {
    try MessagePackDecoder(maximumDepth: maximumDepth).decode(T.self, from: ByteBuffer(bytes: bytes))
}

/// Encodes and decodes `value`.
func roundTripped<T: Codable>(_ value: T) throws(MessagePackError) -> T {
    try decoded(T.self, from: encodedBytes(value))
}

/// Returns the error thrown by `body`, or nil if it did not throw.
///
/// Untyped so that it also works inside `#expect`, whose expansion rethrows `any Error`; any
/// other error than `MessagePackError` is recorded as a test failure.
func thrownError<T>(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T) -> MessagePackError? {
    do {
        _ = try body()
        return nil
    } catch let error as MessagePackError {
        return error
    } catch {
        Issue.record("unexpected error type: \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Parses hex such as "81 a1 61 01" (spaces optional).
func bytes(_ hex: String) -> [UInt8] {
    let digits = hex.filter { !$0.isWhitespace }
    var result: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        result.append(UInt8(digits[index..<next], radix: 16)!)
        index = next
    }
    return result
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined(separator: " ")
}

/// SplitMix64: a small deterministic generator for reproducible fuzzing.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A dynamically typed MessagePack value, for building inputs with a fixed key order and for
/// reading data whose shape is not known in advance (it decodes by trying each type in turn).
enum Value: Codable, Equatable, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral, ExpressibleByBooleanLiteral, ExpressibleByFloatLiteral, ExpressibleByNilLiteral
{
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case binary([UInt8])
    case array([Value])
    /// Key/value pairs in order (maps keep their order on the wire).
    case map([(String, Value)])

    init(integerLiteral value: Int64) { self = .int(value) }
    init(stringLiteral value: String) { self = .string(value) }
    init(arrayLiteral elements: Value...) { self = .array(elements) }
    init(dictionaryLiteral elements: (String, Value)...) { self = .map(elements) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(floatLiteral value: Double) { self = .double(value) }
    init(nilLiteral: ()) { self = .null }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .int(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .uint(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .double(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .string(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .binary(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .array(let values):
            var container = encoder.unkeyedContainer()
            for value in values { try container.encode(value) }
        case .map(let pairs):
            var container = encoder.container(keyedBy: MessagePackCodingKey.self)
            for (key, value) in pairs { try container.encode(value, forKey: MessagePackCodingKey(stringValue: key)) }
        }
    }

    /// Decodes by looking at the MessagePack type byte (tests can see the decoder's internals).
    init(from decoder: any Decoder) throws {
        switch Self.typeByte(decoder) ?? MessagePackFormat.neverUsed {
        case 0x90...0x9f, 0xdc, 0xdd:
            var container = try decoder.unkeyedContainer()
            var values: [Value] = []
            while !container.isAtEnd { values.append(try container.decode(Value.self)) }
            self = .array(values)
        case 0x80...0x8f, 0xde, 0xdf:
            let container = try decoder.container(keyedBy: MessagePackCodingKey.self)
            self = .map(try container.allKeys.map { ($0.stringValue, try container.decode(Value.self, forKey: $0)) })
        case 0xc4...0xc6:
            self = .binary(try decoder.singleValueContainer().decode([UInt8].self))
        case 0xc0:
            self = .null
        case 0xc2, 0xc3:
            self = .bool(try decoder.singleValueContainer().decode(Bool.self))
        case 0xcf:
            // Canonical form: values that fit Int64 are .int, as they decode after re-encoding.
            let value = try decoder.singleValueContainer().decode(UInt64.self)
            self = Int64(exactly: value).map { .int($0) } ?? .uint(value)
        case 0x00...0x7f, 0xe0...0xff, 0xcc...0xd3:
            self = .int(try decoder.singleValueContainer().decode(Int64.self))
        case 0xca, 0xcb:
            self = .double(try decoder.singleValueContainer().decode(Double.self))
        default:
            // Strings; anything else (extensions, 0xc1, no input) fails with the decoder's error.
            self = .string(try decoder.singleValueContainer().decode(String.self))
        }
    }

    private static func typeByte(_ decoder: any Decoder) -> UInt8? {
        guard let context = decoder as? MessagePackDecodingContext, context.valueStart < context.bytes.count else {
            return nil
        }
        return context.bytes[context.valueStart]
    }

    static func == (lhs: Value, rhs: Value) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.uint(let a), .uint(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.string(let a), .string(let b)): return a == b
        case (.binary(let a), .binary(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.map(let a), .map(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}
