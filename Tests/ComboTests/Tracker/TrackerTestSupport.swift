@testable import Combo
import NIOCore
import Testing

/// Builders shared by the tracker state tests.
enum TrackerFixture {
    /// A node identity; incarnation 1 unless told otherwise.
    static func node(_ name: String, _ incarnation: UInt64 = 1) -> NodeIdentity {
        NodeIdentity(name: NodeName(stringLiteral: name), incarnation: Incarnation(rawValue: incarnation))
    }

    /// An owner living on `node`.
    static func owner(_ node: NodeIdentity, _ sequence: UInt64) -> PresenceOwnerID {
        PresenceOwnerID(node: node, sequence: sequence)
    }

    /// Metadata with reference `ref` and `values`.
    static func meta(_ ref: UInt64, _ values: [String: PresenceValue] = [:], previous: UInt64? = nil) -> PresenceMeta {
        PresenceMeta(ref: PresenceRef(rawValue: ref), previousRef: previous.map(PresenceRef.init(rawValue:)), values: values)
    }

    /// States for `names` that all know each other, as after every replica came up.
    static func connected(_ names: [String]) -> [TrackerState] {
        let identities = names.map { node($0) }
        return identities.map { identity in
            var state = TrackerState(replica: identity)
            for other in identities where other != identity { state.replicaUp(other) }
            return state
        }
    }

    /// Encodes a payload and decodes it again, as the network would carry it.
    static func roundTrip(_ payload: TrackerPayload) throws -> TrackerPayload {
        var buffer = ByteBuffer()
        buffer.writeTrackerPayload(payload)
        let decoded = try buffer.readTrackerPayload()
        precondition(buffer.readableBytes == 0)
        return decoded
    }
}

extension TrackerState {
    /// Tracks `key` on `topic` for owner `sequence` of this replica; a test helper that ignores errors.
    @discardableResult
    mutating func track(_ sequence: UInt64, _ topic: String, _ key: String, _ values: [String: PresenceValue] = [:])
        -> PresenceRecord?
    {
        try? join(
            owner: TrackerFixture.owner(replica, sequence), topic: topic, key: key,
            meta: TrackerFixture.meta(sequence &* 1_000 &+ UInt64(count), values)
        )
    }

    /// Stops tracking `key` on `topic` for owner `sequence` of this replica.
    @discardableResult
    mutating func untrack(_ sequence: UInt64, _ topic: String, _ key: String) -> PresenceRecord? {
        leave(owner: TrackerFixture.owner(replica, sequence), topic: topic, key: key)
    }

    /// Takes the pending delta, failing the test when there is none.
    mutating func takeRequiredDelta(sourceLocation: SourceLocation = #_sourceLocation) throws -> TrackerDelta {
        let delta = takeDelta()
        return try #require(delta, sourceLocation: sourceLocation)
    }

    /// What `remote` gets when it asks this replica for its state.
    func transfer(for remote: TrackerState) -> TrackerTransfer {
        extract(for: remote.replica, remoteContext: remote.context)
    }

    /// The sorted keys of the presences of up replicas.
    var onlineKeys: [String] { onlineRecords().map(\.key).sorted() }
}

extension Array where Element == PresenceRecord {
    /// The sorted keys of the records.
    var keys: [String] { map(\.key).sorted() }
}
