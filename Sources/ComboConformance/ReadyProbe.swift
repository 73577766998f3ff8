/// The message of ``ClusterFixture/awaitConnected(_:)``.
struct ReadyProbe: Codable, Sendable {
    let node: String
}
