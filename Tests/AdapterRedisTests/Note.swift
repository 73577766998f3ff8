/// A value published by tests and by the Python script.
struct Note: Codable, Sendable, Equatable {
    let text: String
    let count: Int
}
