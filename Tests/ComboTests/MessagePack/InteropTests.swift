import Foundation
@testable import Combo
import NIOCore
import Testing
import ComboChildProcess

/// Interoperability with Python's reference `msgpack` package, run through `python3`.
@Suite("Interoperability with Python msgpack")
struct InteropTests {
    /// Runs `python3 -c script` with `input` on its standard input and returns its standard output,
    /// or nil if it could not run or failed.
    static func runPython(_ script: String, input: [UInt8] = []) -> [UInt8]? {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
            // The scripts read all of their input before writing, so this cannot deadlock.
            try stdin.fileHandleForWriting.write(contentsOf: input)
            try stdin.fileHandleForWriting.close()
        } catch {
            return nil
        }
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return [UInt8](data)
    }

    static let pythonMsgpackAvailable = runPython("import msgpack") != nil

    /// What Python sends.
    struct FromPython: Decodable, Equatable {
        struct Address: Decodable, Equatable {
            var street: String
            var zip: Int
            var tags: [String]
        }

        var id: Int
        var name: String
        var score: Double
        var ratio: Double
        var active: Bool
        var missing: String?
        var integers: [Int64]
        var huge: UInt64
        var blob: [UInt8]
        var nested: Address
        var byId: [Int: String]
        var matrix: [[Int]]
        var long: String
        var bigList: [Int]
        var bigMap: [String: Int]
    }

    static let pythonPacker = """
        import msgpack, sys
        data = {
            "id": 42,
            "name": "h\\u00e9llo w\\u00f6rld \\U0001F44B",
            "score": 1.5,
            "ratio": float("-inf"),
            "active": True,
            "missing": None,
            "integers": [0, 1, -1, 127, 128, -32, -33, 255, 256, 65535, 65536, -32768, -32769,
                         2**32, -(2**31) - 1, 2**63 - 1, -(2**63)],
            "huge": 2**64 - 1,
            "blob": b"\\x00\\x01\\xfe\\xff",
            "nested": {"street": "Main", "zip": 12345, "tags": ["a", "b"]},
            "byId": {1: "one", 2: "two", -3: "minus three"},
            "matrix": [[1, 2], [], [3]],
            "long": "x" * 70000,
            "bigList": list(range(70000)),
            "bigMap": {str(i): i for i in range(20)},
        }
        sys.stdout.buffer.write(msgpack.packb(data, use_bin_type=True))
        """

    @Test(
        "Swift decodes what Python's msgpack packs",
        .enabled(if: pythonMsgpackAvailable, "python3 with the msgpack package is not available (pip install msgpack)")
    )
    func decodesPython() throws {
        let output = try #require(Self.runPython(Self.pythonPacker))
        let value = try decoded(FromPython.self, from: output)
        #expect(value.id == 42)
        #expect(value.name == "héllo wörld 👋")
        #expect(value.score == 1.5)
        #expect(value.ratio == -.infinity)
        #expect(value.active)
        #expect(value.missing == nil)
        #expect(
            value.integers == [
                0, 1, -1, 127, 128, -32, -33, 255, 256, 65535, 65536, -32768, -32769,
                4_294_967_296, -2_147_483_649, .max, .min,
            ]
        )
        #expect(value.huge == .max)
        #expect(value.blob == [0x00, 0x01, 0xfe, 0xff])
        #expect(value.nested == .init(street: "Main", zip: 12345, tags: ["a", "b"]))
        #expect(value.byId == [1: "one", 2: "two", -3: "minus three"])
        #expect(value.matrix == [[1, 2], [], [3]])
        #expect(value.long == String(repeating: "x", count: 70000))
        #expect(value.bigList == Array(0..<70000))
        #expect(value.bigMap == Dictionary(uniqueKeysWithValues: (0..<20).map { (String($0), $0) }))
    }

    /// What Swift sends.
    struct ToPython: Encodable {
        var id = 7
        var name = "Grüße 🌍"
        var score = 0.25
        var single: Float = 1.5
        var active = false
        var nothing: Int? = nil
        var explicitNil: [Int?] = [nil, 1]
        var integers: [Int64] = [0, 127, 128, -32, -33, 65536, -32769, .max, .min]
        var huge: UInt64 = .max
        var blob: [UInt8] = [0, 255]
        var byId: [Int: String] = [5: "five"]
        var shape: Shape = .rectangle(width: 2, height: 3)
        var wide = Wide()
        var bigList = Array(0..<70000)
        var long = String(repeating: "y", count: 300)
    }

    static let pythonChecker = """
        import msgpack, sys
        value = msgpack.unpackb(sys.stdin.buffer.read(), raw=False)
        expected = {
            "id": 7,
            "name": "Gr\\u00fc\\u00dfe \\U0001F30D",
            "score": 0.25,
            "single": 1.5,
            "active": False,
            "explicitNil": [None, 1],
            "integers": [0, 127, 128, -32, -33, 65536, -32769, 2**63 - 1, -(2**63)],
            "huge": 2**64 - 1,
            "blob": b"\\x00\\xff",
            "byId": {"5": "five"},
            "shape": {"rectangle": {"width": 2.0, "height": 3.0}},
            "wide": {"f%02d" % i: i for i in range(1, 21)},
            "bigList": list(range(70000)),
            "long": "y" * 300,
        }
        if value == expected:
            print("ok")
        else:
            for key in expected:
                if value.get(key) != expected[key]:
                    print("mismatch", key, repr(value.get(key))[:200])
            print("keys", sorted(value.keys()))
        """

    @Test(
        "Python's msgpack unpacks what Swift encodes",
        .enabled(if: pythonMsgpackAvailable, "python3 with the msgpack package is not available (pip install msgpack)")
    )
    func pythonDecodesSwift() throws {
        let output = try #require(Self.runPython(Self.pythonChecker, input: try encodedBytes(ToPython())))
        #expect(String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
    }
}
