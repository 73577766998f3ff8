/// Why a ``PubSub/Configuration`` was rejected.
public enum ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The name is empty.
    case emptyName
    /// `poolSize` is not between 1 and 65,535.
    case invalidPoolSize(Int)
    /// `broadcastPoolSize` is less than 1.
    case invalidBroadcastPoolSize(Int)
    /// `broadcastPoolSize` exceeds `poolSize`.
    case broadcastPoolSizeExceedsPoolSize(broadcastPoolSize: Int, poolSize: Int)
    /// `registrySize` is less than 1.
    case invalidRegistrySize(Int)
    /// A dispatcher name is empty or longer than 255 UTF-8 bytes.
    case invalidDispatcherName(String)
    /// Two dispatchers share a name.
    case duplicateDispatcher(String)
    /// `defaultDispatcher` names no registered dispatcher.
    case unknownDefaultDispatcher(String)
    /// Two codecs share an id, or a codec of your own uses an id below 128
    /// (0 is raw bytes, 1 to 127 are reserved for Combo's codecs).
    case invalidCodecID(UInt8)
    /// `maximumEnvelopeSize` is too small to hold an envelope.
    case invalidMaximumEnvelopeSize(Int)
    /// A subscriber capacity is less than 1.
    case invalidSubscriberCapacity(Int)
    /// `shutdownTimeout` is negative.
    case invalidShutdownTimeout(Duration)

    public var description: String {
        switch self {
        case .emptyName: "the name option is required and must not be empty"
        case .invalidPoolSize(let size): "poolSize must be between 1 and 65535, got \(size)"
        case .invalidBroadcastPoolSize(let size): "broadcastPoolSize must be at least 1, got \(size)"
        case .broadcastPoolSizeExceedsPoolSize(let broadcast, let pool):
            "poolSize (\(pool)) must be greater than or equal to broadcastPoolSize (\(broadcast))"
        case .invalidRegistrySize(let size): "registrySize must be at least 1, got \(size)"
        case .invalidDispatcherName(let name):
            "dispatcher name \(name.debugDescription) must be 1 to 255 UTF-8 bytes"
        case .duplicateDispatcher(let name): "two dispatchers are registered as \(name.debugDescription)"
        case .unknownDefaultDispatcher(let name):
            "the default dispatcher \(name.debugDescription) is not registered"
        case .invalidCodecID(let id):
            "codec id \(id) is taken: 0 is raw bytes, 1 to 127 are Combo's, and ids of your own codecs (128 to 255) must be unique"
        case .invalidMaximumEnvelopeSize(let size): "maximumEnvelopeSize must be at least 1024 bytes, got \(size)"
        case .invalidSubscriberCapacity(let capacity): "a subscriber capacity must be at least 1, got \(capacity)"
        case .invalidShutdownTimeout(let timeout): "shutdownTimeout must not be negative, got \(timeout)"
        }
    }
}
