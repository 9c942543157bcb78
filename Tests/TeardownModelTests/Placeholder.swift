import Testing
@Test func placeholder_TeardownModelTests() { #expect(1 + 1 == 2) }
