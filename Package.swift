// swift-tools-version:6.0
// teardown: a packet-level TCP teardown tracer. See README.md and DESIGN notes in the repo.
import PackageDescription

let v5: [SwiftSetting] = [.swiftLanguageMode(.v5)]

let package = Package(
    name: "teardown",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "teardown", targets: ["teardown"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // libpcap, found with pkg-config (Debian: libpcap-dev).
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap",
                       providers: [.apt(["libpcap-dev"]), .brew(["libpcap"])]),
        // Link layer -> IPv4/IPv6 -> TCP, from raw bytes. Pure: no I/O, no Foundation.
        .target(name: "TeardownWire", swiftSettings: v5),
        // The kernel's account: tracefs format files and raw trace records of the tracepoints for how
        // connections end (tcp_send_reset, inet_sock_set_state ...). Pure: no I/O, no Foundation.
        .target(name: "TeardownKernel", dependencies: ["TeardownWire"], swiftSettings: v5),
        // The speed machinery: flow table, slot storage, prefetching, packet batches. The only
        // target that links the C module CPrefetch; Model's rules run through it unchanged.
        .target(name: "CPrefetch"),
        .target(name: "TeardownSpeed", dependencies: ["TeardownWire", "CPrefetch"], swiftSettings: v5),
        // Connection table, RFC 9293 state inference, teardown classification, byte ledger.
        // Kernel events are joined to connections here (typed values, as TeardownKernel decodes them).
        .target(name: "TeardownModel", dependencies: ["TeardownKernel", "TeardownWire", "TeardownSpeed"], swiftSettings: v5),
        // strace's output read into the socket calls of any program (`teardown trace`). Pure: no I/O.
        .target(name: "TeardownStrace", dependencies: ["TeardownModel", "TeardownWire"], swiftSettings: v5),
        // Timeline text, JSON Lines, summaries: pure functions of Model output.
        .target(name: "TeardownRender", dependencies: ["TeardownKernel", "TeardownModel", "TeardownWire"], swiftSettings: v5),
        // zlib, libzstd and liblz4, found with pkg-config (Debian: zlib1g-dev, libzstd-dev,
        // liblz4-dev): compressed captures.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"]), .brew(["zstd"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"]), .brew(["lz4"])]),
        // Capture files read by teardown itself: recognised by content, decompressed, pcapng
        // read block by block. No libpcap, so the fuzz target builds it.
        .target(name: "TeardownCaptureFile", dependencies: ["CZlib", "CZstd", "CLZ4", "TeardownWire"], swiftSettings: v5),
        // A stdio stream whose bytes teardown produces (fopencookie), for libpcap to read.
        .target(name: "CCaptureStream"),
        // The only module that touches libpcap; also the tracefs session that records the kernel's events.
        .target(name: "TeardownCapture", dependencies: ["CPcap", "CCaptureStream", "CTeardownSys", "TeardownCaptureFile", "TeardownKernel", "TeardownWire"],
                swiftSettings: v5),
        // The namespace calls of the bundled experiments, and the child that removes live's tracefs instance.
        .target(name: "CTeardownSys"),
        // One reader -> tracker -> printer pipeline that replay, live and run feed; its threads,
        // the sidecar format (NAME.events.jsonl), the output writer.
        .target(name: "TeardownPipeline",
                dependencies: ["TeardownCapture", "TeardownKernel", "TeardownModel", "TeardownRender", "TeardownSpeed", "TeardownWire"],
                swiftSettings: v5),
        .target(name: "TeardownDriver",
                dependencies: ["CTeardownSys", "TeardownCapture", "TeardownKernel", "TeardownModel", "TeardownPipeline", "TeardownRender",
                               "TeardownStrace", "TeardownWire"],
                swiftSettings: v5),
        // Parses arguments and calls the pipeline: one file per subcommand.
        .executableTarget(name: "teardown", dependencies: [
            "TeardownCapture", "TeardownDriver", "TeardownModel", "TeardownPipeline", "TeardownRender",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: v5),

        // Helpers shared by the test targets (a seeded generator).
        .target(name: "TeardownTestSupport", path: "Tests/TeardownTestSupport", swiftSettings: v5),
        .testTarget(name: "TeardownWireTests", dependencies: ["TeardownWire", "TeardownTestSupport"], swiftSettings: v5),
        // Fixtures/ holds this machine's format files and hand-edited older layouts, read from the
        // source tree (#filePath).
        .testTarget(name: "TeardownKernelTests", dependencies: ["TeardownKernel", "TeardownWire"],
                    exclude: ["Fixtures"], swiftSettings: v5),
        // The flow table is checked against Dictionary with the tracker's own flow key.
        .testTarget(name: "TeardownSpeedTests", dependencies: ["TeardownSpeed", "TeardownModel", "TeardownWire", "TeardownTestSupport"],
                    swiftSettings: v5),
        .testTarget(name: "TeardownModelTests", dependencies: ["TeardownModel", "TeardownKernel", "TeardownWire", "TeardownTestSupport"],
                    swiftSettings: v5),
        // Goldens/ is read from the source tree (#filePath), not bundled as a resource.
        .testTarget(name: "TeardownRenderTests",
                    dependencies: ["TeardownRender", "TeardownKernel", "TeardownModel", "TeardownWire", "TeardownTestSupport"],
                    exclude: ["Goldens"], swiftSettings: v5),
        // Fixtures/ holds real strace output, read from the source tree (#filePath) and by scripts/fuzz-corpus.py.
        .testTarget(name: "TeardownStraceTests", dependencies: ["TeardownStrace", "TeardownModel", "TeardownWire"],
                    exclude: ["Fixtures"], swiftSettings: v5),
        .testTarget(name: "TeardownCaptureTests", dependencies: ["TeardownCapture", "TeardownKernel", "TeardownWire"], swiftSettings: v5),
        .testTarget(name: "TeardownCaptureFileTests", dependencies: ["TeardownCaptureFile", "TeardownWire", "TeardownTestSupport"],
                    swiftSettings: v5),
        .testTarget(name: "TeardownPipelineTests",
                    dependencies: ["TeardownPipeline", "TeardownCapture", "TeardownKernel", "TeardownModel", "TeardownSpeed", "TeardownWire"],
                    swiftSettings: v5),
        .testTarget(name: "TeardownDriverTests",
                    dependencies: ["TeardownDriver", "TeardownKernel", "TeardownModel", "TeardownPipeline", "TeardownRender", "TeardownTestSupport", "TeardownWire"], swiftSettings: v5),
        .testTarget(name: "TeardownCLITests", dependencies: ["teardown", "TeardownTestSupport", "CTeardownSys"], swiftSettings: v5),
    ]
)
