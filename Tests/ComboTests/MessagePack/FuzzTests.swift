import Foundation
@testable import Combo
import NIOCore
import Testing

/// Accepts any map, ignoring its entries (which are still checked structurally).
struct AnyMap: Decodable {
    init(from decoder: any Decoder) throws {
        _ = try decoder.container(keyedBy: MessagePackCodingKey.self)
    }
}

@Suite("Fuzzing")
struct FuzzTests {
    /// Valid encodings that the mutations start from.
    static func seeds() throws -> [[UInt8]] {
        let person = Person(
            name: "Ada", age: 36, height: 1.65, email: "ada@example.com",
            address: Address(street: "Main Street 1", zip: 12345, tags: ["home", "primary"]),
            friends: [], scores: ["math": 100, "chess": -3], avatar: [0, 1, 2, 255]
        )
        let everything: Value = [
            "nil": nil, "bool": true, "int": -123_456, "uint": .uint(UInt64.max), "double": 2.5,
            "string": "héllo", "binary": .binary([1, 2, 3]), "array": [1, [2, [3, []]], ["k": "v"]],
            "long": .string(String(repeating: "s", count: 40)),
        ]
        var seeds: [[UInt8]] = [
            try encodedBytes(person),
            try encodedBytes([person, person]),
            try encodedBytes([Shape.circle(radius: 1), .labeled("x", 2), .point, .group([.point])]),
            try encodedBytes(Wide()),
            try encodedBytes(["a": [1, 2, 3], "b": [], "c": [Int.max, Int.min]]),
            try encodedBytes([1: "one", 2: "two"]),
            try encodedBytes(Tree.chain(depth: 6)),
            try encodedBytes(everything),
            try encodedBytes(Dog(name: "Rex", breed: "Beagle")),
            try encodedBytes(Manual(id: 9, coordinates: [1.5, -2], meta: ["k": "v"], nothing: nil)),
            try encodedBytes(Data([1, 2, 3, 4])),
            try encodedBytes([Point(x: 1, y: 2), Point(x: -300, y: 70_000)]),
            try encodedBytes([Int?.none, 5]),
        ]
        // An extension value and a timestamp, which other implementations may send.
        seeds.append(bytes("82 a1 61 d6 ff 00 00 00 01 a1 62 c7 03 05 01 02 03"))
        return seeds
    }

    /// Bytes that tend to reach edge cases: type markers, huge lengths, the never-used byte.
    static let interestingBytes: [UInt8] = [
        0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc6, 0xc7, 0xc9,
        0xca, 0xcb, 0xcc, 0xcf, 0xd0, 0xd3, 0xd4, 0xd8, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff,
    ]

    static func mutate(_ input: [UInt8], using rng: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<7, using: &rng) {
            case 0 where !bytes.isEmpty:
                bytes[position] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
            case 1 where !bytes.isEmpty:
                bytes[position] = interestingBytes.randomElement(using: &rng)!
            case 2:
                bytes.insert(interestingBytes.randomElement(using: &rng)!, at: position)
            case 3 where !bytes.isEmpty:
                bytes.remove(at: position)
            case 4:
                bytes = Array(bytes.prefix(position))  // truncate
            case 5:
                // A huge length after a type byte.
                bytes.insert(contentsOf: [0xdd, 0xff, 0xff, 0xff, 0xff], at: position)
            default:
                bytes.append(UInt8.random(in: 0...255, using: &rng))
            }
        }
        return bytes
    }

    /// Decodes `input` into several model types. The only requirement is that every call returns or
    /// throws; for `Value`, a successful decode must also survive re-encoding.
    static func decodeEverything(_ input: [UInt8]) -> Int {
        var successes = 0
        func attempt<T: Decodable>(_ type: T.Type) {
            if (try? decoded(T.self, from: input)) != nil { successes += 1 }
        }
        attempt(Person.self)
        attempt([Person].self)
        attempt([Shape].self)
        attempt(Wide.self)
        attempt([String: [Int]].self)
        attempt([String: String].self)
        attempt([String: Int].self)
        attempt([String: Int16].self)
        attempt([Int: String].self)
        attempt(Tree.self)
        attempt(Dog.self)
        attempt(Manual.self)
        attempt(Data.self)
        attempt([UInt8].self)
        attempt([Point].self)
        attempt([Int?].self)
        attempt(String.self)
        attempt(Double.self)
        attempt(AnyMap.self)
        if let value = try? decoded(Value.self, from: input) {
            successes += 1
            let again = try? decoded(Value.self, from: encodedBytes(value))
            #expect(again == value, "re-encoding changed \(hex(input))")
        }
        return successes
    }

    @Test("random and mutated inputs never crash the decoder")
    func fuzz() throws {
        var rng = SeededGenerator(seed: 0xC0FFEE)
        let seeds = try Self.seeds()
        // Every seed decodes as something.
        for seed in seeds { #expect(Self.decodeEverything(seed) > 0, "\(hex(seed))") }

        // MSGPACK_FUZZ_ITERATIONS=1000000 swift test -c release --filter Fuzz runs a longer campaign.
        let iterations = ProcessInfo.processInfo.environment["MSGPACK_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 25_000
        var successes = 0
        for iteration in 0..<iterations {
            let input: [UInt8]
            switch iteration % 4 {
            case 0:
                // Pure noise, short.
                input = (0..<Int.random(in: 0...32, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            case 1:
                // Noise built from type markers (reaches nested structures more often).
                input = (0..<Int.random(in: 1...24, using: &rng)).map { _ in
                    Bool.random(using: &rng)
                        ? Self.interestingBytes.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
                }
            case 2:
                input = Self.mutate(seeds.randomElement(using: &rng)!, using: &rng)
            default:
                // Splice two seeds.
                let first = seeds.randomElement(using: &rng)!
                let second = seeds.randomElement(using: &rng)!
                input =
                    Array(first.prefix(Int.random(in: 0...first.count, using: &rng)))
                    + Array(second.suffix(Int.random(in: 0...second.count, using: &rng)))
            }
            successes += Self.decodeEverything(input)
        }
        // The mutations keep some inputs valid, so the successful paths are exercised too.
        #expect(successes > 100)
    }
}
