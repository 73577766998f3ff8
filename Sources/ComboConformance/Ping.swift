/// The ordinary message of the suite's scenarios.
struct Ping: Codable, Sendable, Hashable {
    let sequence: Int
    let text: String

    init(_ sequence: Int, _ text: String = "ping") {
        self.sequence = sequence
        self.text = text
    }
}
