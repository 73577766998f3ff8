import AdapterMesh
import Combo
import ComboConformance
import Synchronization
import Testing

/// One scenario's cluster: remembers where each node listens, so that every
/// node after the first gets the first as its seed.
final class MeshTransport: ConformanceTransport, Sendable {
    private struct Book {
        var seed: NodeName?
        var addresses: [NodeName: MeshAddress] = [:]
    }

    private let book = Mutex(Book())

    func adapter(for name: NodeName) async throws -> any AdapterFactory {
        let seedName: NodeName = book.withLock { book in
            if book.seed == nil { book.seed = name }
            book.addresses[name] = nil
            return book.seed!
        }
        var seeds: [MeshAddress] = []
        if seedName == name {
            // A restarted seed joins through every node still known.
            seeds = book.withLock { Array($0.addresses.values) }
        } else {
            let found = await MeshTestSupport.eventually {
                self.book.withLock { $0.addresses[seedName] != nil }
            }
            try #require(found, "the seed \(seedName) never listened")
            seeds = book.withLock { $0.addresses[seedName].map { [$0] } ?? [] }
        }
        // A liveness timeout that a busy 2-core machine cannot trip while the
        // scenarios push thousands of messages; departures are seen by the
        // connection closing, not by silence.
        return MeshTestSupport.mesh(name, seeds: seeds, heartbeatInterval: .milliseconds(250), livenessTimeout: .seconds(3)) { [self] address in
            self.book.withLock { $0.addresses[name] = address }
        }
    }
}
