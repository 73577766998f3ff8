/// One line of a benchmark's report.
struct BenchResult: Codable, Sendable {
    let name: String
    let value: Double
    let unit: String
    var detail: String = ""
}
