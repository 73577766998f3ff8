import Foundation

/// Writes one line to standard output at once, so a script reading through a
/// pipe sees each line as soon as it happens.
///
/// A direct `write` of the whole line rather than `print` plus a flush:
/// flushing every C stream would wait for the lock that the standard-input
/// reader holds while it blocks in `readLine()`.
enum LineOutput {
    static func emit(_ line: String) {
        do {
            try FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8))
        } catch {
            // Whoever read the output is gone (a closed pipe): nobody is left
            // to drive or watch this node, so it ends quietly rather than trap.
            exit(0)
        }
    }
}
