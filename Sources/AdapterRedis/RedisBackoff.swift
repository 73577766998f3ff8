/// Reconnection delays: exponential from a base, capped, with jitter.
///
/// The delay of attempt *n* is drawn uniformly from the upper half of
/// `min(cap, base · 2ⁿ)` ("equal jitter"): never zero, so a dead server is
/// not hammered, and spread out, so the nodes of a cluster that lost Redis
/// together do not reconnect in lockstep.
struct RedisBackoff: Sendable {
    let base: Duration
    let cap: Duration

    /// The delay before reconnection attempt `attempt` (0 for the first retry).
    func delay(attempt: Int) -> Duration {
        let exponent = min(attempt, 30)
        var ceiling = base * (1 << exponent)
        if ceiling > cap || ceiling < base { ceiling = cap }
        let half = ceiling / 2
        let jitter = Double.random(in: 0...1)
        return half + half * jitter
    }
}
