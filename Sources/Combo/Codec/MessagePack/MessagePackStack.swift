/// A growable stack of plain values for the decoder's bookkeeping (scopes, map entries, hash
/// tables).
///
/// Unlike `Array` stored in a class, mutating it needs no uniqueness check and reading it no
/// retain, which matters because the decoder touches these on every key lookup. Indices are still
/// checked: a bad index is a bug, and trapping beats reading stray memory.
struct MessagePackStack<Element: BitwiseCopyable>: ~Copyable {
    private var storage: UnsafeMutablePointer<Element>
    private var capacity: Int
    private(set) var count = 0

    /// Allocates nothing until the first element is added.
    init() {
        capacity = 0
        storage = UnsafeMutablePointer(bitPattern: MemoryLayout<Element>.alignment)!  // never dereferenced
    }

    deinit {
        if capacity > 0 { storage.deallocate() }
    }

    subscript(index: Int) -> Element {
        @inline(__always) unsafeAddress {
            precondition(index >= 0 && index < count, "MessagePackStack index out of range")
            return UnsafePointer(storage + index)
        }
        @inline(__always) unsafeMutableAddress {
            precondition(index >= 0 && index < count, "MessagePackStack index out of range")
            return storage + index
        }
    }

    /// The last element (the stack must not be empty).
    var last: Element {
        @inline(__always) get { self[count - 1] }
    }

    /// Pointer to element `index`, for updating one field in place.
    @inline(__always)
    func pointer(to index: Int) -> UnsafeMutablePointer<Element> {
        precondition(index >= 0 && index < count, "MessagePackStack index out of range")
        return storage + index
    }

    @inline(__always)
    mutating func append(_ element: Element) {
        if count == capacity { grow(to: count + 1) }
        (storage + count).initialize(to: element)
        count += 1
    }

    mutating func append(repeating element: Element, count newElements: Int) {
        reserveCapacity(count + newElements)
        (storage + count).initialize(repeating: element, count: newElements)
        count += newElements
    }

    mutating func reserveCapacity(_ minimumCapacity: Int) {
        if minimumCapacity > capacity { grow(to: minimumCapacity) }
    }

    @inline(__always)
    mutating func popLast() -> Element? {
        guard count > 0 else { return nil }
        count -= 1
        return storage[count]
    }

    /// Drops elements from the end until `count` is `newCount` (elements are plain values: nothing to deinitialize).
    @inline(__always)
    mutating func truncate(to newCount: Int) {
        if newCount < count { count = max(newCount, 0) }
    }

    mutating func removeAll() {
        count = 0
    }

    private mutating func grow(to minimumCapacity: Int) {
        var newCapacity = max(capacity * 2, 8)
        while newCapacity < minimumCapacity { newCapacity *= 2 }
        let newStorage = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        if capacity > 0 {
            newStorage.moveInitialize(from: storage, count: count)
            storage.deallocate()
        }
        storage = newStorage
        capacity = newCapacity
    }
}
