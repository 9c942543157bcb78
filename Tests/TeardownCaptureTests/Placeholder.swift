import Testing
@Test func placeholder_TeardownCaptureTests() { #expect(1 + 1 == 2) }
