@testable import Combo
import NIOCore
import Testing

@Suite("Primitives")
struct PrimitiveTests {
    // MARK: Exact bytes from the MessagePack specification

    @Test("nil, bool and small values use the single-byte formats")
    func singleByteFormats() throws {
        #expect(try encodedBytes(Int?.none) == [0xc0])
        #expect(try encodedBytes(true) == [0xc3])
        #expect(try encodedBytes(false) == [0xc2])
        #expect(try encodedBytes(0) == [0x00])
        #expect(try encodedBytes(127) == [0x7f])
        #expect(try encodedBytes(-1) == [0xff])
        #expect(try encodedBytes(-32) == [0xe0])
        #expect(try encodedBytes("") == [0xa0])
        #expect(try encodedBytes("a") == [0xa1, 0x61])
    }

    @Test("small containers match the specification byte for byte")
    func smallContainers() throws {
        #expect(try encodedBytes(["a": 1]) == bytes("81 a1 61 01"))
        #expect(try encodedBytes([1, 2, 3]) == bytes("93 01 02 03"))
        #expect(try encodedBytes([Int]()) == bytes("90"))
        #expect(try encodedBytes([String: Int]()) == bytes("80"))
        #expect(try encodedBytes(["x"]) == bytes("91 a1 78"))
        #expect(try encodedBytes([1.5]) == bytes("91 cb 3f f8 00 00 00 00 00 00"))
        #expect(try encodedBytes(Float(1.5)) == bytes("ca 3f c0 00 00"))
        #expect(try encodedBytes([UInt8]([1, 2, 3])) == bytes("c4 03 01 02 03"))

        struct Point: Codable { var x: Int; var y: Int }
        #expect(try encodedBytes(Point(x: 1, y: -2)) == bytes("82 a1 78 01 a1 79 fe"))
    }

    // MARK: Integers

    /// Every format boundary, with the exact encoding the smallest format gives.
    static let signedBoundaries: [(Int64, String)] = [
        (0, "00"), (1, "01"), (127, "7f"),
        (128, "cc 80"), (255, "cc ff"),
        (256, "cd 01 00"), (65535, "cd ff ff"),
        (65536, "ce 00 01 00 00"), (4_294_967_295, "ce ff ff ff ff"),
        (4_294_967_296, "cf 00 00 00 01 00 00 00 00"), (Int64.max, "cf 7f ff ff ff ff ff ff ff"),
        (-1, "ff"), (-32, "e0"),
        (-33, "d0 df"), (-128, "d0 80"),
        (-129, "d1 ff 7f"), (-32768, "d1 80 00"),
        (-32769, "d2 ff ff 7f ff"), (-2_147_483_648, "d2 80 00 00 00"),
        (-2_147_483_649, "d3 ff ff ff ff 7f ff ff ff"), (Int64.min, "d3 80 00 00 00 00 00 00 00"),
    ]

    @Test("signed integers use the smallest format", arguments: signedBoundaries)
    func signedEncoding(value: Int64, expected: String) throws {
        #expect(try encodedBytes(value) == bytes(expected))
        #expect(try roundTripped(value) == value)
        if let int = Int(exactly: value) {
            #expect(try encodedBytes(int) == bytes(expected))
        }
    }

    @Test("UInt64.max uses uint64")
    func unsignedMaximum() throws {
        #expect(try encodedBytes(UInt64.max) == bytes("cf ff ff ff ff ff ff ff ff"))
        #expect(try roundTripped(UInt64.max) == UInt64.max)
        #expect(try encodedBytes(UInt.max) == bytes("cf ff ff ff ff ff ff ff ff"))
    }

    @Test("every integer type round-trips its boundaries")
    func integerTypeBoundaries() throws {
        func check<T: FixedWidthInteger & Codable>(_: T.Type) throws {
            for value in [T.min, T.min + 1, T.max - 1, T.max, 0, 1] {
                #expect(try roundTripped(value) == value)
                #expect(try roundTripped([value, value]) == [value, value])
                #expect(try roundTripped(["k": value]) == ["k": value])
            }
        }
        try check(Int.self)
        try check(Int8.self)
        try check(Int16.self)
        try check(Int32.self)
        try check(Int64.self)
        try check(UInt.self)
        try check(UInt8.self)
        try check(UInt16.self)
        try check(UInt32.self)
        try check(UInt64.self)
    }

    @Test("any integer encoding decodes into any integer type that holds the value", arguments: signedBoundaries)
    func crossTypeIntegerDecoding(value: Int64, encoding: String) throws {
        let data = bytes(encoding)
        func check<T: FixedWidthInteger & Decodable>(_: T.Type) {
            let result = Result { () throws(MessagePackError) in try decoded(T.self, from: data) }
            if let expected = T(exactly: value) {
                #expect((try? result.get()) == expected, "\(value) as \(T.self)")
            } else {
                #expect(thrownError { try result.get() } == .valueOutOfRange(codingPath: ""), "\(value) as \(T.self)")
            }
        }
        check(Int.self)
        check(Int8.self)
        check(Int16.self)
        check(Int32.self)
        check(Int64.self)
        check(UInt.self)
        check(UInt8.self)
        check(UInt16.self)
        check(UInt32.self)
        check(UInt64.self)
    }

    @Test("uint64 beyond Int64.max decodes only into UInt64 and UInt")
    func largeUnsigned() throws {
        let data = bytes("cf ff ff ff ff ff ff ff ff")
        #expect(try decoded(UInt64.self, from: data) == .max)
        #expect(try decoded(UInt.self, from: data) == .max)
        #expect(thrownError { try decoded(Int64.self, from: data) } == .valueOutOfRange(codingPath: ""))
        #expect(thrownError { try decoded(Int.self, from: data) } == .valueOutOfRange(codingPath: ""))
    }

    @Test("integers that do not fit report the coding path")
    func outOfRangeWithPath() throws {
        struct Small: Decodable { var tiny: UInt8 }
        struct Holder: Decodable { var items: [Small] }
        let data = try encodedBytes(["items": [["tiny": 1], ["tiny": 300]]])
        #expect(thrownError { try decoded(Holder.self, from: data) } == .valueOutOfRange(codingPath: "items[1].tiny"))
        #expect(thrownError { try decoded([UInt8].self, from: try encodedBytes([1, -1])) } == .valueOutOfRange(codingPath: "[1]"))
    }

    // MARK: Floating point

    @Test("Double round-trips special values as float64")
    func doubles() throws {
        let values: [Double] = [
            0, -0.0, 1.5, -2.25, .pi, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
            .leastNonzeroMagnitude, .leastNormalMagnitude, .infinity, -.infinity, 1e300,
        ]
        for value in values {
            let data = try encodedBytes(value)
            #expect(data.count == 9 && data[0] == 0xcb)
            let result = try roundTripped(value)
            #expect(result == value && result.sign == value.sign, "\(value)")
        }
        // NaN is written with its bit pattern and decodes as NaN (NaN != NaN, so compare bits).
        let nan = Double.nan
        #expect(try encodedBytes(nan) == [0xcb] + withUnsafeBytes(of: nan.bitPattern.bigEndian) { Array($0) })
        #expect(try roundTripped(nan).bitPattern == nan.bitPattern)
        #expect(try roundTripped(-Double.signalingNaN).isNaN)
    }

    @Test("Float round-trips special values as float32")
    func floats() throws {
        let values: [Float] = [
            0, -0.0, 1.5, -2.25, .pi, .greatestFiniteMagnitude, .leastNonzeroMagnitude, .infinity, -.infinity,
        ]
        for value in values {
            let data = try encodedBytes(value)
            #expect(data.count == 5 && data[0] == 0xca)
            let result = try roundTripped(value)
            #expect(result == value && result.sign == value.sign, "\(value)")
        }
        #expect(try roundTripped(Float.nan).isNaN)
    }

    @Test("floats convert between widths and from integers")
    func floatConversions() throws {
        #expect(try decoded(Double.self, from: encodedBytes(Float(1.25))) == 1.25)
        #expect(try decoded(Float.self, from: encodedBytes(1.25)) == 1.25)
        #expect(try decoded(Float.self, from: encodedBytes(0.1)) == Float(0.1))  // narrowed to nearest
        #expect(try decoded(Float.self, from: encodedBytes(Double.infinity)) == .infinity)
        #expect(try decoded(Float.self, from: encodedBytes(Double.nan)).isNaN)
        #expect(thrownError { try decoded(Float.self, from: encodedBytes(1e300)) } == .valueOutOfRange(codingPath: ""))
        // Integers decode into floating point types when exactly representable.
        #expect(try decoded(Double.self, from: encodedBytes(42)) == 42)
        #expect(try decoded(Double.self, from: encodedBytes(-7)) == -7)
        #expect(try decoded(Float.self, from: encodedBytes(16_777_216)) == 16_777_216)
        #expect(thrownError { try decoded(Float.self, from: encodedBytes(16_777_217)) } == .valueOutOfRange(codingPath: ""))
        #expect(thrownError { try decoded(Double.self, from: encodedBytes(UInt64.max)) } == .valueOutOfRange(codingPath: ""))
        // Floats never decode into integers.
        #expect(
            thrownError { try decoded(Int.self, from: encodedBytes(1.0)) }
                == .typeMismatch(expected: "Int", found: "float", codingPath: "")
        )
    }

    // MARK: Bool and nil

    @Test("Bool and nil")
    func boolAndNil() throws {
        #expect(try roundTripped(true) == true)
        #expect(try roundTripped(false) == false)
        #expect(try roundTripped(Int?.none) == nil)
        #expect(try roundTripped(Int?.some(5)) == 5)
        // Nested optionals flatten to a single nil, as with JSONEncoder.
        #expect(try roundTripped(String??.some(.none)) == .none)
        #expect(
            thrownError { try decoded(Bool.self, from: [0x01]) }
                == .typeMismatch(expected: "Bool", found: "integer", codingPath: "")
        )
        #expect(thrownError { try decoded(Int.self, from: [0xc0]) } == .valueNotFound(expected: "Int", codingPath: ""))
    }

    // MARK: Strings

    static let stringBoundaries: [(Int, [UInt8])] = [
        (0, [0xa0]), (31, [0xbf]),
        (32, [0xd9, 32]), (255, [0xd9, 0xff]),
        (256, [0xda, 0x01, 0x00]), (65535, [0xda, 0xff, 0xff]),
        (65536, [0xdb, 0x00, 0x01, 0x00, 0x00]),
    ]

    @Test("strings use fixstr, str8, str16 and str32 at their boundaries", arguments: stringBoundaries)
    func stringFormats(length: Int, header: [UInt8]) throws {
        let value = String(repeating: "x", count: length)
        let data = try encodedBytes(value)
        #expect(Array(data.prefix(header.count)) == header)
        #expect(data.count == header.count + length)
        #expect(try roundTripped(value) == value)
    }

    @Test("non-ASCII strings round-trip and are measured in UTF-8 bytes")
    func unicodeStrings() throws {
        let value = "héllo wörld 👋🏽 日本語"
        #expect(try roundTripped(value) == value)
        let data = try encodedBytes("é")
        #expect(data == [0xa2, 0xc3, 0xa9])
        // 16 two-byte characters: 32 bytes, so str8 even though there are only 16 characters.
        #expect(try encodedBytes(String(repeating: "é", count: 16)).prefix(2) == [0xd9, 32])
    }

    @Test("invalid UTF-8 is rejected")
    func invalidUTF8() throws {
        #expect(thrownError { try decoded(String.self, from: bytes("a2 c3 28")) } == .invalidUTF8)
        #expect(thrownError { try decoded(String.self, from: bytes("a1 ff")) } == .invalidUTF8)
        #expect(thrownError { try decoded(String.self, from: bytes("a3 ed a0 80")) } == .invalidUTF8)  // surrogate
        #expect(thrownError { try decoded([String].self, from: bytes("92 a1 61 a1 80")) } == .invalidUTF8)
        // Map keys are validated too.
        #expect(thrownError { try decoded([String: Int].self, from: bytes("81 a1 ff 01")) } == .invalidUTF8)
    }

    // MARK: Binary

    @Test("[UInt8] is bin and round-trips at the bin8/bin16/bin32 boundaries", arguments: [0, 255, 256, 65535, 65536])
    func byteArrays(length: Int) throws {
        let value = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let data = try encodedBytes(value)
        let expectedHeader: [UInt8] =
            length <= 255
            ? [0xc4, UInt8(length)]
            : length <= 65535 ? [0xc5, UInt8(length >> 8), UInt8(length & 0xff)] : [0xc6, 0x00, 0x01, 0x00, 0x00]
        #expect(Array(data.prefix(expectedHeader.count)) == expectedHeader)
        #expect(try roundTripped(value) == value)
    }

    @Test("ByteBuffer is bin")
    func byteBuffers() throws {
        let buffer = ByteBuffer(bytes: [9, 8, 7])
        #expect(try encodedBytes(buffer) == bytes("c4 03 09 08 07"))
        #expect(try roundTripped(buffer) == buffer)
        struct Holder: Codable, Equatable { var payload: ByteBuffer }
        #expect(try roundTripped(Holder(payload: buffer)) == Holder(payload: buffer))
    }

    @Test("arrays of small integers also decode into [UInt8], and bin into other integer arrays")
    func byteArrayInterchange() throws {
        #expect(try decoded([UInt8].self, from: bytes("93 01 02 cc ff")) == [1, 2, 255])
        #expect(try decoded([UInt16].self, from: bytes("c4 02 01 ff")) == [1, 255])
        #expect(try decoded([Int].self, from: bytes("c4 02 01 ff")) == [1, 255])
    }
}
