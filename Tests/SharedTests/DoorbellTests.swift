import Storage
import Testing

/// The outbox relay's doorbell: a ring wakes a waiting relay, a ring while it is busy is kept
/// for its next wait (no wake-up lost), and with no ring the wait ends at its time-out. Times are
/// generous: only "at once" against "after the time-out" is asserted.
@Suite struct DoorbellTests {
    @Test func aRingWhileNoOneWaitsIsKeptForTheNextWaitOnly() async {
        let bell = Doorbell()
        bell.ring()
        bell.ring()
        let clock = ContinuousClock()
        let kept = await clock.measure { await bell.wait(upTo: .seconds(20)) }
        #expect(kept < .seconds(10), "the ring before the wait ends it at once")
        let next = await clock.measure { await bell.wait(upTo: .milliseconds(300)) }
        #expect(next >= .milliseconds(300), "two rings before a wait count once; the next wait times out")
    }

    @Test func aRingWakesAWaitingRelay() async {
        let bell = Doorbell()
        let clock = ContinuousClock()
        async let waited = clock.measure { await bell.wait(upTo: .seconds(30)) }
        try? await Task.sleep(for: .milliseconds(200))
        bell.ring()
        #expect(await waited < .seconds(20), "woken by the ring, not the time-out")
    }

    @Test func aCancelledWaitReturnsAndLeavesNoRingBehind() async {
        let bell = Doorbell()
        let waiting = Task { await bell.wait(upTo: .seconds(30)) }
        try? await Task.sleep(for: .milliseconds(100))
        waiting.cancel()
        await waiting.value
        let clock = ContinuousClock()
        #expect(await clock.measure { await bell.wait(upTo: .milliseconds(200)) } >= .milliseconds(200))
    }
}
