import TeardownWire

/// One line of strace's output (`strace -f -yy --absolute-timestamps=unix,ns --syscall-times=ns`),
/// cut into its parts without judging what the call means (that is `StraceReader`'s job).
///
/// The forms strace(1) writes, each after `PID TIME `:
///
///     name(args) = result [ERRNO (message)] <duration>
///     name(args <unfinished ...>                      a call another thread interrupted in the output
///     <... name resumed>rest) = result <duration>       its second half
///     --- SIGPIPE {si_signo=SIGPIPE, ...} ---          a signal delivered
///     +++ exited with 0 +++ / +++ killed by SIGKILL +++  the end of a thread or process
///
/// Anything else (a line cut short, a message of strace's own, bytes that are not strace's) is
/// `nil`: nothing here can trap, whatever the bytes.
public enum StraceLine: Equatable, Sendable {
    case call(pid: Int32, time: Timestamp, text: Call)
    case unfinished(pid: Int32, time: Timestamp, name: String, head: [UInt8])
    case resumed(pid: Int32, time: Timestamp, name: String, tail: [UInt8])
    case signal(pid: Int32, time: Timestamp, name: String)
    case exited(pid: Int32, time: Timestamp, status: Int32)
    case killed(pid: Int32, time: Timestamp, signal: String)

    /// A complete call: its name, its arguments split at the top-level commas, and what it returned.
    public struct Call: Equatable, Sendable {
        public var name: String
        public var arguments: [String]
        /// The number strace printed after ` = `; nil for `?` (the call did not return: exit, a kill).
        public var result: Int64?
        /// The descriptor annotation of the result (`-yy`: `3<TCP:[...]>` gives `TCP:[...]`).
        public var resultAnnotation: String?
        /// The errno name after a failing result (`ECONNRESET`, `ERESTARTSYS`).
        public var errno: String?
        /// What `-T` printed: how long the call took, in nanoseconds.
        public var durationNanoseconds: Int64?
        /// The text after the arguments' closing parenthesis when the result is a list
        /// (`poll`'s `= 1 ([{fd=3, revents=POLLIN}])`).
        public var resultDetail: String?
    }

    /// Reads one line (without its newline).
    public static func parse<Bytes: Collection>(_ line: Bytes) -> StraceLine? where Bytes.Element == UInt8 {
        var s = Scanner(Array(line))
        // `PID ` (absent when strace traced one process without -f), then the time.
        var pid: Int32 = 0
        let first = s.word()
        let time: Timestamp
        if let t = parseTime(first) {
            time = t
        } else {
            guard let p = parseInt(first), let p32 = Int32(exactly: p) else { return nil }
            pid = p32
            s.skipSpaces()
            guard let t = parseTime(s.word()) else { return nil }
            time = t
        }
        s.skipSpaces()
        let rest = Array(s.bytes[s.at...])
        if rest.starts(with: Array("+++ ".utf8)) { return end(rest, pid: pid, time: time) }
        if rest.starts(with: Array("--- ".utf8)) {
            var t = Scanner(Array(rest.dropFirst(4)))
            let name = t.word()
            guard !name.isEmpty else { return nil }
            return .signal(pid: pid, time: time, name: String(decoding: name, as: UTF8.self))
        }
        if rest.starts(with: Array("<... ".utf8)) {
            var t = Scanner(Array(rest.dropFirst(5)))
            let name = t.word()
            guard t.consume(" resumed>") else { return nil }
            let tail = Array(t.bytes[t.at...])
            if tail.starts(with: Array(" <unfinished ...>".utf8)) { return nil }
            return .resumed(pid: pid, time: time, name: String(decoding: name, as: UTF8.self), tail: tail)
        }
        let marker = Array(" <unfinished ...>".utf8)
        if rest.count >= marker.count && rest.suffix(marker.count).elementsEqual(marker) {
            let head = Array(rest.dropLast(marker.count))
            guard let open = head.firstIndex(of: UInt8(ascii: "(")), open > 0 else { return nil }
            return .unfinished(pid: pid, time: time, name: String(decoding: head[..<open], as: UTF8.self), head: head)
        }
        guard let call = parseCall(rest) else { return nil }
        return .call(pid: pid, time: time, text: call)
    }

    /// `+++ exited with 3 +++`, `+++ killed by SIGKILL +++`, `+++ killed by SIGSEGV (core dumped) +++`.
    static func end(_ rest: [UInt8], pid: Int32, time: Timestamp) -> StraceLine? {
        var t = Scanner(Array(rest.dropFirst(4)))
        if t.consume("exited with ") {
            guard let n = parseInt(t.word()), let status = Int32(exactly: n) else { return nil }
            return .exited(pid: pid, time: time, status: status)
        }
        if t.consume("killed by ") {
            let name = t.word()
            guard !name.isEmpty else { return nil }
            return .killed(pid: pid, time: time, signal: String(decoding: name, as: UTF8.self))
        }
        return nil
    }

    /// `name(args) = result ...`: the arguments up to the parenthesis that closes the opening one
    /// (strings and nested brackets skipped), then the result.
    public static func parseCall(_ rest: [UInt8]) -> Call? {
        guard let open = rest.firstIndex(of: UInt8(ascii: "(")), open > 0 else { return nil }
        let name = rest[..<open]
        guard name.allSatisfy({ isWordByte($0) }) else { return nil }
        guard let (arguments, close) = splitArguments(rest, from: open + 1) else { return nil }
        var t = Scanner(Array(rest[(close + 1)...]))
        guard t.consume(" = ") else { return nil }
        var call = Call(name: String(decoding: name, as: UTF8.self), arguments: arguments)
        let value = t.resultWord()
        if value.first == UInt8(ascii: "?") {
            call.result = nil
        } else {
            var number = value[...]
            if let lt = value.firstIndex(of: UInt8(ascii: "<")) {
                number = value[..<lt]
                if value.last == UInt8(ascii: ">") && lt + 1 <= value.count - 1 {
                    call.resultAnnotation = String(decoding: value[(lt + 1)..<(value.count - 1)], as: UTF8.self)
                }
            }
            guard let n = parseInt(number) ?? parseHex(number) else { return nil }
            call.result = n
        }
        // Then, in any order strace uses: an errno name and its message, a detail in
        // parentheses, and the duration in angle brackets (last).
        while !t.atEnd {
            t.skipSpaces()
            guard let c = t.peek else { break }
            if c == UInt8(ascii: "<") {
                let inner = t.bracketed(open: UInt8(ascii: "<"), close: UInt8(ascii: ">"))
                if let d = parseTime(inner) { call.durationNanoseconds = d.nanoseconds }
            } else if c == UInt8(ascii: "(") {
                let inner = t.bracketed(open: UInt8(ascii: "("), close: UInt8(ascii: ")"))
                if call.errno == nil && call.resultDetail == nil { call.resultDetail = String(decoding: inner, as: UTF8.self) }
            } else if c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") {
                let w = t.word()
                if call.errno == nil { call.errno = String(decoding: w, as: UTF8.self) }
            } else {
                _ = t.word()
            }
        }
        return call
    }

    /// The arguments of a call from just after its `(`: split at top-level `, `, strings
    /// (with their escapes) and nested brackets kept whole. Returns them and the index of the
    /// closing parenthesis, or nil when the line ends first.
    static func splitArguments(_ b: [UInt8], from start: Int) -> ([String], Int)? {
        // The brackets open at this point, innermost last: a `>` closes only a `<`.
        var open: [UInt8] = []
        var i = start
        var argStart = start
        var out: [String] = []
        var inString = false
        while i < b.count {
            let c = b[i]
            if inString {
                if c == UInt8(ascii: "\\") { i += 2; continue }
                if c == UInt8(ascii: "\"") { inString = false }
            } else {
                switch c {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "("): open.append(UInt8(ascii: ")"))
                case UInt8(ascii: "["): open.append(UInt8(ascii: "]"))
                case UInt8(ascii: "{"): open.append(UInt8(ascii: "}"))
                case UInt8(ascii: "<"):
                    // A descriptor's annotation (`3<TCP:[a->b]>`) follows a digit; `[128 => 16]`
                    // and comparisons do not open anything.
                    if i > start && b[i - 1] >= UInt8(ascii: "0") && b[i - 1] <= UInt8(ascii: "9") { open.append(UInt8(ascii: ">")) }
                case UInt8(ascii: ">"), UInt8(ascii: "]"), UInt8(ascii: "}"):
                    if open.last == c { open.removeLast() }
                case UInt8(ascii: ")"):
                    if open.isEmpty {
                        let last = trimmed(b[argStart..<i])
                        if !last.isEmpty || !out.isEmpty { out.append(String(decoding: last, as: UTF8.self)) }
                        return (out, i)
                    }
                    if open.last == c { open.removeLast() }
                case UInt8(ascii: ","):
                    if open.isEmpty {
                        out.append(String(decoding: trimmed(b[argStart..<i]), as: UTF8.self))
                        argStart = i + 1
                    }
                default: break
                }
            }
            i += 1
        }
        return nil
    }

    static func trimmed(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = s
        while let f = s.first, f == 0x20 { s = s.dropFirst() }
        while let l = s.last, l == 0x20 { s = s.dropLast() }
        return s
    }

    static func isWordByte(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "_")
    }

    /// A decimal integer, optionally negative, that fits Int64.
    static func parseInt<S: Collection>(_ s: S) -> Int64? where S.Element == UInt8 {
        var negative = false
        var digits = s[...]
        if digits.first == UInt8(ascii: "-") { negative = true; digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.count <= 19 else { return nil }
        var v: Int64 = 0
        for c in digits {
            guard c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(c - UInt8(ascii: "0")))
            guard !o1 && !o2 else { return nil }
            v = a
        }
        return negative ? -v : v
    }

    /// `0x7f…` (mmap-like results); kept only when it fits Int64.
    static func parseHex<S: Collection>(_ s: S) -> Int64? where S.Element == UInt8 {
        guard s.starts(with: Array("0x".utf8)) else { return nil }
        let digits = s.dropFirst(2)
        guard !digits.isEmpty, digits.count <= 15 else { return nil }
        var v: Int64 = 0
        for c in digits {
            let d: Int64
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = Int64(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = Int64(c - UInt8(ascii: "a") + 10)
            default: return nil
            }
            v = v << 4 | d
        }
        return v
    }

    /// `1796522828.066272` or `…066272123`: seconds and a fraction of any precision up to
    /// nanoseconds, as a timestamp (also what `-T` prints).
    static func parseTime<S: Collection>(_ s: S) -> Timestamp? where S.Element == UInt8 {
        let a = Array(s)
        guard let dot = a.firstIndex(of: UInt8(ascii: ".")), dot > 0, dot < a.count - 1 else { return nil }
        guard let seconds = parseInt(a[..<dot]), seconds >= 0, seconds < 9_000_000_000 else { return nil }
        var fraction = a[(dot + 1)...]
        guard fraction.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        if fraction.count > 9 { fraction = fraction.prefix(9) }
        guard var ns = parseInt(fraction) else { return nil }
        for _ in fraction.count..<9 { ns *= 10 }
        return Timestamp(nanoseconds: seconds * 1_000_000_000 + ns)
    }

    /// A cursor over a line's bytes.
    struct Scanner {
        let bytes: [UInt8]
        var at = 0
        init(_ b: [UInt8]) { bytes = b }
        var atEnd: Bool { at >= bytes.count }
        var peek: UInt8? { at < bytes.count ? bytes[at] : nil }
        mutating func skipSpaces() { while at < bytes.count && bytes[at] == 0x20 { at += 1 } }
        /// Up to the next space or the end.
        mutating func word() -> ArraySlice<UInt8> {
            let start = at
            while at < bytes.count && bytes[at] != 0x20 { at += 1 }
            return bytes[start..<at]
        }
        /// A result: up to the next space outside a descriptor's annotation.
        mutating func resultWord() -> [UInt8] {
            let start = at
            var depth = 0
            while at < bytes.count {
                let c = bytes[at]
                if c == 0x20 && depth == 0 { break }
                if c == UInt8(ascii: "<") { depth += 1 }
                if c == UInt8(ascii: ">") && depth > 0 && !(at > start && bytes[at - 1] == UInt8(ascii: "-")) { depth -= 1 }
                at += 1
            }
            return Array(bytes[start..<at])
        }
        mutating func consume(_ s: String) -> Bool {
            let u = Array(s.utf8)
            guard bytes.count - at >= u.count, bytes[at..<(at + u.count)].elementsEqual(u) else { return false }
            at += u.count
            return true
        }
        /// From an opening byte to its matching close (nesting counted); the bytes between.
        mutating func bracketed(open: UInt8, close: UInt8) -> ArraySlice<UInt8> {
            guard peek == open else { return [] }
            at += 1
            let start = at
            var depth = 1
            while at < bytes.count {
                if bytes[at] == open { depth += 1 }
                if bytes[at] == close { depth -= 1; if depth == 0 { break } }
                at += 1
            }
            let inner = bytes[start..<min(at, bytes.count)]
            if at < bytes.count { at += 1 }
            return inner
        }
    }
}
