import Logging
import Metrics
import Synchronization

/// Counts and logs the compressed envelopes a node rejects:
/// `combo_redis_decompression_failures_total{pubsub, reason}`, and a warning
/// at the 1st, 2nd, 4th, 8th… occurrence of each reason, so that a flood of
/// bad frames cannot flood the log.
final class RedisDecompressionFailures: Sendable {
    private let counters: [String: Counter]
    private let occurrences = Mutex<[String: Int]>([:])
    private let logger: Logger

    init(pubSubName: String, factory: any MetricsFactory, logger: Logger) {
        let reasons: [CompressedEnvelopeError] = [
            .truncatedHeader(length: 0), .unsupportedVersion(0), .unknownMethod(0), .reservedBits(0),
            .oversized(declared: 0, limit: 0), .inflatesBeyondDeclaredLength(declared: 0),
            .lengthMismatch(declared: 0, actual: 0), .corrupt(""), .trailingBytes(0),
        ]
        var counters: [String: Counter] = [:]
        for reason in reasons.map(\.reason) {
            counters[reason] = Counter(
                label: "combo_redis_decompression_failures_total",
                dimensions: [("pubsub", pubSubName), ("reason", reason)],
                factory: factory
            )
        }
        self.counters = counters
        self.logger = logger
    }

    /// Counts `error`, and logs it if its occurrence count is a power of two.
    func record(_ error: CompressedEnvelopeError) {
        let reason = error.reason
        counters[reason]?.increment()
        let count = occurrences.withLock { counts in
            counts[reason, default: 0] += 1
            return counts[reason]!
        }
        if count & (count - 1) == 0 {
            logger.warning(
                "rejected a compressed envelope",
                metadata: ["reason": "\(error)", "occurrences": "\(count)"]
            )
        }
    }
}
