@testable import ComboCLI
import Foundation
import Testing

/// `StandardInputLines` over a pipe the test writes.
@Suite("combo node's standard input")
struct StandardInputLinesTests {
    /// Writes `bytes` to a new pipe on a thread of its own (the write blocks
    /// while the reader holds back), closes it, and reads every item.
    func items(
        of bytes: [UInt8], capacity: Int = StandardInputLines.capacity, maximumLineLength: Int = 16
    ) async -> [StandardInputLines.Item] {
        let pipe = Pipe()
        let lines = StandardInputLines(
            descriptor: pipe.fileHandleForReading.fileDescriptor, capacity: capacity,
            maximumLineLength: maximumLineLength)
        let writer = pipe.fileHandleForWriting
        Thread {
            try? writer.write(contentsOf: Data(bytes))
            try? writer.close()
        }.start()
        var items: [StandardInputLines.Item] = []
        for await item in lines { items.append(item) }
        try? pipe.fileHandleForReading.close()
        return items
    }

    @Test("lines without their line breaks, \\r\\n too; an unterminated last line; invalid UTF-8 replaced")
    func splitsLines() async {
        let items = await items(of: Array("one\ntwo\r\n\nthree".utf8) + [0x0A, 0xFF, 0x41, 0x0A, 0x62])
        #expect(items == [.line("one"), .line("two"), .line(""), .line("three"), .line("\u{FFFD}A"), .line("b")])
    }

    @Test("a line over the limit is skipped whole and reported with its length; the next line is read")
    func skipsLongLines() async {
        let long = String(repeating: "x", count: 40)
        let items = await items(of: Array("short\n\(long)\nafter\n\(String(repeating: "y", count: 16))\r\n\(long)".utf8))
        #expect(items == [.line("short"), .tooLong(bytes: 40), .line("after"), .line(String(repeating: "y", count: 16)), .tooLong(bytes: 40)])
    }

    @Test("with a queue of 4, 20,000 lines all arrive in order")
    func smallQueueKeepsOrder() async {
        let text = (0..<20_000).map { "\($0)\n" }.joined()
        let items = await items(of: Array(text.utf8), capacity: 4)
        #expect(items == (0..<20_000).map { .line("\($0)") })
    }

    @Test("a task waiting for a line that never comes ends when cancelled")
    func cancellation() async {
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        let lines = StandardInputLines(descriptor: descriptors[0])
        let waiting = Task { await lines.next() }
        waiting.cancel()
        #expect(await waiting.value == nil)
        // The end of input lets the reading thread finish; its descriptor stays
        // open, since nothing tells when that thread has stopped reading it.
        close(descriptors[1])
    }
}
