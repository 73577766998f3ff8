import Combo
import Foundation
import NIOCore
import Synchronization

/// A JSON codec that counts its encodes and decodes, to prove what is (not) encoded.
final class CountingCodec: PayloadCodec, Sendable {
    let id: UInt8 = 200
    let name = "counting-json"
    let encodes = Atomic<Int>(0)
    let decodes = Atomic<Int>(0)

    func encode<Value: Encodable>(_ value: Value, into buffer: inout ByteBuffer) throws {
        encodes.add(1, ordering: .relaxed)
        buffer.writeBytes(try JSONEncoder().encode(value))
    }

    func decode<Value: Decodable>(_ type: Value.Type, from buffer: ByteBuffer) throws -> Value {
        decodes.add(1, ordering: .relaxed)
        return try JSONDecoder().decode(type, from: Data(buffer.readableBytesView))
    }

    var encodeCount: Int { encodes.load(ordering: .relaxed) }
    var decodeCount: Int { decodes.load(ordering: .relaxed) }
}
