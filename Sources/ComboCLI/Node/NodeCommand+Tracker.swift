import ArgumentParser
import Combo
import Logging
import Metrics

/// The presence half of `combo node`: one owner per process, whose presences
/// leave with the process, and a line per presence change on any node.
extension NodeCommand {
    func makeTracker(pubsub: PubSub, logger: Logger, metricsFactory: any MetricsFactory) throws -> Tracker {
        guard trackerBroadcastPeriod > 0 else { throw ValidationError("--tracker-broadcast-period must be positive") }
        let configuration = Tracker.Configuration(
            name: "combo", broadcastPeriod: .milliseconds(trackerBroadcastPeriod),
            downPeriod: trackerDownPeriod.map { .milliseconds($0) }, permdownOnShutdown: trackerPermdownOnShutdown)
        do {
            return try Tracker(configuration: configuration, pubsub: pubsub, logger: logger, metricsFactory: metricsFactory)
        } catch {
            throw ValidationError("tracker options: \(error)")
        }
    }

    static func printPresenceEvents(of tracker: Tracker) async throws {
        for try await event in tracker.events() {
            guard case .diff(let diff) = event else { continue }
            for (topic, changes) in diff.topics.sorted(by: { $0.key < $1.key }) {
                for presence in changes.leaves { LineOutput.emit("leave \(topic) \(line(for: presence))") }
                for presence in changes.joins { LineOutput.emit("join \(topic) \(line(for: presence))") }
            }
        }
    }

    private static func line(for presence: Presence) -> String {
        var text = "\(presence.key) \(presence.owner.node.name)"
        if case .string(let status) = presence.meta.values["status"] { text += " \(status)" }
        return text
    }

    static func perform(_ instruction: NodeInstruction, owner: PresenceOwner) throws {
        switch instruction {
        case .track(let topic, let key, let status):
            try owner.track(topic: topic, key: key, values: status.map { ["status": .string($0)] } ?? [:])
            LineOutput.emit("ok track \(topic) \(key)")
        case .untrack(let topic, let key):
            owner.untrack(topic: topic, key: key)
            LineOutput.emit("ok untrack \(topic) \(key)")
        case .list(let topic):
            let entries = owner.tracker.list(topic).map { "\($0.key)@\($0.owner.node.name)" }.sorted()
            LineOutput.emit("list \(topic) \(entries.joined(separator: ","))".trimmingSuffixSpace())
        default:
            break
        }
    }
}

extension String {
    fileprivate func trimmingSuffixSpace() -> String {
        hasSuffix(" ") ? String(dropLast()) : self
    }
}
