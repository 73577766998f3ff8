import CMallocInfo

/// Bytes currently allocated by malloc, to measure what structures cost.
enum MemoryProbe {
    static func allocatedBytes() -> Int {
        Int(combo_malloc_allocated_bytes())
    }
}
