/// Writes an envelope's header fields into memory already reserved for them,
/// big-endian, in one pass: one reservation in the buffer instead of one
/// bounds-checked, exclusivity-checked write per field.
///
/// The caller reserves exactly the bytes it writes; every write traps past
/// the reservation, as a programming error.
struct EnvelopeHeaderWriter {
    private let memory: UnsafeMutableRawBufferPointer
    private(set) var offset = 0

    init(_ memory: UnsafeMutableRawBufferPointer) {
        self.memory = memory
    }

    mutating func write<Integer: FixedWidthInteger>(_ value: Integer) {
        precondition(offset + MemoryLayout<Integer>.size <= memory.count, "envelope header overruns its reservation")
        memory.storeBytes(of: value.bigEndian, toByteOffset: offset, as: Integer.self)
        offset += MemoryLayout<Integer>.size
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        precondition(offset + bytes.count <= memory.count, "envelope header overruns its reservation")
        (memory.baseAddress! + offset).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        offset += bytes.count
    }

    /// Writes the string's UTF-8 bytes (no length).
    mutating func write(_ string: String) {
        let copied: Void? = string.utf8.withContiguousStorageIfAvailable { write(UnsafeRawBufferPointer($0)) }
        if copied == nil {
            for byte in string.utf8 { write(byte) }
        }
    }
}
