import Foundation
@testable import Combo
import NIOCore
import Testing

// MARK: Model types

struct Point: Codable, Equatable, Hashable {
    var x: Int
    var y: Int
}

struct Address: Codable, Equatable {
    var street: String
    var zip: Int?
    var tags: [String]
}

struct Person: Codable, Equatable {
    var name: String
    var age: UInt8
    var height: Double
    var email: String?
    var address: Address
    var friends: [Person]
    var scores: [String: Int]
    var avatar: [UInt8]
}

enum Shape: Codable, Equatable {
    case circle(radius: Double)
    case rectangle(width: Double, height: Double)
    case labeled(String, Int)
    case point
    indirect case group([Shape])
}

struct Wide: Codable, Equatable {
    var f01 = 1, f02 = 2, f03 = 3, f04 = 4, f05 = 5, f06 = 6, f07 = 7, f08 = 8, f09 = 9, f10 = 10
    var f11 = 11, f12 = 12, f13 = 13, f14 = 14, f15 = 15, f16 = 16, f17 = 17, f18 = 18, f19 = 19, f20 = 20
}

class Animal: Codable {
    var name: String
    init(name: String) { self.name = name }
}

/// Encodes its superclass under "super" with `superEncoder()`.
final class Dog: Animal, Equatable {
    var breed: String
    init(name: String, breed: String) {
        self.breed = breed
        super.init(name: name)
    }

    enum CodingKeys: String, CodingKey { case breed }

    override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(breed, forKey: .breed)
        try super.encode(to: container.superEncoder())
    }

    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        breed = try container.decode(String.self, forKey: .breed)
        try super.init(from: container.superDecoder())
    }

    static func == (lhs: Dog, rhs: Dog) -> Bool { lhs.name == rhs.name && lhs.breed == rhs.breed }
}

/// Shares its superclass's map by passing the same encoder to `super` (as JSONEncoder allows).
final class Cat: Animal, Equatable {
    var lives: Int
    init(name: String, lives: Int) {
        self.lives = lives
        super.init(name: name)
    }

    enum CodingKeys: String, CodingKey { case lives }

    override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(lives, forKey: .lives)
        try super.encode(to: encoder)
    }

    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        lives = try container.decode(Int.self, forKey: .lives)
        try super.init(from: decoder)
    }

    static func == (lhs: Cat, rhs: Cat) -> Bool { lhs.name == rhs.name && lhs.lives == rhs.lives }
}

/// Uses nested keyed and unkeyed containers and explicit nils by hand.
struct Manual: Codable, Equatable {
    var id: Int
    var coordinates: [Double]
    var meta: [String: String]
    var nothing: Int?

    enum Keys: String, CodingKey { case id, geo, meta, nothing }
    enum GeoKeys: String, CodingKey { case coordinates, kind }

    init(id: Int, coordinates: [Double], meta: [String: String], nothing: Int?) {
        self.id = id
        self.coordinates = coordinates
        self.meta = meta
        self.nothing = nothing
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(id, forKey: .id)
        var geo = container.nestedContainer(keyedBy: GeoKeys.self, forKey: .geo)
        try geo.encode("point", forKey: .kind)
        var list = geo.nestedUnkeyedContainer(forKey: .coordinates)
        for value in coordinates { try list.encode(value) }
        try list.encodeNil()
        try container.encode(meta, forKey: .meta)
        if let nothing { try container.encode(nothing, forKey: .nothing) } else { try container.encodeNil(forKey: .nothing) }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        id = try container.decode(Int.self, forKey: .id)
        let geo = try container.nestedContainer(keyedBy: GeoKeys.self, forKey: .geo)
        guard try geo.decode(String.self, forKey: .kind) == "point" else {
            throw DecodingError.dataCorruptedError(forKey: .kind, in: geo, debugDescription: "not a point")
        }
        var list = try geo.nestedUnkeyedContainer(forKey: .coordinates)
        var values: [Double] = []
        while !list.isAtEnd {
            if try list.decodeNil() { continue }
            values.append(try list.decode(Double.self))
        }
        coordinates = values
        meta = try container.decode([String: String].self, forKey: .meta)
        nothing = try container.decodeNil(forKey: .nothing) ? nil : try container.decode(Int.self, forKey: .nothing)
    }
}

/// Reads its keys in the reverse of the written order, defeating the in-order fast path.
struct ReverseReader: Decodable {
    var values: [Int]

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: MessagePackCodingKey.self)
        let count = container.allKeys.count
        var values = [Int](repeating: 0, count: count)
        for index in stride(from: count - 1, through: 0, by: -1) {
            values[index] = try container.decode(Int.self, forKey: MessagePackCodingKey(stringValue: "k\(index)"))
        }
        self.values = values
    }
}

@Suite("Containers")
struct ContainerTests {
    // MARK: Arrays

    static let arrayHeaders: [(Int, [UInt8])] = [
        (15, [0x9f]),
        (16, [0xdc, 0x00, 0x10]),
        (65535, [0xdc, 0xff, 0xff]),
        (65536, [0xdd, 0x00, 0x01, 0x00, 0x00]),
    ]

    @Test("arrays use fixarray, array16 and array32 at their boundaries", arguments: arrayHeaders)
    func arrayFormats(count: Int, header: [UInt8]) throws {
        // [Int] takes the direct path (count known upfront); [Int16] goes through Codable's unkeyed
        // container, whose header is reserved and patched afterwards. Both must give the same bytes.
        let ints = (0..<count).map { $0 % 200 - 100 }
        let direct = try encodedBytes(ints)
        let patched = try encodedBytes(ints.map { Int16($0) })
        #expect(Array(direct.prefix(header.count)) == header)
        #expect(patched == direct)
        #expect(try decoded([Int].self, from: direct) == ints)
        #expect(try decoded([Int16].self, from: direct) == ints.map { Int16($0) })

        let strings = (0..<count).map { String($0 % 50) }
        #expect(try roundTripped(strings) == strings)
        let optionals: [Int?] = (0..<count).map { $0 % 3 == 0 ? nil : $0 }
        #expect(try roundTripped(optionals) == optionals)
    }

    @Test("arrays of structs and nested arrays at the fixarray/array16 boundary", arguments: [15, 16, 17])
    func nestedArrays(count: Int) throws {
        let points = (0..<count).map { Point(x: $0, y: -$0) }
        #expect(try roundTripped(points) == points)
        let grid = (0..<count).map { row in (0..<count).map { Int16(row * $0) } }
        #expect(try roundTripped(grid) == grid)
        let data = try encodedBytes(grid)
        #expect(data[0] == (count < 16 ? 0x90 | UInt8(count) : 0xdc))
    }

    @Test("arrays of optionals encode nil as 0xc0")
    func optionalArrays() throws {
        #expect(try encodedBytes([1, nil, 3] as [Int?]) == bytes("93 01 c0 03"))
        #expect(try roundTripped(["a", nil, "c"] as [String?]) == ["a", nil, "c"])
        #expect(try roundTripped([nil, Point(x: 1, y: 2)] as [Point?]) == [nil, Point(x: 1, y: 2)])
    }

    // MARK: Maps

    static let mapHeaders: [(Int, [UInt8])] = [
        (15, [0x8f]),
        (16, [0xde, 0x00, 0x10]),
        (65535, [0xde, 0xff, 0xff]),
        (65536, [0xdf, 0x00, 0x01, 0x00, 0x00]),
    ]

    @Test("maps use fixmap, map16 and map32 at their boundaries", arguments: mapHeaders)
    func mapFormats(count: Int, header: [UInt8]) throws {
        // [String: Int] takes the direct path; [String: Int16] and [Int: Int] go through Codable's
        // keyed containers (header reserved and patched afterwards).
        let dictionary = Dictionary(uniqueKeysWithValues: (0..<count).map { ("key\($0)", $0 % 30_000 - 100) })
        let data = try encodedBytes(dictionary)
        #expect(Array(data.prefix(header.count)) == header)
        #expect(try decoded([String: Int].self, from: data) == dictionary)
        let small = dictionary.mapValues { Int16($0) }
        #expect(try decoded([String: Int16].self, from: data) == small)
        let patched = try encodedBytes(small)
        #expect(Array(patched.prefix(header.count)) == header)
        #expect(try decoded([String: Int16].self, from: patched) == small)
        #expect(try decoded([String: Int].self, from: patched) == dictionary)
        let byNumber = Dictionary(uniqueKeysWithValues: (0..<count).map { ($0, $0) })
        #expect(try roundTripped(byNumber) == byNumber)
        // The same map read key by key in reverse order (hash lookups instead of the in-order path).
        let reversed = Dictionary(uniqueKeysWithValues: (0..<count).map { ("k\($0)", $0) })
        #expect(try decoded(ReverseReader.self, from: encodedBytes(reversed)).values == Array(0..<count))
    }

    @Test("structs with more than 15 fields use map16 and decode in any order")
    func wideStructs() throws {
        let data = try encodedBytes(Wide())
        #expect(Array(data.prefix(3)) == [0xde, 0x00, 20])
        #expect(try roundTripped(Wide()) == Wide())
        #expect(try roundTripped([Wide(), Wide()]) == [Wide(), Wide()])
    }

    @Test("dictionaries with String and Int keys")
    func dictionaries() throws {
        let byName = ["origin": Point(x: 0, y: 0), "unit": Point(x: 1, y: 1)]
        #expect(try roundTripped(byName) == byName)

        // Int keys are written in their string form...
        #expect(try encodedBytes([1: "a"]) == bytes("81 a1 31 a1 61"))
        let byNumber = [1: "one", -2: "minus two", 1_000_000: "million", Int.min: "min"]
        #expect(try roundTripped(byNumber) == byNumber)
        // ...and integer keys written by other implementations decode too.
        #expect(try decoded([Int: String].self, from: bytes("82 01 a1 61 ff a1 62")) == [1: "a", -1: "b"])
        #expect(try decoded([String: Int].self, from: bytes("81 cf ff ff ff ff ff ff ff ff 07")) == ["18446744073709551615": 7])

        let nested: [String: [Int: [String]]] = ["a": [1: ["x", "y"]], "b": [:]]
        #expect(try roundTripped(nested) == nested)
        let optionalValues: [String: Int?] = ["some": 1, "none": nil]
        #expect(try roundTripped(optionalValues) == optionalValues)
    }

    @Test("map keys that are neither strings nor integers are rejected for keyed containers")
    func nonStringKeys() throws {
        #expect(
            thrownError { try decoded([String: Int].self, from: bytes("81 c3 01")) }
                == .typeMismatch(expected: "string or integer map key", found: "bool", codingPath: "")
        )
    }

    // MARK: Structs, enums, optionals

    @Test("nested structs round-trip")
    func nestedStructs() throws {
        let child = Person(
            name: "Child", age: 7, height: 1.2, email: nil,
            address: Address(street: "Elm", zip: nil, tags: []), friends: [], scores: [:], avatar: []
        )
        let person = Person(
            name: "Ada", age: 36, height: 1.65, email: "ada@example.com",
            address: Address(street: "Main Street 1", zip: 12345, tags: ["home", "primary"]),
            friends: [child, child], scores: ["math": 100, "chess": -3], avatar: [0, 1, 2, 255]
        )
        #expect(try roundTripped(person) == person)
    }

    @Test("optionals: nil properties are omitted and missing keys decode as nil")
    func optionalProperties() throws {
        let address = Address(street: "s", zip: nil, tags: [])
        let data = try encodedBytes(address)
        #expect(data == bytes("82 a6 73 74 72 65 65 74 a1 73 a4 74 61 67 73 90"))  // {"street":"s","tags":[]}
        #expect(try decoded(Address.self, from: data) == address)
        // An explicit nil decodes as nil too.
        let withNil = bytes("83 a6 73 74 72 65 65 74 a1 73 a3 7a 69 70 c0 a4 74 61 67 73 90")
        #expect(try decoded(Address.self, from: withNil) == address)
        // Unknown keys are ignored.
        let withExtra = bytes("83 a6 73 74 72 65 65 74 a1 73 a5 65 78 74 72 61 92 01 02 a4 74 61 67 73 90")
        #expect(try decoded(Address.self, from: withExtra) == address)
    }

    @Test("enums with associated values use Swift's synthesized nested containers")
    func enumsWithAssociatedValues() throws {
        let shapes: [Shape] = [
            .circle(radius: 2), .rectangle(width: 3, height: 4), .labeled("x", 7), .point,
            .group([.point, .group([.circle(radius: 1)])]),
        ]
        #expect(try roundTripped(shapes) == shapes)
        // {"point": {}}
        #expect(try encodedBytes(Shape.point) == bytes("81 a5 70 6f 69 6e 74 80"))
        // {"labeled": {"_0": "x", "_1": 7}}
        #expect(try encodedBytes(Shape.labeled("x", 7)) == bytes("81 a7 6c 61 62 65 6c 65 64 82 a2 5f 30 a1 78 a2 5f 31 07"))
    }

    @Test("raw-value enums and invalid raw values")
    func rawValueEnums() throws {
        enum Level: String, Codable { case low, high }
        #expect(try roundTripped([Level.low, .high]) == [.low, .high])
        let error = thrownError { try decoded(Level.self, from: encodedBytes("medium")) }
        guard case .decodingFailed(let text) = error else {
            Issue.record("expected decodingFailed, got \(String(describing: error))")
            return
        }
        #expect(text.contains("medium"))
    }

    // MARK: Hand-written containers

    @Test("nested keyed and unkeyed containers, encodeNil and decodeNil")
    func manualContainers() throws {
        let value = Manual(id: 9, coordinates: [1.5, -2], meta: ["k": "v"], nothing: nil)
        #expect(try roundTripped(value) == value)
        let other = Manual(id: 1, coordinates: [], meta: [:], nothing: 4)
        #expect(try roundTripped(other) == other)
    }

    @Test("superEncoder writes the superclass under \"super\"")
    func superEncoder() throws {
        let dog = Dog(name: "Rex", breed: "Beagle")
        #expect(try roundTripped(dog) == dog)
        // {"breed": "Beagle", "super": {"name": "Rex"}}
        let expected: Value = ["breed": "Beagle", "super": ["name": "Rex"]]
        #expect(try encodedBytes(dog) == encodedBytes(expected))
        #expect(try decoded(Value.self, from: encodedBytes(dog)) == expected)
    }

    @Test("passing the same encoder to super merges into one map")
    func sharedEncoder() throws {
        let cat = Cat(name: "Tom", lives: 9)
        #expect(try roundTripped(cat) == cat)
        #expect(try encodedBytes(cat) == bytes("82 a5 6c 69 76 65 73 09 a4 6e 61 6d 65 a3 54 6f 6d"))
    }

    @Test("superEncoder in unkeyed containers and unused superEncoders")
    func unkeyedSuperEncoder() throws {
        struct Pair: Codable, Equatable {
            var first: Point
            var second: Point
            init(first: Point, second: Point) {
                self.first = first
                self.second = second
            }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.unkeyedContainer()
                try first.encode(to: container.superEncoder())
                try container.encode(second)
            }
            init(from decoder: any Decoder) throws {
                var container = try decoder.unkeyedContainer()
                first = try Point(from: container.superDecoder())
                second = try container.decode(Point.self)
            }
        }
        let pair = Pair(first: Point(x: 1, y: 2), second: Point(x: 3, y: 4))
        #expect(try roundTripped(pair) == pair)
        #expect(try encodedBytes(pair) == encodedBytes([pair.first, pair.second]))

        struct Unused: Encodable {
            func encode(to encoder: any Encoder) throws {
                var container = encoder.unkeyedContainer()
                _ = container.superEncoder()
                try container.encode(1)
            }
        }
        // The unused superEncoder's value is an empty map, as with JSONEncoder.
        #expect(try encodedBytes(Unused()) == bytes("92 80 01"))
    }

    @Test("a nested value that encodes nothing becomes an empty map")
    func emptyValues() throws {
        struct Nothing: Codable {
            init() {}
            func encode(to encoder: any Encoder) throws {}
            init(from decoder: any Decoder) throws {}
        }
        #expect(try encodedBytes([Nothing(), Nothing()]) == bytes("92 80 80"))
        struct Empty: Codable, Equatable {}
        #expect(try encodedBytes(Empty()) == bytes("80"))
        #expect(try roundTripped(Empty()) == Empty())
    }

    @Test("keyed containers: contains, allKeys and decodeIfPresent")
    func keyedQueries() throws {
        struct Probe: Decodable {
            var keys: [String]
            var hasA: Bool
            var hasZ: Bool
            var missing: Int?
            var nilValue: String?
            enum Keys: String, CodingKey { case a, b, z, n }
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: Keys.self)
                keys = container.allKeys.map(\.stringValue)
                hasA = container.contains(.a)
                hasZ = container.contains(.z)
                missing = try container.decodeIfPresent(Int.self, forKey: .z)
                nilValue = try container.decodeIfPresent(String.self, forKey: .n)
            }
        }
        // {"a": 1, "b": 2, "n": nil, "other": 3}: "other" is not a key of `Keys` and is left out of allKeys.
        let probe = try decoded(Probe.self, from: bytes("84 a1 61 01 a1 62 02 a1 6e c0 a5 6f 74 68 65 72 03"))
        #expect(probe.keys == ["a", "b", "n"])
        #expect(probe.hasA && !probe.hasZ)
        #expect(probe.missing == nil && probe.nilValue == nil)
    }

    // MARK: Foundation's Data

    @Test("Foundation's Data is bin", arguments: [0, 3, 300, 70_000])
    func foundationData(length: Int) throws {
        let data = Data((0..<length).map { UInt8(truncatingIfNeeded: $0) })
        let encoded = try encodedBytes(data)
        let expectedType: UInt8 = length <= 255 ? 0xc4 : length <= 65535 ? 0xc5 : 0xc6
        #expect(encoded.first == expectedType)
        #expect(try roundTripped(data) == data)
        struct Holder: Codable, Equatable { var data: Data; var after: Int }
        #expect(try roundTripped(Holder(data: data, after: 5)) == Holder(data: data, after: 5))
    }

    // MARK: Buffer handling

    @Test("encoding appends to the buffer and leaves it unchanged on failure")
    func bufferHandling() throws {
        var buffer = ByteBufferAllocator().buffer(capacity: 4)
        buffer.writeString("xy")
        buffer.moveReaderIndex(forwardBy: 1)
        let copy = buffer  // shares the storage: encoding must not disturb it
        try MessagePackEncoder().encode([1, 2], into: &buffer)
        #expect(Array(buffer.readableBytesView) == [UInt8(ascii: "y"), 0x92, 0x01, 0x02])
        #expect(Array(copy.readableBytesView) == [UInt8(ascii: "y")])

        struct Failing: Encodable {
            struct Oops: Error {}
            func encode(to encoder: any Encoder) throws {
                var container = encoder.unkeyedContainer()
                try container.encode(String(repeating: "z", count: 1000))
                throw Oops()
            }
        }
        let before = buffer
        #expect(throws: MessagePackError.self) { try MessagePackEncoder().encode(Failing(), into: &buffer) }
        #expect(buffer == before)

        // Decoding reads only the readable bytes.
        var input = ByteBuffer(bytes: [0xff, 0xff, 0x93, 0x01, 0x02, 0x03])
        input.moveReaderIndex(forwardBy: 2)
        #expect(try MessagePackDecoder().decode([Int].self, from: input) == [1, 2, 3])
    }
}


/// Records the coding paths that the encoder and decoder report to user code.
final class PathRecorder: @unchecked Sendable {
    var paths: [String] = []
}

struct PathProbe: Codable {
    let recorder: PathRecorder

    init(recorder: PathRecorder) { self.recorder = recorder }

    func encode(to encoder: any Encoder) throws {
        recorder.paths.append(MessagePackCodingKey.render(encoder.codingPath))
        var container = encoder.singleValueContainer()
        try container.encode(1)
    }

    init(from decoder: any Decoder) throws {
        recorder = PathRecorder.decoding
        recorder.paths.append(MessagePackCodingKey.render(decoder.codingPath))
        _ = try decoder.singleValueContainer().decode(Int.self)
    }
}

extension PathRecorder {
    static let decoding = PathRecorder()
}

@Suite("Coding paths")
struct CodingPathTests {
    struct Outer: Codable {
        var items: [Inner]
        var byName: [String: PathProbe]
    }

    struct Inner: Codable {
        var probe: PathProbe
    }

    @Test("encoder and decoder report the coding path of nested values")
    func codingPaths() throws {
        let recorder = PathRecorder()
        let value = Outer(
            items: [Inner(probe: PathProbe(recorder: recorder)), Inner(probe: PathProbe(recorder: recorder))],
            byName: ["a long key with more than thirty-one bytes": PathProbe(recorder: recorder)]
        )
        let data = try encodedBytes(value)
        #expect(recorder.paths == ["items[0].probe", "items[1].probe", "byName.a long key with more than thirty-one bytes"])
        PathRecorder.decoding.paths = []
        _ = try decoded(Outer.self, from: data)
        #expect(PathRecorder.decoding.paths == recorder.paths)
    }
}
