import Foundation
import Testing
import TeardownCaptureFile
import TeardownTestSupport

/// The compressed captures in captures/files/ (made by tools/captures/files.py with gzip, zstd
/// and lz4) decompressed by teardown's readers, whole, cut short and damaged.
@Suite struct DecompressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: root.appendingPathComponent(path)))
    }

    static let source = "captures/real/many-connections.pcap"
    static let compressed: [(String, Compression)] = [
        ("captures/files/many-connections.pcap.gz", .gzip),
        ("captures/files/many-connections.pcap.zst", .zstd),
        ("captures/files/many-connections.pcap.lz4", .lz4),
    ]

    /// All of `bytes` decompressed (by content), read `chunk` bytes at a time, and the error
    /// that ended it, if any.
    static func decompress(_ bytes: [UInt8], chunk: Int = 1 << 16) -> (output: [UInt8], error: CaptureFileError?) {
        var out: [UInt8] = []
        do {
            guard case .compressed(let c) = CaptureFormat(magic: bytes) else { return ([], nil) }
            let input = try c.decompressing(MemoryInput(bytes, chunk: 4096))
            var buffer = [UInt8](repeating: 0, count: chunk)
            while true {
                let n = try buffer.withUnsafeMutableBytes { try input.read(into: $0) }
                if n == 0 { break }
                out += buffer[..<n]
            }
            return (out, nil)
        } catch let e as CaptureFileError {
            return (out, e)
        } catch {
            Issue.record("unexpected error type: \(error)")
            return (out, nil)
        }
    }

    @Test func formatsAreToldByContent() throws {
        for (path, c) in DecompressionTests.compressed {
            #expect(CaptureFormat(magic: try DecompressionTests.bytes(path)) == .compressed(c))
        }
        #expect(CaptureFormat(magic: try DecompressionTests.bytes(DecompressionTests.source)) == .other)
        #expect(CaptureFormat(magic: try DecompressionTests.bytes("captures/fixtures/graceful-client-close.pcapng")) == .pcapng)
        #expect(CaptureFormat(magic: [0x1F, 0x8B]) == .other)   // too short to be sure
    }

    @Test(arguments: compressed.map(\.0))
    func wholeFile_decompressesToTheRecording(_ path: String) throws {
        let original = try DecompressionTests.bytes(DecompressionTests.source)
        let bytes = try DecompressionTests.bytes(path)
        for chunk in [1, 1000, 1 << 20] {
            let (output, error) = DecompressionTests.decompress(bytes, chunk: chunk)
            #expect(error == nil && output == original, "\(path), chunk \(chunk): \(String(describing: error))")
        }
    }

    /// Cut anywhere: what comes out is the start of the recording, and the end is an error
    /// saying the data ends early (never a clean end, never a trap).
    @Test(arguments: compressed.map(\.0))
    func cutShort_givesTheStart_thenSaysSo(_ path: String) throws {
        let original = try DecompressionTests.bytes(DecompressionTests.source)
        let bytes = try DecompressionTests.bytes(path)
        var cuts = Array(4..<min(bytes.count, 300))
        cuts += stride(from: 300, to: bytes.count, by: 29)
        var sawOutput = false
        for n in cuts {
            let (output, error) = DecompressionTests.decompress(Array(bytes.prefix(n)))
            #expect(Array(original.prefix(output.count)) == output, "\(path) cut at \(n)")
            #expect(error?.kind == .cut, "\(path) cut at \(n): \(String(describing: error))")
            #expect(error?.message.contains("data ends early") == true)
            if output.count > 1000 { sawOutput = true }
        }
        // zstd -19 writes the whole recording as one block: nothing comes out of a cut one.
        #expect(sawOutput || path.hasSuffix(".zst"))
    }

    /// Damage: single bit flips everywhere in a file's first 2 kB and random bytes elsewhere.
    /// A clean error or bytes, never a trap; checksums catch what decoding did not.
    @Test(arguments: compressed.map(\.0))
    func damaged_neverTraps_andIsCaught(_ path: String) throws {
        let original = try DecompressionTests.bytes(DecompressionTests.source)
        let bytes = try DecompressionTests.bytes(path)
        var rng = SplitMix64(state: 0x13)
        var caught = 0, trials = 0
        // gzip's MTIME, XFL and OS (bytes 4-9) say nothing of the content: damage there reads fine.
        let first = path.hasSuffix(".gz") ? 10 : 4
        var positions = Array(first..<min(bytes.count, 2048)).map { ($0, UInt8(1) << UInt8($0 % 8)) }
        for _ in 0..<300 { positions.append((Int.random(in: first..<bytes.count, using: &rng), UInt8.random(in: 1...255, using: &rng))) }
        for (i, mask) in positions {
            var b = bytes
            b[i] ^= mask
            let (output, error) = DecompressionTests.decompress(b)
            trials += 1
            if error != nil || output != original { caught += 1 }
            if let error { #expect(error.kind == .corrupt || error.kind == .cut, "\(path) byte \(i): \(error)") }
        }
        // Checksums (gzip's CRC-32, zstd's and LZ4's content checksums, written by default)
        // catch damage to the content; a few flipped header bits change nothing in it (a flag
        // for an optional field, gzip's FLG.FTEXT) and rightly read as the original.
        #expect(trials - caught <= 5, "\(path): \(trials - caught) of \(trials) damaged files read as the original")
    }

    @Test func concatenatedMembers_andFrames_readOneAfterAnother() throws {
        let original = try DecompressionTests.bytes(DecompressionTests.source)
        for (path, _) in DecompressionTests.compressed {
            let bytes = try DecompressionTests.bytes(path)
            let (output, error) = DecompressionTests.decompress(bytes + bytes)
            #expect(error == nil && output == original + original, "\(path) twice")
        }
    }

    @Test func emptyAndGarbage_afterTheMagic() {
        for magic: [UInt8] in [[0x1F, 0x8B, 0x08, 0], [0x28, 0xB5, 0x2F, 0xFD], [0x04, 0x22, 0x4D, 0x18]] {
            let (output, error) = DecompressionTests.decompress(magic)
            #expect(output.isEmpty && error != nil)
            var rng = SplitMix64(state: UInt64(magic[0]))
            for _ in 0..<200 {
                let junk = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                _ = DecompressionTests.decompress(magic + junk)
            }
        }
    }
}
