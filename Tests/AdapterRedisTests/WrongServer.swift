/// A test server could not serve its port: another process holds it.
struct WrongServer: Error, CustomStringConvertible {
    let port: Int
    var description: String { "another process holds port \(port)" }
}
