/// Recognises, without hiredis, the two replies that make up nearly all of
/// a connection's traffic: a pub/sub message (`["message", channel,
/// payload]`) on the subscriber connection, and the integer reply to a
/// `PUBLISH` on a publishing connection.
///
/// hiredis builds every reply out of `calloc`ed objects and copies each
/// string; for a message that is five allocations and three copies, which
/// profiles of `combo bench redis` showed as the largest cost of the adapter.
/// Here a message is located in the bytes as they were read, and its payload
/// is handed on as a slice of them. Anything else, and anything that does not
/// have exactly the shape Redis writes, is ``Scan/other``: the reader gives
/// it to hiredis, which stays the parser of record for every other reply and
/// the judge of malformed input.
enum RESPFastPath {
    /// What the bytes at the start of the buffer are.
    enum Scan: Equatable {
        /// A complete pub/sub message: the payload's offset and length from
        /// the start, and the length of the whole reply.
        case message(payloadOffset: Int, payloadLength: Int, replyLength: Int)
        /// A complete integer reply and its length.
        case integer(Int64, replyLength: Int)
        /// The start of a message or integer reply, not yet complete.
        case needMore
        /// Some other reply (or not RESP): for hiredis.
        case other
    }

    /// `*3\r\n$7\r\nmessage\r\n`: how every message reply starts.
    private static let messageStart: [UInt8] = Array("*3\r\n$7\r\nmessage\r\n".utf8)
    /// Bulk strings longer than this go to hiredis: Redis' own limit is 512 MB.
    private static let longestBulkString = 512 << 20

    /// What `bytes` starts with.
    static func scan(_ bytes: UnsafeRawBufferPointer) -> Scan {
        guard let first = bytes.first else { return .needMore }
        switch first {
        case UInt8(ascii: ":"): return integer(bytes)
        case UInt8(ascii: "*"): return message(bytes)
        default: return .other
        }
    }

    private static func message(_ bytes: UnsafeRawBufferPointer) -> Scan {
        let known = min(bytes.count, messageStart.count)
        guard bytes.prefix(known).elementsEqual(messageStart.prefix(known)) else { return .other }
        guard bytes.count >= messageStart.count else { return .needMore }
        var index = messageStart.count
        var payload = 0..<0
        for _ in 0..<2 {
            switch bulkString(bytes, at: index) {
            case .needMore: return .needMore
            case .other: return .other
            case .complete(let content, let end):
                payload = content
                index = end
            }
        }
        return .message(payloadOffset: payload.lowerBound, payloadLength: payload.count, replyLength: index)
    }

    private enum BulkString {
        case complete(Range<Int>, end: Int)
        case needMore
        case other
    }

    /// `$<length>\r\n<bytes>\r\n` at `start`.
    private static func bulkString(_ bytes: UnsafeRawBufferPointer, at start: Int) -> BulkString {
        guard start < bytes.count else { return .needMore }
        guard bytes[start] == UInt8(ascii: "$") else { return .other }
        var index = start + 1
        var length = 0
        while index < bytes.count, bytes[index] != UInt8(ascii: "\r") {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10, index - start <= 10 else { return .other }
            length = length * 10 + Int(digit)
            index += 1
        }
        guard index < bytes.count else { return .needMore }
        guard index > start + 1, length <= longestBulkString else { return .other }
        let contentStart = index + 2
        let end = contentStart + length + 2
        // The CRLF after the length, then the content and its CRLF.
        guard index + 1 < bytes.count else { return .needMore }
        guard bytes[index + 1] == UInt8(ascii: "\n") else { return .other }
        guard end <= bytes.count else { return .needMore }
        guard bytes[end - 2] == UInt8(ascii: "\r"), bytes[end - 1] == UInt8(ascii: "\n") else { return .other }
        return .complete(contentStart..<(contentStart + length), end: end)
    }

    /// `:<integer>\r\n`.
    private static func integer(_ bytes: UnsafeRawBufferPointer) -> Scan {
        var index = 1
        let negative = index < bytes.count && bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        let digitsStart = index
        var value: Int64 = 0
        while index < bytes.count, bytes[index] != UInt8(ascii: "\r") {
            let digit = bytes[index] &- UInt8(ascii: "0")
            // 18 digits always fit an Int64; longer integers go to hiredis.
            guard digit < 10, index - digitsStart < 18 else { return .other }
            value = value * 10 + Int64(digit)
            index += 1
        }
        guard index + 1 < bytes.count else { return .needMore }
        guard index > digitsStart, bytes[index + 1] == UInt8(ascii: "\n") else { return .other }
        return .integer(negative ? -value : value, replyLength: index + 2)
    }
}
