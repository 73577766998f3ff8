import CHiredis

/// Facts about the hiredis library this module is linked against.
///
/// The Redis adapter (``Redis``, ``RedisAdapter``) uses hiredis' reply reader;
/// this type proves on its own that the system-library target builds and
/// links on every machine that builds Combo.
public enum LibHiredis {
    /// The hiredis version the module was compiled against, as `(major, minor, patch)`.
    public static var version: (major: Int, minor: Int, patch: Int) {
        (Int(HIREDIS_MAJOR), Int(HIREDIS_MINOR), Int(HIREDIS_PATCH))
    }

    /// Parses one RESP reply with hiredis' reader and returns it if it is a
    /// simple or bulk string; `nil` for any other reply or incomplete input.
    ///
    /// Exercises the linked library end to end (allocation, parsing, freeing).
    public static func parseStringReply(_ bytes: [UInt8]) -> String? {
        guard let reader = redisReaderCreate() else { return nil }
        defer { redisReaderFree(reader) }
        let fed = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                redisReaderFeed(reader, chars.baseAddress, chars.count)
            }
        }
        guard fed == REDIS_OK else { return nil }
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK, let raw else { return nil }
        defer { freeReplyObject(raw) }
        let reply = raw.assumingMemoryBound(to: redisReply.self).pointee
        guard reply.type == REDIS_REPLY_STRING || reply.type == REDIS_REPLY_STATUS, let str = reply.str else {
            return nil
        }
        let buffer = UnsafeRawBufferPointer(start: str, count: Int(reply.len))
        return String(decoding: buffer, as: UTF8.self)
    }
}
