import AdapterRedis
import Testing

@Suite("hiredis linkage")
struct LibHiredisTests {
    @Test("compiled against hiredis 0.14 or later")
    func compiledVersion() {
        let version = LibHiredis.version
        #expect(version.major > 0 || version.minor >= 14)
    }

    @Test("parses RESP replies with the linked reader")
    func parsesReplies() {
        #expect(LibHiredis.parseStringReply(Array("+PONG\r\n".utf8)) == "PONG")
        #expect(LibHiredis.parseStringReply(Array("$5\r\nhello\r\n".utf8)) == "hello")
        #expect(LibHiredis.parseStringReply(Array("$5\r\nhel".utf8)) == nil)
        #expect(LibHiredis.parseStringReply(Array(":42\r\n".utf8)) == nil)
    }
}
