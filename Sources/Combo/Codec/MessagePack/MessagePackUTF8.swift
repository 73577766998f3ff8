/// UTF-8 validation without allocating.
///
/// The standard library's `String(validating:as:)` is generic and, unspecialized, costs about a
/// thousand instructions per call in runtime metadata lookups, more than decoding a whole small
/// string; this check is a tight loop with an ASCII fast path.
enum MessagePackUTF8 {
    /// Whether `bytes` is well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let count = bytes.count
        var index = 0
        while index < count {
            // Eight ASCII bytes at a time.
            if index + 8 <= count,
                bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0
            {
                index += 8
                continue
            }
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var lowerBound: UInt8 = 0x80  // allowed range of the first continuation byte
            var upperBound: UInt8 = 0xbf
            switch lead {
            case 0xc2...0xdf:
                length = 2
            case 0xe0:
                length = 3
                lowerBound = 0xa0  // no overlong forms
            case 0xe1...0xec, 0xee...0xef:
                length = 3
            case 0xed:
                length = 3
                upperBound = 0x9f  // no surrogates
            case 0xf0:
                length = 4
                lowerBound = 0x90  // no overlong forms
            case 0xf1...0xf3:
                length = 4
            case 0xf4:
                length = 4
                upperBound = 0x8f  // nothing above U+10FFFF
            default:
                return false  // continuation byte, overlong 2-byte lead, or 0xf5...0xff
            }
            guard index + length <= count else { return false }
            let first = bytes[index + 1]
            guard first >= lowerBound && first <= upperBound else { return false }
            for offset in 2..<length where bytes[index + offset] & 0xc0 != 0x80 {
                return false
            }
            index += length
        }
        return true
    }
}
