/// A host and TCP port where a mesh node listens.
public struct MeshAddress: Hashable, Sendable, Codable, CustomStringConvertible {
    /// A host name or IP address literal.
    public var host: String
    /// The TCP port; 0 when listening means "any free port".
    public var port: Int

    /// Creates an address.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`.
    public var description: String { "\(host):\(port)" }
}
