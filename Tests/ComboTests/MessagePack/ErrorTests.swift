import Foundation
@testable import Combo
import NIOCore
import Testing

/// A recursive type for depth tests.
struct Tree: Codable, Equatable {
    var children: [Tree]

    static func chain(depth: Int) -> Tree {
        var tree = Tree(children: [])
        for _ in 0..<depth { tree = Tree(children: [tree]) }
        return tree
    }
}

indirect enum Nest: Codable {
    case leaf
    case node(Nest)
}

@Suite("Errors")
struct ErrorTests {
    // MARK: truncated, lengths

    @Test("truncated input", arguments: [
        "", "cd 01", "cf 00 00", "a5 61 62", "d9", "92 01", "82 a1 61 01", "c4 05 01", "cb 00 00 00",
        "dc 00", "de 00 02 a1 61", "d4 00", "c7 05 00 01",
    ])
    func truncated(hex: String) throws {
        #expect(thrownError { try decoded(Nothing.self, from: bytes(hex)) } == .truncated)
        if !hex.hasPrefix("d4"), !hex.hasPrefix("c7") {  // `Value` cannot hold extension types
            #expect(thrownError { try decoded(Value.self, from: bytes(hex)) } == .truncated)
        }
    }

    /// Accepts any value (skipping over it) so that only the structure of the input matters.
    struct Nothing: Decodable {
        init(from decoder: any Decoder) throws {}
    }

    @Test("huge declared lengths fail immediately without allocating")
    func hugeDeclaredLengths() throws {
        let clock = ContinuousClock()
        let start = clock.now
        // 5-byte inputs declaring 4 GiB arrays, maps, strings and binaries.
        #expect(thrownError { try decoded([Int].self, from: bytes("dd ff ff ff ff")) } == .truncated)
        #expect(thrownError { try decoded([Point].self, from: bytes("dd ff ff ff ff")) } == .truncated)
        #expect(thrownError { try decoded([[Int]].self, from: bytes("dd ff ff ff ff")) } == .truncated)
        #expect(thrownError { try decoded([String: Int].self, from: bytes("df ff ff ff ff")) } == .truncated)
        #expect(thrownError { try decoded(Point.self, from: bytes("df ff ff ff ff")) } == .truncated)
        #expect(thrownError { try decoded(String.self, from: bytes("db ff ff ff ff")) } == .truncated)
        #expect(thrownError { try decoded([UInt8].self, from: bytes("c6 ff ff ff ff")) } == .truncated)
        #expect(thrownError { try decoded(Data.self, from: bytes("c6 ff ff ff ff")) } == .truncated)
        #expect(thrownError { try decoded(Nothing.self, from: bytes("c9 ff ff ff ff 01")) } == .truncated)
        // Nested: a small array whose element declares a huge map.
        #expect(thrownError { try decoded([[String: Int]].self, from: bytes("91 df ff ff ff ff")) } == .truncated)
        #expect(clock.now - start < .seconds(1))
    }

    @Test("lengths beyond 32 bits cannot be encoded")
    func lengthTooLarge() throws {
        let context = MessagePackEncodingContext(maximumDepth: 256)
        let tooLong = Int(UInt32.max) + 1
        #expect(thrownError { try context.checkLength(tooLong) } == .lengthTooLarge(tooLong))
        #expect(context.deferredError == .lengthTooLarge(tooLong))
        #expect(thrownError { try context.checkLength(Int(UInt32.max)) } == nil)
    }

    // MARK: trailing bytes, invalid type bytes

    @Test("trailing bytes after the value")
    func trailingBytes() throws {
        #expect(thrownError { try decoded(Int.self, from: bytes("01 02")) } == .trailingBytes(count: 1))
        #expect(thrownError { try decoded([Int].self, from: bytes("91 01 c0 c0 c0")) } == .trailingBytes(count: 3))
        #expect(thrownError { try decoded(Point.self, from: bytes("82 a1 78 01 a1 79 02 00")) } == .trailingBytes(count: 1))
        // A value that reads only part of an array still has to span the input exactly.
        struct FirstOnly: Decodable {
            var first: Int
            init(from decoder: any Decoder) throws {
                var container = try decoder.unkeyedContainer()
                first = try container.decode(Int.self)
            }
        }
        #expect(try decoded(FirstOnly.self, from: bytes("93 01 02 03")).first == 1)
        #expect(thrownError { try decoded(FirstOnly.self, from: bytes("93 01 02 03 04")) } == .trailingBytes(count: 1))
        #expect(thrownError { try decoded(FirstOnly.self, from: bytes("93 01 02")) } == .truncated)
    }

    @Test("the never-used type byte 0xc1")
    func invalidTypeByte() throws {
        #expect(thrownError { try decoded(Int.self, from: [0xc1]) } == .invalidTypeByte(0xc1))
        #expect(thrownError { try decoded(Nothing.self, from: [0xc1]) } == .invalidTypeByte(0xc1))
        // Inside a map value that is skipped because no field asks for it.
        #expect(thrownError { try decoded(Point.self, from: bytes("83 a1 78 01 a1 79 02 a1 7a c1")) } == .invalidTypeByte(0xc1))
    }

    // MARK: type mismatches, missing keys and values

    @Test("type mismatches report expected and found types and the coding path")
    func typeMismatch() throws {
        #expect(
            thrownError { try decoded(Int.self, from: encodedBytes("5")) }
                == .typeMismatch(expected: "Int", found: "string", codingPath: "")
        )
        #expect(
            thrownError { try decoded(Point.self, from: encodedBytes([1, 2])) }
                == .typeMismatch(expected: "map", found: "array", codingPath: "")
        )
        #expect(
            thrownError { try decoded([Int].self, from: encodedBytes(["a": 1])) }
                == .typeMismatch(expected: "array", found: "map", codingPath: "")
        )
        let people = try encodedBytes(["items": [["street": "a", "tags": []], ["street": 5, "tags": []]]] as Value)
        struct Holder: Decodable { var items: [Address] }
        #expect(
            thrownError { try decoded(Holder.self, from: people) }
                == .typeMismatch(expected: "String", found: "integer", codingPath: "items[1].street")
        )
        let tags = try encodedBytes(["street": "a", "tags": ["x": "y"]] as Value)
        #expect(
            thrownError { try decoded(Address.self, from: tags) }
                == .typeMismatch(expected: "array", found: "map", codingPath: "tags")
        )
        #expect(
            thrownError { try decoded([String].self, from: bytes("92 a1 61 01")) }
                == .typeMismatch(expected: "String", found: "integer", codingPath: "[1]")
        )
        #expect(
            thrownError { try decoded([String: String].self, from: bytes("82 a1 61 a1 78 a1 62 01")) }
                == .typeMismatch(expected: "String", found: "integer", codingPath: "b")
        )
        #expect(
            thrownError { try decoded([String: Int].self, from: bytes("81 c0 01")) }
                == .typeMismatch(expected: "string or integer map key", found: "nil", codingPath: "")
        )
        // A Decodable's own typeMismatch is mapped too.
        #expect(
            thrownError { try decoded(Shape.self, from: encodedBytes(["circle": ["radius": 1.0], "point": [:]] as Value)) }
                .map { if case .typeMismatch = $0 { true } else { false } } == true
        )
    }

    @Test("missing keys")
    func keyNotFound() throws {
        #expect(thrownError { try decoded(Point.self, from: encodedBytes(["x": 1])) } == .keyNotFound("y", codingPath: ""))
        struct Holder: Decodable { var inner: [String: Point] }
        #expect(
            thrownError { try decoded(Holder.self, from: encodedBytes(["inner": ["p": ["y": 1]]] as Value)) }
                == .keyNotFound("x", codingPath: "inner.p")
        )
        // superDecoder() needs the "super" key.
        #expect(thrownError { try decoded(Dog.self, from: encodedBytes(["breed": "x"])) } == .keyNotFound("super", codingPath: ""))
    }

    @Test("nil where a value is required, and reading past the end of an array")
    func valueNotFound() throws {
        #expect(thrownError { try decoded(Point.self, from: bytes("82 a1 78 c0 a1 79 01")) } == .valueNotFound(expected: "Int", codingPath: "x"))
        #expect(thrownError { try decoded([Int].self, from: bytes("92 01 c0")) } == .valueNotFound(expected: "Int", codingPath: "[1]"))
        #expect(thrownError { try decoded(Point.self, from: [0xc0]) } == .valueNotFound(expected: "map", codingPath: ""))
        struct Two: Decodable {
            init(from decoder: any Decoder) throws {
                var container = try decoder.unkeyedContainer()
                _ = try container.decode(Int.self)
                _ = try container.decode(Int.self)
            }
        }
        #expect(thrownError { try decoded(Two.self, from: bytes("91 01")) } == .valueNotFound(expected: "Int", codingPath: "[1]"))
    }

    @Test("numbers out of range")
    func valueOutOfRange() throws {
        #expect(thrownError { try decoded(UInt8.self, from: encodedBytes(256)) } == .valueOutOfRange(codingPath: ""))
        #expect(thrownError { try decoded(UInt.self, from: encodedBytes(-1)) } == .valueOutOfRange(codingPath: ""))
        #expect(thrownError { try decoded(Int8.self, from: encodedBytes(-129)) } == .valueOutOfRange(codingPath: ""))
        #expect(thrownError { try decoded(Int32.self, from: encodedBytes(Int64.max)) } == .valueOutOfRange(codingPath: ""))
        #expect(thrownError { try decoded(Float.self, from: encodedBytes(-1e39)) } == .valueOutOfRange(codingPath: ""))
        struct Age: Decodable { var age: UInt8 }
        #expect(thrownError { try decoded(Age.self, from: encodedBytes(["age": 300])) } == .valueOutOfRange(codingPath: "age"))
    }

    @Test("invalid UTF-8 in strings and keys")
    func invalidUTF8() throws {
        #expect(thrownError { try decoded(Address.self, from: bytes("82 a6 73 74 72 65 65 74 a1 ff a4 74 61 67 73 90")) } == .invalidUTF8)
        // Values that nobody reads are only checked structurally, but map keys are always validated.
        #expect(thrownError { try decoded(Nothing.self, from: bytes("91 a2 c3 28")) } == nil)
        #expect(thrownError { try decoded(Value.self, from: bytes("81 a2 c3 28 01")) } == .invalidUTF8)
        #expect(thrownError { try decoded(Point.self, from: bytes("83 a2 c3 28 01 a1 78 01 a1 79 01")) } == .invalidUTF8)
    }

    @Test("duplicate map keys are rejected")
    func duplicateKeys() throws {
        #expect(thrownError { try decoded([String: Int].self, from: bytes("82 a1 61 01 a1 61 02")) } == .duplicateKey("a", codingPath: ""))
        #expect(thrownError { try decoded(Point.self, from: bytes("83 a1 78 01 a1 79 02 a1 78 03")) } == .duplicateKey("x", codingPath: ""))
        // Integer keys are compared by value with string keys of the same text.
        #expect(thrownError { try decoded([Int: Int].self, from: bytes("82 01 01 a1 31 02")) } == .duplicateKey("1", codingPath: ""))
        // Large maps (hash table path).
        var entries = (0..<40).map { "k\($0)" }
        entries.append("k7")
        var data: [UInt8] = [0xde, 0x00, UInt8(entries.count)]
        for key in entries { data += [0xa0 | UInt8(key.utf8.count)] + Array(key.utf8) + [0x01] }
        #expect(thrownError { try decoded([String: Int].self, from: data) } == .duplicateKey("k7", codingPath: ""))
        struct Holder: Decodable { var inner: [String: Int] }
        #expect(
            thrownError { try decoded(Holder.self, from: bytes("81 a5 69 6e 6e 65 72 82 a1 61 01 a1 61 02")) }
                == .duplicateKey("a", codingPath: "inner")
        )
    }

    // MARK: depth

    @Test("nesting deeper than maximumDepth is an error, not a stack overflow")
    func depthLimit() throws {
        // 100,000 nested one-element arrays: [[[[...]]]]
        let deep = [UInt8](repeating: 0x91, count: 100_000) + [0x90]
        #expect(thrownError { try decoded(Tree.self, from: deep) } != nil)
        #expect(thrownError { try decoded(Nothing.self, from: deep) } == .depthLimitExceeded(256))
        #expect(thrownError { try decoded([Int].self, from: deep) } != nil)
        let deepMaps: [UInt8] = Array(repeating: bytes("81 a1 61"), count: 50_000).flatMap { $0 } + [0x80]
        #expect(thrownError { try decoded(Nothing.self, from: deepMaps) } == .depthLimitExceeded(256))

        // Trees within the limit decode; deeper ones fail on both sides.
        let shallow = Tree.chain(depth: 100)
        #expect(try roundTripped(shallow) == shallow)
        let tooDeep = Tree.chain(depth: 300)
        #expect(thrownError { try encodedBytes(tooDeep) } == .depthLimitExceeded(256))
        let deepTree = try encodedBytes(tooDeep, maximumDepth: 1000)
        #expect(thrownError { try decoded(Tree.self, from: deepTree) } == .depthLimitExceeded(256))
        #expect(try decoded(Tree.self, from: deepTree, maximumDepth: 1000) == tooDeep)

        // Recursion that goes through enums (keyed containers).
        var nest = Nest.leaf
        for _ in 0..<200 { nest = .node(nest) }
        #expect(thrownError { try encodedBytes(nest) } == .depthLimitExceeded(256))
        #expect(thrownError { try encodedBytes(nest, maximumDepth: 500) } == nil)

        // A small limit.
        #expect(thrownError { try encodedBytes([[1]], maximumDepth: 1) } == .depthLimitExceeded(1))
        #expect(thrownError { try encodedBytes([1], maximumDepth: 1) } == nil)
        #expect(thrownError { try decoded([[Int]].self, from: bytes("91 91 01"), maximumDepth: 1) } == .depthLimitExceeded(1))
        #expect(thrownError { try decoded(Nothing.self, from: bytes("91 91 01"), maximumDepth: 1) } == .depthLimitExceeded(1))
    }

    // MARK: errors from user code and misuse

    @Test("errors thrown by encode(to:) and init(from:) are wrapped")
    func userErrors() throws {
        struct Custom: Error, CustomStringConvertible { var description: String { "custom failure" } }
        struct BadEncode: Encodable {
            func encode(to encoder: any Encoder) throws { throw Custom() }
        }
        struct BadDecode: Decodable {
            init(from decoder: any Decoder) throws { throw Custom() }
        }
        struct InvalidValue: Encodable {
            func encode(to encoder: any Encoder) throws {
                throw EncodingError.invalidValue(1, .init(codingPath: [], debugDescription: "not allowed"))
            }
        }
        #expect(thrownError { try encodedBytes([BadEncode()]) } == .encodingFailed("custom failure"))
        #expect(thrownError { try decoded([BadDecode].self, from: bytes("91 01")) } == .decodingFailed("custom failure"))
        guard case .encodingFailed(let text) = thrownError({ try encodedBytes(InvalidValue()) }) else {
            Issue.record("expected encodingFailed")
            return
        }
        #expect(text.contains("not allowed"))
    }

    @Test("misusing containers is reported instead of producing corrupt output")
    func containerMisuse() throws {
        struct TwoSingleValues: Encodable {
            func encode(to encoder: any Encoder) throws {
                var container = encoder.singleValueContainer()
                try container.encode(1)
                try container.encode(2)
            }
        }
        struct MixedContainers: Encodable {
            func encode(to encoder: any Encoder) throws {
                var keyed = encoder.container(keyedBy: MessagePackCodingKey.self)
                try keyed.encode(1, forKey: MessagePackCodingKey(stringValue: "a"))
                var unkeyed = encoder.unkeyedContainer()
                try unkeyed.encode(2)
            }
        }
        struct Interleaved: Encodable {
            func encode(to encoder: any Encoder) throws {
                var outer = encoder.unkeyedContainer()
                var inner = outer.nestedUnkeyedContainer()
                try inner.encode(1)
                try outer.encode(2)
                try inner.encode(3)  // inner was closed when outer moved on
            }
        }
        struct NothingAtAll: Encodable {
            func encode(to encoder: any Encoder) throws {}
        }
        for error in [
            thrownError { try encodedBytes(TwoSingleValues()) },
            thrownError { try encodedBytes(MixedContainers()) },
            thrownError { try encodedBytes(Interleaved()) },
            thrownError { try encodedBytes(NothingAtAll()) },
        ] {
            guard case .encodingFailed = error else {
                Issue.record("expected encodingFailed, got \(String(describing: error))")
                continue
            }
        }
        // Catching the error inside encode(to:) does not help: the partial value would corrupt the output.
        struct SwallowsErrors: Encodable {
            func encode(to encoder: any Encoder) throws {
                var container = encoder.unkeyedContainer()
                try? container.encode(TwoSingleValues())
                try container.encode(1)
            }
        }
        guard case .encodingFailed = thrownError({ try encodedBytes(SwallowsErrors()) }) else {
            Issue.record("expected encodingFailed")
            return
        }
    }

    @Test("every error has a descriptive description")
    func descriptions() throws {
        let errors: [MessagePackError] = [
            .truncated, .trailingBytes(count: 3), .invalidTypeByte(0xc1),
            .typeMismatch(expected: "Int", found: "string", codingPath: "a.b[2]"),
            .keyNotFound("k", codingPath: ""), .valueNotFound(expected: "Int", codingPath: "x"),
            .valueOutOfRange(codingPath: "n"), .invalidUTF8, .depthLimitExceeded(256), .lengthTooLarge(5_000_000_000),
            .duplicateKey("d", codingPath: "m"), .encodingFailed("why"), .decodingFailed("because"),
        ]
        for error in errors {
            #expect(error.description.count > 20, "\(error)")
        }
        #expect(MessagePackError.invalidTypeByte(0xc1).description.contains("0xc1"))
        #expect(MessagePackError.trailingBytes(count: 3).description.contains("3"))
        #expect(MessagePackError.typeMismatch(expected: "Int", found: "string", codingPath: "a.b[2]").description.contains("'a.b[2]'"))
        #expect(MessagePackError.keyNotFound("k", codingPath: "").description.contains("<root>"))
        #expect(MessagePackError.lengthTooLarge(5_000_000_000).description.contains("5000000000"))
        #expect(MessagePackError.decodingFailed("because").description.hasSuffix("because"))
    }
}

/// Decoders, encoders and containers that user code keeps after `decode`/`encode` returned must
/// fail cleanly (the input bytes are gone by then).
@Suite("Escaped coders")
struct EscapedCoderTests {
    final class Stash: @unchecked Sendable {
        var decoder: (any Decoder)?
        var superDecoder: (any Decoder)?
        var keyed: KeyedDecodingContainer<MessagePackCodingKey>?
        var unkeyed: (any UnkeyedDecodingContainer)?
        var encoder: (any Encoder)?
        var superEncoder: (any Encoder)?
    }

    struct Escaping: Codable {
        nonisolated(unsafe) static var stash = Stash()

        init() {}

        init(from decoder: any Decoder) throws {
            Self.stash.decoder = decoder
            let container = try decoder.container(keyedBy: MessagePackCodingKey.self)
            Self.stash.keyed = container
            Self.stash.superDecoder = try container.superDecoder(forKey: MessagePackCodingKey(stringValue: "list"))
            Self.stash.unkeyed = try container.nestedUnkeyedContainer(forKey: MessagePackCodingKey(stringValue: "list"))
        }

        func encode(to encoder: any Encoder) throws {
            Self.stash.encoder = encoder
            var container = encoder.container(keyedBy: MessagePackCodingKey.self)
            var list = container.nestedUnkeyedContainer(forKey: MessagePackCodingKey(stringValue: "list"))
            try list.encode(1)
            Self.stash.superEncoder = container.superEncoder()
        }
    }

    @Test("kept decoders and containers throw instead of reading freed memory")
    func escapedDecoder() throws {
        Escaping.stash = Stash()
        _ = try decoded(Escaping.self, from: encodedBytes(["list": [1, 2]] as Value))
        let stash = Escaping.stash
        #expect(throws: (any Error).self) { try stash.decoder!.container(keyedBy: MessagePackCodingKey.self) }
        #expect(throws: (any Error).self) { try stash.decoder!.singleValueContainer().decode(Int.self) }
        #expect(throws: (any Error).self) { try stash.superDecoder!.unkeyedContainer() }
        #expect(throws: (any Error).self) { try stash.keyed!.decode(Int.self, forKey: MessagePackCodingKey(stringValue: "list")) }
        #expect(stash.keyed!.allKeys.isEmpty)
        var unkeyed = stash.unkeyed!
        #expect(unkeyed.isAtEnd)
        #expect(throws: (any Error).self) { try unkeyed.decode(Int.self) }
    }

    @Test("kept encoders do not touch the finished output")
    func escapedEncoder() throws {
        Escaping.stash = Stash()
        var buffer = ByteBufferAllocator().buffer(capacity: 16)
        try MessagePackEncoder().encode(Escaping(), into: &buffer)
        let output = buffer
        let stash = Escaping.stash
        var keyed = stash.encoder!.container(keyedBy: MessagePackCodingKey.self)
        #expect(throws: (any Error).self) { try keyed.encode(5, forKey: MessagePackCodingKey(stringValue: "late")) }
        var single = stash.superEncoder!.singleValueContainer()
        #expect(throws: (any Error).self) { try single.encode(5) }
        #expect(buffer == output)
        // {"list": [1], "super": {}}: the unused superEncoder's value is an empty map.
        #expect(Array(output.readableBytesView) == bytes("82 a4 6c 69 73 74 91 01 a5 73 75 70 65 72 80"))
    }
}
