/// The errors of the mesh adapter.
public enum MeshError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The configuration is invalid; the text says which option and why.
    case invalidConfiguration(String)
    /// A send while the adapter's `run()` is not running.
    case notRunning
    /// `run()` was called a second time; an adapter runs once.
    case alreadyStarted
    /// The adapter stopped, or never started listening, before the bound address was known.
    case notListening
    /// A connection closed or failed before its handshake finished.
    case handshakeFailed

    /// A sentence saying what went wrong.
    public var description: String {
        switch self {
        case .invalidConfiguration(let reason): "invalid mesh configuration: \(reason)"
        case .notRunning: "the mesh adapter is not running"
        case .alreadyStarted: "the mesh adapter was already started"
        case .notListening: "the mesh adapter is not listening"
        case .handshakeFailed: "the mesh connection closed before its handshake finished"
        }
    }
}
