import Foundation

/// Prints benchmark results as an aligned table and as one JSON document.
enum BenchReport {
    static func print(title: String, results: [BenchResult]) {
        let nameWidth = max(4, results.map(\.name.count).max() ?? 0)
        Swift.print("\n\(title)")
        Swift.print(pad("case", nameWidth) + "  " + pad("value", 16, left: true) + "  unit            detail")
        Swift.print(String(repeating: "-", count: nameWidth + 60))
        for result in results {
            Swift.print(
                pad(result.name, nameWidth) + "  " + pad(format(result.value), 16, left: true) + "  "
                    + pad(result.unit, 14) + "  " + result.detail
            )
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        struct Document: Codable {
            let benchmark: String
            let results: [BenchResult]
        }
        if let data = try? encoder.encode(Document(benchmark: title, results: results)),
            let text = String(data: data, encoding: .utf8)
        {
            Swift.print("\nJSON: \(text)")
        }
    }

    private static func format(_ value: Double) -> String {
        if value >= 100 { return String(Int(value.rounded())).withThousandsSeparators }
        return String(format: "%.2f", value)
    }

    private static func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
        let padding = String(repeating: " ", count: max(0, width - text.count))
        return left ? padding + text : text + padding
    }
}

extension String {
    fileprivate var withThousandsSeparators: String {
        var result = ""
        for (index, character) in reversed().enumerated() {
            if index > 0 && index % 3 == 0 && character != "-" { result.append(",") }
            result.append(character)
        }
        return String(result.reversed())
    }
}
