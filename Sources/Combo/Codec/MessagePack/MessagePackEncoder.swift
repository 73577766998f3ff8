import Foundation
import NIOCore
// TEMPORARY until the real encoder lands
struct MessagePackEncoder: Sendable {
    init(maximumDepth: Int = 256) {}
    func encode<T: Encodable>(_ value: T, into buffer: inout ByteBuffer) throws(MessagePackError) {
        do { buffer.writeBytes(try JSONEncoder().encode(value)) } catch { throw .encodingFailed("\(error)") }
    }
}
struct MessagePackDecoder: Sendable {
    init(maximumDepth: Int = 256) {}
    func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws(MessagePackError) -> T {
        do { return try JSONDecoder().decode(type, from: Data(buffer.readableBytesView)) } catch { throw .decodingFailed("\(error)") }
    }
}
public enum MessagePackError: Error { case encodingFailed(String), decodingFailed(String) }
