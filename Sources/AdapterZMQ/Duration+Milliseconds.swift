extension Duration {
    /// Whole milliseconds, clamped to `Int32`: the unit of libzmq's socket
    /// options and of `poll`'s timeout.
    var zmqMilliseconds: Int32 {
        let (seconds, attoseconds) = components
        return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}
