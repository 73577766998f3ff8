import Testing
@testable import Combo

@Suite("Read index topic table")
struct TopicPresencesTests {
    struct Key: Hashable {
        let incarnation: UInt64
        let sequence: UInt64
        let key: String
    }

    @Test("random inserts, replacements and removals agree with a dictionary", arguments: [1, 2, 3])
    func matchesModel(seed: UInt64) {
        var generator = SplitMix(seed: seed)
        var table = TopicPresences()
        var model: [Key: PresenceMeta] = [:]
        for step in 0..<20_000 {
            let key = Key(
                incarnation: generator.next() % 3, sequence: generator.next() % 40, key: "k\(generator.next() % 25)")
            // Grow for a while, then shrink, so both resizes are exercised.
            let removing = step % 5000 < 2500 ? generator.next() % 3 == 0 : generator.next() % 3 != 0
            if removing {
                let ref = model[key]?.ref.rawValue ?? generator.next()
                let removed = table.remove(incarnation: key.incarnation, sequence: key.sequence, key: key.key, ref: ref)
                let expected = model[key] != nil
                #expect(removed == expected)
                model[key] = nil
            } else {
                let previous = generator.next() % 2 == 0 ? nil : PresenceRef(rawValue: generator.next())
                let meta = PresenceMeta(ref: PresenceRef(rawValue: generator.next()), previousRef: previous, values: ["s": .int(Int64(step))])
                table.upsert(incarnation: key.incarnation, sequence: key.sequence, key: key.key, meta: meta)
                model[key] = meta
            }
            if step % 997 == 0 {
                let contents = Dictionary(uniqueKeysWithValues: table.entries.map {
                    (Key(incarnation: $0.incarnation, sequence: $0.sequence, key: $0.key), $0.meta)
                })
                #expect(contents == model, "after step \(step)")
            }
        }
        #expect(table.count == model.count)
    }

    @Test("a removal with a stale reference leaves the newer presence in place")
    func staleRemoval() {
        var table = TopicPresences()
        let first = PresenceMeta(ref: PresenceRef(rawValue: 1))
        let second = PresenceMeta(ref: PresenceRef(rawValue: 2), previousRef: PresenceRef(rawValue: 1))
        table.upsert(incarnation: 7, sequence: 1, key: "a", meta: first)
        table.upsert(incarnation: 7, sequence: 1, key: "a", meta: second)
        let staleRemoved = table.remove(incarnation: 7, sequence: 1, key: "a", ref: 1)
        #expect(!staleRemoved)
        #expect(table.entries.map(\.meta) == [second])
        let removed = table.remove(incarnation: 7, sequence: 1, key: "a", ref: 2)
        #expect(removed)
        #expect(table.isEmpty)
    }
}
