/// The Swift types that Codable treats as primitives, which the codec reads and writes directly
/// when generic code (such as `Array.init(from:)`) reaches them through a generic method.
enum MessagePackPrimitive {
    case string, int, double, bool, int64, uint64, float, int32, uint32, uint, int16, uint16, int8, uint8

    /// The primitive that `T` is, if any. Each check compares type metadata pointers; the most
    /// common types come first.
    @inline(__always)
    static func kind<T>(of type: T.Type) -> MessagePackPrimitive? {
        if T.self == String.self { return .string }
        if T.self == Int.self { return .int }
        if T.self == Double.self { return .double }
        if T.self == Bool.self { return .bool }
        if T.self == Int64.self { return .int64 }
        if T.self == UInt64.self { return .uint64 }
        if T.self == Float.self { return .float }
        if T.self == Int32.self { return .int32 }
        if T.self == UInt32.self { return .uint32 }
        if T.self == UInt.self { return .uint }
        if T.self == Int16.self { return .int16 }
        if T.self == UInt16.self { return .uint16 }
        if T.self == Int8.self { return .int8 }
        if T.self == UInt8.self { return .uint8 }
        return nil
    }
}
