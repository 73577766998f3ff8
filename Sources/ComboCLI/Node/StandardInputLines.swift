import Foundation

/// The lines of standard input as an `AsyncStream`, read on a thread of their
/// own so that the blocking read never occupies a Swift concurrency thread.
enum StandardInputLines {
    static func stream() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream<String>.makeStream()
        let reader = Thread {
            while let line = readLine() {
                continuation.yield(line)
            }
            continuation.finish()
        }
        reader.name = "combo-stdin"
        reader.start()
        return stream
    }
}
