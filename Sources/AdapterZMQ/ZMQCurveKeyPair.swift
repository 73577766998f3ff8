import CZMQ

/// A CURVE key pair.
public struct ZMQCurveKeyPair: Sendable, Hashable {
    /// The public key, which the other side is given.
    public let publicKey: ZMQCurveKey
    /// The secret key, which never leaves this side.
    public let secretKey: ZMQCurveKey

    /// The pair of a secret key (its public key is derived from it).
    ///
    /// - Throws: ``ZMQConfigurationError/curveUnavailable`` when libzmq lacks CURVE.
    public init(secretKey: ZMQCurveKey) throws(ZMQConfigurationError) {
        var publicText = [CChar](repeating: 0, count: 41)
        guard zmq_curve_public(&publicText, secretKey.z85) == 0 else { throw .curveUnavailable }
        publicKey = try ZMQCurveKey(z85: String(decoding: publicText.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        self.secretKey = secretKey
    }

    /// A new random key pair.
    ///
    /// - Throws: ``ZMQConfigurationError/curveUnavailable`` when libzmq lacks CURVE.
    public static func generate() throws(ZMQConfigurationError) -> ZMQCurveKeyPair {
        var publicText = [CChar](repeating: 0, count: 41)
        var secretText = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&publicText, &secretText) == 0 else { throw .curveUnavailable }
        let text = { (characters: [CChar]) in String(decoding: characters.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return try ZMQCurveKeyPair(secretKey: ZMQCurveKey(z85: text(secretText)))
    }
}
