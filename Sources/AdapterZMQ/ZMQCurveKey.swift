import CZMQ

/// A CURVE key (public or secret): 32 bytes, written as 40 Z85 characters.
public struct ZMQCurveKey: Sendable, Hashable, CustomStringConvertible {
    /// The key's 32 bytes.
    public let bytes: [UInt8]

    /// A key from its 32 bytes.
    ///
    /// - Throws: ``ZMQConfigurationError/invalidCurveKey(_:)`` for another length.
    public init(bytes: [UInt8]) throws(ZMQConfigurationError) {
        guard bytes.count == 32 else { throw .invalidCurveKey("\(bytes.count) bytes instead of 32") }
        self.bytes = bytes
    }

    /// A key from its Z85 text (what `zmq_curve_keypair` and `combo zmq-proxy` print).
    ///
    /// - Throws: ``ZMQConfigurationError/invalidCurveKey(_:)``.
    public init(z85: String) throws(ZMQConfigurationError) {
        let text = z85.trimmingWhitespace
        guard text.utf8.count == 40 else { throw .invalidCurveKey("\(text.utf8.count) characters instead of 40") }
        var decoded = [UInt8](repeating: 0, count: 32)
        guard zmq_z85_decode(&decoded, text) != nil else { throw .invalidCurveKey("not Z85 text") }
        bytes = decoded
    }

    /// The key as 40 Z85 characters.
    public var z85: String {
        var text = [CChar](repeating: 0, count: 41)
        zmq_z85_encode(&text, bytes, bytes.count)
        return String(decoding: text.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The first characters only: secret keys must not end up in logs whole.
    public var description: String { "ZMQCurveKey(\(z85.prefix(5))…)" }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[start...end])
    }
}
