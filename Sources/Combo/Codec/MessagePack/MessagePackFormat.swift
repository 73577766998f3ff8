/// MessagePack type bytes and small helpers shared by the encoder and the decoder.
///
/// Specification: https://github.com/msgpack/msgpack/blob/master/spec.md
/// All multi-byte numbers are big-endian.
enum MessagePackFormat {
    static let positiveFixIntMax: UInt8 = 0x7f
    static let fixMap: UInt8 = 0x80  // 1000xxxx
    static let fixArray: UInt8 = 0x90  // 1001xxxx
    static let fixStr: UInt8 = 0xa0  // 101xxxxx
    static let `nil`: UInt8 = 0xc0
    static let neverUsed: UInt8 = 0xc1
    static let `false`: UInt8 = 0xc2
    static let `true`: UInt8 = 0xc3
    static let bin8: UInt8 = 0xc4
    static let bin16: UInt8 = 0xc5
    static let bin32: UInt8 = 0xc6
    static let ext8: UInt8 = 0xc7
    static let ext16: UInt8 = 0xc8
    static let ext32: UInt8 = 0xc9
    static let float32: UInt8 = 0xca
    static let float64: UInt8 = 0xcb
    static let uint8: UInt8 = 0xcc
    static let uint16: UInt8 = 0xcd
    static let uint32: UInt8 = 0xce
    static let uint64: UInt8 = 0xcf
    static let int8: UInt8 = 0xd0
    static let int16: UInt8 = 0xd1
    static let int32: UInt8 = 0xd2
    static let int64: UInt8 = 0xd3
    static let fixExt1: UInt8 = 0xd4
    static let fixExt16: UInt8 = 0xd8
    static let str8: UInt8 = 0xd9
    static let str16: UInt8 = 0xda
    static let str32: UInt8 = 0xdb
    static let array16: UInt8 = 0xdc
    static let array32: UInt8 = 0xdd
    static let map16: UInt8 = 0xde
    static let map32: UInt8 = 0xdf
    static let negativeFixIntMin: UInt8 = 0xe0  // 111xxxxx

    /// The largest length of a str, bin, array or map (32-bit length fields).
    static let maximumLength = Int(UInt32.max)

    /// A human-readable name of the MessagePack type that starts with `byte`, used in error messages.
    static func typeName(of byte: UInt8) -> String {
        switch byte {
        case 0x00...0x7f, 0xe0...0xff, uint8...int64: return "integer"
        case 0x80...0x8f, map16, map32: return "map"
        case 0x90...0x9f, array16, array32: return "array"
        case 0xa0...0xbf, str8, str16, str32: return "string"
        case `nil`: return "nil"
        case `false`, `true`: return "bool"
        case bin8, bin16, bin32: return "binary"
        case float32, float64: return "float"
        case ext8, ext16, ext32, fixExt1...fixExt16: return "extension"
        default: return "invalid type byte \(hex(byte))"
        }
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return byte < 0x10 ? "0x0" + digits : "0x" + digits
    }
}
