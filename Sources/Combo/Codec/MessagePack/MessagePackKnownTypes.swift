/// Type identities that the encoder and decoder special-case, computed once.
///
/// In unspecialized generic code (which is what Codable's containers run), a check such as
/// `T.self == [UInt8].self` looks the generic metadata up in the runtime's cache on every call;
/// comparing `ObjectIdentifier(T.self)` with these precomputed values is a pointer compare.
struct MessagePackKnownTypes: Sendable {
    let byteArray = ObjectIdentifier([UInt8].self)
    let intArray = ObjectIdentifier([Int].self)
    let stringArray = ObjectIdentifier([String].self)
    let doubleArray = ObjectIdentifier([Double].self)
    let stringToStringMap = ObjectIdentifier([String: String].self)
    let stringToIntMap = ObjectIdentifier([String: Int].self)

    static let shared = MessagePackKnownTypes()
}
