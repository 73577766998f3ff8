import NIOCore

/// One RESP2 reply, copied out of hiredis' reply objects so that it outlives them.
enum RESPValue: Sendable, Equatable {
    /// `+OK`
    case simpleString(String)
    /// `-ERR ...`
    case error(String)
    /// `:42`
    case integer(Int64)
    /// `$5\r\nhello`
    case bulkString(ByteBuffer)
    /// `$-1` or `*-1`
    case null
    /// `*2\r\n...`
    indirect case array([RESPValue])

    /// The text of a simple or bulk string.
    var string: String? {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let buffer): String(buffer: buffer)
        default: nil
        }
    }
}
