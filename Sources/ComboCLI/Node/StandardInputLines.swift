import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The lines of standard input, read on a thread of their own so that the
/// blocking read never occupies a Swift concurrency thread, and bounded twice:
///
/// - at most ``capacity`` lines wait to be handled; while that many do, the
///   reading thread blocks (on its own thread) until one is taken, so a writer
///   faster than the node is held back by the pipe rather than filling memory;
/// - a line longer than ``maximumLineLength`` bytes is not kept: its bytes are
///   skipped up to the next line break and ``Item/tooLong(bytes:)`` takes its
///   place, for the node to report and count.
///
/// One consumer at a time iterates it; iteration ends at the end of standard
/// input or when the iterating task is cancelled.
final class StandardInputLines: AsyncSequence, Sendable {
    /// What standard input yielded.
    enum Item: Equatable, Sendable {
        /// A line, without its line break (`\n` or `\r\n`); invalid UTF-8 is
        /// replaced with U+FFFD.
        case line(String)
        /// A line longer than ``maximumLineLength`` bytes, skipped whole.
        case tooLong(bytes: Int)
    }

    /// Lines queued at most before the reading thread waits.
    static let capacity = 1_024
    /// The longest line kept, in bytes, without its line break.
    static let maximumLineLength = 65_536

    private struct State {
        var items: [Item] = []
        var head = 0
        var finished = false
        var readerWaiting = false
        var consumer: CheckedContinuation<Item?, Never>?
        var consumerCancelled = false

        var count: Int { items.count - head }

        /// Takes the oldest queued item.
        mutating func take() -> Item? {
            guard head < items.count else { return nil }
            let item = items[head]
            head += 1
            // Compact once the taken prefix is as large as what is left, so the
            // array never holds more than twice the capacity.
            if head >= Self.compactionThreshold(items.count) {
                items.removeFirst(head)
                head = 0
            }
            return item
        }

        static func compactionThreshold(_ total: Int) -> Int { Swift.max(64, total / 2) }
    }

    private let state = Mutex(State())
    /// Signalled when the consumer takes an item while the reader waits for room.
    private let room = DispatchSemaphore(value: 0)
    private let capacity: Int
    private let maximumLineLength: Int

    /// Starts reading `descriptor` (standard input by default) on a new thread.
    init(descriptor: Int32 = STDIN_FILENO, capacity: Int = StandardInputLines.capacity,
         maximumLineLength: Int = StandardInputLines.maximumLineLength) {
        self.capacity = capacity
        self.maximumLineLength = maximumLineLength
        let reader = Thread { [self] in readLines(from: descriptor) }
        reader.name = "combo-stdin"
        reader.start()
    }

    // MARK: Reading thread

    private func readLines(from descriptor: Int32) {
        var splitter = LineSplitter(maximumLineLength: maximumLineLength)
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            for item in splitter.split(chunk[0..<count]) {
                guard push(item) else { return }
            }
        }
        if let last = splitter.finish() { _ = push(last) }
        finish()
    }

    /// Queues `item`, blocking this (dedicated) thread while the queue is full;
    /// `false` once nobody will read any more.
    private func push(_ item: Item) -> Bool {
        while true {
            enum Outcome { case queued, handed(CheckedContinuation<Item?, Never>), full, closed }
            let outcome = state.withLock { state -> Outcome in
                if state.consumerCancelled { return .closed }
                if let consumer = state.consumer {
                    state.consumer = nil
                    return .handed(consumer)
                }
                guard state.count < capacity else {
                    state.readerWaiting = true
                    return .full
                }
                state.items.append(item)
                return .queued
            }
            switch outcome {
            case .queued: return true
            case .handed(let consumer):
                consumer.resume(returning: item)
                return true
            case .full: room.wait()
            case .closed: return false
            }
        }
    }

    private func finish() {
        let consumer = state.withLock { state -> CheckedContinuation<Item?, Never>? in
            state.finished = true
            defer { state.consumer = nil }
            return state.consumer
        }
        consumer?.resume(returning: nil)
    }

    // MARK: Consuming

    /// The next item; `nil` at the end of input or once the task is cancelled.
    func next() async -> Item? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Item?, Never>) in
                enum Ready { case item(Item?), wait }
                let (ready, wakeReader) = state.withLock { state -> (Ready, Bool) in
                    if let item = state.take() {
                        let wake = state.readerWaiting
                        state.readerWaiting = false
                        return (.item(item), wake)
                    }
                    if state.finished || state.consumerCancelled { return (.item(nil), false) }
                    state.consumer = continuation
                    return (.wait, false)
                }
                if wakeReader { room.signal() }
                if case .item(let item) = ready { continuation.resume(returning: item) }
            }
        } onCancel: {
            let (consumer, wakeReader) = state.withLock { state -> (CheckedContinuation<Item?, Never>?, Bool) in
                state.consumerCancelled = true
                let wake = state.readerWaiting
                state.readerWaiting = false
                defer { state.consumer = nil }
                return (state.consumer, wake)
            }
            // The reader sees the cancellation and stops reading.
            if wakeReader { room.signal() }
            consumer?.resume(returning: nil)
        }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let lines: StandardInputLines

        mutating func next() async -> Item? { await lines.next() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(lines: self) }
}

/// Cuts bytes into lines of at most `maximumLineLength` bytes, across reads.
private struct LineSplitter {
    let maximumLineLength: Int
    private var pending: [UInt8] = []
    /// Bytes of the current line skipped because it is too long; 0 otherwise.
    private var skipped = 0

    init(maximumLineLength: Int) {
        self.maximumLineLength = maximumLineLength
    }

    mutating func split(_ bytes: ArraySlice<UInt8>) -> [StandardInputLines.Item] {
        var items: [StandardInputLines.Item] = []
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n"))
            let piece = bytes[start..<(newline ?? bytes.endIndex)]
            if skipped > 0 {
                skipped += piece.count
            } else if pending.count + piece.count > maximumLineLength + 1 {
                // `+ 1` leaves room for the `\r` of a `\r\n` line break.
                skipped = pending.count + piece.count
                pending.removeAll(keepingCapacity: false)
            } else {
                pending.append(contentsOf: piece)
            }
            guard let newline else { break }
            items.append(endLine())
            start = bytes.index(after: newline)
        }
        return items
    }

    /// The unterminated last line, if any, at the end of input.
    mutating func finish() -> StandardInputLines.Item? {
        guard skipped > 0 || !pending.isEmpty else { return nil }
        return endLine()
    }

    private mutating func endLine() -> StandardInputLines.Item {
        if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
        defer {
            pending.removeAll(keepingCapacity: true)
            skipped = 0
        }
        if skipped > 0 { return .tooLong(bytes: skipped) }
        if pending.count > maximumLineLength { return .tooLong(bytes: pending.count) }
        return .line(String(decoding: pending, as: UTF8.self))
    }
}
