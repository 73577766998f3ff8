/// Follows the sequence numbers of the senders a node hears from, on the
/// subscriber thread (not `Sendable`: it belongs to that thread).
///
/// Each sender numbers its broadcasts, and its direct messages to each node,
/// from 1. A number past the next expected one means messages were lost on
/// the way (a high-water mark dropped them, a connection was lost); a number
/// below it means a message arrived twice, which happens only when a node is
/// connected to one sender twice (two spellings of one endpoint), and is
/// dropped to keep delivery at most once. A stream that starts again at 1 was
/// restarted by its sender.
struct ZMQSequenceTracker {
    enum Observation: Equatable {
        /// The message to deliver; `lost` messages before it never arrived.
        case deliver(lost: Int)
        /// A message seen before: drop it.
        case duplicate
    }

    private struct Sender {
        var name: [UInt8]
        var incarnation: UInt64
        var nextBroadcast: UInt64 = 0
        var nextDirect: UInt64 = 0
    }

    /// The most senders remembered; the oldest is forgotten beyond it.
    static let maximumSenders = 4096

    private var senders: [Sender] = []
    private var last = 0

    mutating func observe(name: UnsafeRawBufferPointer, incarnation: UInt64, sequence: UInt64, broadcast: Bool) -> Observation {
        guard sequence != 0 else { return .deliver(lost: 0) }
        let index = find(name: name, incarnation: incarnation)
        let expected = broadcast ? senders[index].nextBroadcast : senders[index].nextDirect
        let observation: Observation
        if expected == 0 || sequence == 1 || sequence == expected {
            observation = .deliver(lost: 0)
        } else if sequence > expected {
            observation = .deliver(lost: Int(clamping: sequence - expected))
        } else {
            return .duplicate
        }
        if broadcast {
            senders[index].nextBroadcast = sequence &+ 1
        } else {
            senders[index].nextDirect = sequence &+ 1
        }
        return observation
    }

    /// The index of the sender's entry, made (or reset, for a new incarnation) if needed.
    private mutating func find(name: UnsafeRawBufferPointer, incarnation: UInt64) -> Int {
        if last < senders.count, Self.same(senders[last].name, name) {
            if senders[last].incarnation != incarnation {
                senders[last] = Sender(name: senders[last].name, incarnation: incarnation)
            }
            return last
        }
        if let index = senders.firstIndex(where: { Self.same($0.name, name) }) {
            if senders[index].incarnation != incarnation {
                senders[index] = Sender(name: senders[index].name, incarnation: incarnation)
            }
            last = index
            return index
        }
        if senders.count >= Self.maximumSenders { senders.removeFirst() }
        senders.append(Sender(name: Array(name), incarnation: incarnation))
        last = senders.count - 1
        return last
    }

    private static func same(_ stored: [UInt8], _ name: UnsafeRawBufferPointer) -> Bool {
        stored.count == name.count && stored.withUnsafeBytes { memcmp($0.baseAddress!, name.baseAddress!, name.count) == 0 }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
