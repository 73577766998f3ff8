import NIOCore

/// Length-prefixed text fields of the mesh's frames.
extension ByteBuffer {
    /// Writes `text` after its UTF-8 length as a `u8`; the caller checks it fits.
    mutating func writeShortText(_ text: String) {
        writeInteger(UInt8(text.utf8.count))
        writeString(text)
    }

    /// Writes `text` after its UTF-8 length as a `u16`; the caller checks it fits.
    mutating func writeMediumText(_ text: String) {
        writeInteger(UInt16(text.utf8.count))
        writeString(text)
    }

    /// Reads a text written by ``writeShortText(_:)``.
    mutating func readShortText() throws(MeshRejection) -> String {
        guard let length = readInteger(as: UInt8.self) else { throw .malformed }
        return try readValidText(length: Int(length))
    }

    /// Reads a text written by ``writeMediumText(_:)``.
    mutating func readMediumText() throws(MeshRejection) -> String {
        guard let length = readInteger(as: UInt16.self) else { throw .malformed }
        return try readValidText(length: Int(length))
    }

    private mutating func readValidText(length: Int) throws(MeshRejection) -> String {
        guard let bytes = readBytes(length: length) else { throw .malformed }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .malformed }
        return text
    }

    /// Reads a big-endian integer or rejects the frame as malformed.
    mutating func readField<Value: FixedWidthInteger>(_: Value.Type = Value.self) throws(MeshRejection) -> Value {
        guard let value = readInteger(as: Value.self) else { throw .malformed }
        return value
    }
}
