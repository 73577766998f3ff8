import Crypto
import NIOCore

/// The challenge-response of a connection: each side proves it knows the
/// cluster secret without sending it.
///
/// A proof is `HMAC-SHA256(secret, "combo-mesh-proof" ‖ prover role ‖
/// u32 length ‖ dialer's hello ‖ u32 length ‖ listener's hello)`. Both hellos
/// carry a fresh random nonce and the sender's identity, so a proof is bound
/// to this connection and these two nodes, and the role byte keeps a side's
/// proof from being reflected back as the other side's.
struct MeshHandshake: Sendable {
    static let label: [UInt8] = Array("combo-mesh-proof".utf8)
    /// The secret's bytes; the key is made from them per use because
    /// `SymmetricKey` is not `Sendable`.
    private let secret: [UInt8]

    init(secret: [UInt8]) {
        self.secret = secret
    }

    /// The proof that `prover` knows the secret, for the connection whose hellos are given.
    func proof(by prover: MeshRole, dialerHello: ByteBuffer, listenerHello: ByteBuffer) -> [UInt8] {
        Array(code(by: prover, dialerHello: dialerHello, listenerHello: listenerHello))
    }

    /// Whether `proof` is `prover`'s valid proof; compared in constant time.
    func verify(_ proof: ByteBuffer, by prover: MeshRole, dialerHello: ByteBuffer, listenerHello: ByteBuffer) -> Bool {
        let received = Array(proof.readableBytesView)
        guard received.count == SHA256.byteCount else { return false }
        // HashedAuthenticationCode's == with bytes is the constant-time comparison.
        return code(by: prover, dialerHello: dialerHello, listenerHello: listenerHello) == received
    }

    private func code(by prover: MeshRole, dialerHello: ByteBuffer, listenerHello: ByteBuffer) -> HashedAuthenticationCode<SHA256> {
        var mac = HMAC<SHA256>(key: SymmetricKey(data: secret))
        mac.update(data: Self.label)
        mac.update(data: [prover.rawValue])
        for hello in [dialerHello, listenerHello] {
            let length = UInt32(hello.readableBytes)
            mac.update(data: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: length >> $0) })
            mac.update(data: Array(hello.readableBytesView))
        }
        return mac.finalize()
    }
}
