/// The parts of a `redis://` URL.
struct RedisURL: Sendable, Hashable {
    var host: String
    var port: Int = 6379
    var username: String?
    var password: String?
    var database: Int = 0

    /// Parses `redis://[[username]:password@]host[:port][/database]`; an IPv6
    /// host is written in brackets (`redis://[::1]:6379`).
    init(parsing url: String) throws(RedisConfigurationError) {
        func fail(_ reason: String) -> RedisConfigurationError { .invalidURL(url, reason: reason) }
        let scheme = "redis://"
        guard url.hasPrefix(scheme) else { throw fail("the scheme must be redis://") }
        var rest = Substring(url.dropFirst(scheme.count))
        if rest.contains("?") || rest.contains("#") { throw fail("query and fragment are not supported") }

        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                let user = try Self.percentDecoded(userInfo[..<colon], url: url)
                username = user.isEmpty ? nil : user
                password = try Self.percentDecoded(userInfo[userInfo.index(after: colon)...], url: url)
            } else {
                // "redis://secret@host": as upstream (Redix), a lone user info is the password.
                password = try Self.percentDecoded(userInfo, url: url)
            }
        }

        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw fail("unterminated IPv6 address") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("unexpected text after the IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.firstIndex(of: ":") {
            host = String(rest[..<colon])
            portText = rest[rest.index(after: colon)...]
        } else {
            host = String(rest)
        }
        guard !host.isEmpty else { throw fail("the host is missing") }
        if let portText {
            guard let value = Int(portText), (1...65_535).contains(value) else { throw fail("invalid port") }
            port = value
        }
        if !path.isEmpty {
            guard let value = Int(path), value >= 0 else { throw fail("the path must be a database number") }
            database = value
        }
    }

    private static func percentDecoded(_ text: Substring, url: String) throws(RedisConfigurationError) -> String {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw .invalidURL(url, reason: "invalid percent-encoding")
            }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw .invalidURL(url, reason: "user info is not UTF-8")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
