import Combo

/// What both socket threads of one run need to know.
struct ZMQRunSettings: Sendable {
    let node: NodeIdentity
    let topics: ZMQTopics
    let topology: ZMQTopology
    let options: ZMQSocketOptions

    /// The peers configured from the start (peer topology), in the given spelling.
    var staticPeers: [String] {
        if case .peers(_, _, let peers) = topology { return peers }
        return []
    }

    var isForwarder: Bool {
        if case .forwarder = topology { return true }
        return false
    }
}
