/// A coding key used to report coding paths (map keys, array indices and `super`).
struct MessagePackCodingKey: CodingKey, Sendable {
    let stringValue: String
    let intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }

    static let `super` = MessagePackCodingKey(stringValue: "super")

    /// Renders a coding path as text, for example `items[2].name`.
    ///
    /// Keys created for array positions (see `init(intValue:)` of this type) are rendered as
    /// `[index]`; every other key by its string value.
    static func render(_ path: [any CodingKey]) -> String {
        var result = ""
        for key in path {
            if let key = key as? MessagePackCodingKey, let index = key.intValue {
                result += "[\(index)]"
            } else {
                if !result.isEmpty { result += "." }
                result += key.stringValue
            }
        }
        return result
    }
}
