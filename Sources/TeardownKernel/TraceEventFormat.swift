/// One tracepoint's `format` file as tracefs prints it (`events/GROUP/EVENT/format`): its name,
/// its id (the `common_type` every record of it starts with), its fields, and the value names
/// of each `__print_symbolic(REC->FIELD, { VALUE, "NAME" }, ...)` in its print format.
///
/// The kernel writes the file from the event's `TP_STRUCT__entry` (kernel/trace/trace_events.c,
/// `f_show`): one `field:TYPE NAME;\toffset:N;\tsize:N;\tsigned:N;` line per field, the four
/// `common_` fields first, then a blank line and `print fmt: "...", ARGS`. Offsets and sizes are
/// read from here, never assumed, so a layout that moved (tcp_send_reset in 6.10) is read as it is.
public struct TraceEventFormat: Hashable, Sendable {
    public var name: String
    /// The event's id: the value of `common_type` in its records.
    public var id: UInt16
    public var fields: [TraceField]
    /// For each field named in a `__print_symbolic` of the print format, its (value, name)
    /// pairs in the order the kernel lists them. A value that is not a number (`TCP_ESTABLISHED`
    /// where the kernel did not resolve the enum) is left out.
    public var symbols: [String: [(value: Int64, name: String)]]

    public init(name: String, id: UInt16, fields: [TraceField], symbols: [String: [(value: Int64, name: String)]] = [:]) {
        self.name = name; self.id = id; self.fields = fields; self.symbols = symbols
    }

    /// The field called `name`, if the event has one.
    public func field(_ name: String) -> TraceField? { fields.first { $0.name == name } }

    /// The kernel's name for `value` of `field`, from the print format's `__print_symbolic`.
    public func symbol(_ value: Int64, of field: String) -> String? {
        symbols[field]?.first { $0.value == value }?.name
    }

    public static func == (a: TraceEventFormat, b: TraceEventFormat) -> Bool {
        a.name == b.name && a.id == b.id && a.fields == b.fields
            && a.symbols.keys.sorted() == b.symbols.keys.sorted()
            && a.symbols.allSatisfy { key, list in
                let other = b.symbols[key] ?? []
                return list.count == other.count && zip(list, other).allSatisfy { $0.value == $1.value && $0.name == $1.name }
            }
    }

    public func hash(into h: inout Hasher) { h.combine(name); h.combine(id); h.combine(fields) }
}

/// One `field:` line of a format file.
public struct TraceField: Hashable, Sendable {
    /// The C type as written (`const void *`, `__u8`, `enum sk_rst_reason`), without the name.
    public var type: String
    public var name: String
    /// Elements of an array field (`saddr[28]` -> 28); nil for a scalar.
    public var arrayCount: Int?
    public var offset: Int
    public var size: Int
    public var isSigned: Bool

    public init(type: String, name: String, arrayCount: Int? = nil, offset: Int, size: Int, isSigned: Bool) {
        self.type = type; self.name = name; self.arrayCount = arrayCount
        self.offset = offset; self.size = size; self.isSigned = isSigned
    }
}

/// Why a format file could not be read. Each case names what was wrong, so the line shown to the
/// user can say it (worded in Render).
public enum TraceFormatError: Error, Hashable, Sendable {
    /// A `name:`, `ID:` or `format:` line is absent.
    case missing(String)
    /// The id is not a number from 0 to 65535.
    case badID(String)
    /// A `field:` line that does not read as `field:TYPE NAME; offset:N; size:N; signed:N;`
    /// (1-based line number, the line).
    case badField(line: Int, text: String)
}

extension TraceEventFormat {
    /// The largest offset or size a field may have: a record is at most a ring-buffer page.
    static let fieldLimit = 1 << 16

    /// Reads a `format` file. Never traps, whatever the text; anything it cannot read is an error
    /// value naming the line.
    public static func parse(_ text: String) -> Result<TraceEventFormat, TraceFormatError> {
        var name: String?
        var id: UInt16?
        var sawFormat = false
        var fields: [TraceField] = []
        var symbols: [String: [(value: Int64, name: String)]] = [:]
        var number = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let line = rawLine.drop { $0 == " " || $0 == "\t" }
            if line.hasPrefix("name:") {
                name = String(line.dropFirst(5).trimmed)
            } else if line.hasPrefix("ID:") {
                let t = line.dropFirst(3).trimmed
                guard let v = UInt16(t) else { return .failure(.badID(String(t.prefix(40)))) }
                id = v
            } else if line.hasPrefix("format:") {
                sawFormat = true
            } else if line.hasPrefix("field:") {
                guard let f = parseField(line) else {
                    return .failure(.badField(line: number, text: String(line.prefix(120))))
                }
                fields.append(f)
            } else if line.hasPrefix("print fmt:") {
                symbols = parseSymbolic(line.dropFirst(10))
            }
        }
        guard let name, !name.isEmpty else { return .failure(.missing("name")) }
        guard let id else { return .failure(.missing("ID")) }
        guard sawFormat else { return .failure(.missing("format")) }
        return .success(TraceEventFormat(name: name, id: id, fields: fields, symbols: symbols))
    }

    /// `field:const void * skaddr;\toffset:16;\tsize:8;\tsigned:0;`
    static func parseField(_ line: Substring) -> TraceField? {
        let parts = line.split(separator: ";").map { $0.trimmed }
        guard parts.count >= 4, parts[0].hasPrefix("field:") else { return nil }
        let decl = parts[0].dropFirst(6).trimmed
        // The name is the last word; `*` may be glued to it or to the type.
        guard let split = decl.lastIndex(where: { $0 == " " || $0 == "\t" || $0 == "*" }) else { return nil }
        var fieldName = decl[decl.index(after: split)...]
        let type = decl[...split].trimmed
        guard !type.isEmpty else { return nil }
        var count: Int?
        if let open = fieldName.firstIndex(of: "[") {
            guard fieldName.last == "]" else { return nil }
            let inside = fieldName[fieldName.index(after: open)..<fieldName.index(before: fieldName.endIndex)]
            // `char[]` of a __data_loc field has an empty count; a number otherwise.
            if !inside.isEmpty {
                guard let n = Int(inside), n >= 0, n < fieldLimit else { return nil }
                count = n
            }
            fieldName = fieldName[..<open]
        }
        guard !fieldName.isEmpty,
              let offset = value(parts[1], "offset:"), let size = value(parts[2], "size:"),
              let signed = value(parts[3], "signed:"), signed == 0 || signed == 1 else { return nil }
        return TraceField(type: String(type), name: String(fieldName), arrayCount: count,
                          offset: offset, size: size, isSigned: signed == 1)
    }

    static func value(_ part: Substring, _ key: String) -> Int? {
        guard part.hasPrefix(key), let n = Int(part.dropFirst(key.count).trimmed), n >= 0, n <= fieldLimit else { return nil }
        return n
    }

    /// Every `__print_symbolic(REC->FIELD, { V, "NAME" }, ...)` of a print format: for each
    /// field, its numeric values and their names. Pairs whose value is not a number are skipped;
    /// anything that does not read as a pair ends that list.
    static func parseSymbolic(_ text: Substring) -> [String: [(value: Int64, name: String)]] {
        var result: [String: [(value: Int64, name: String)]] = [:]
        let marker = "__print_symbolic(REC->"
        var rest = text[...]
        while let start = rest.firstRange(of: marker) {
            rest = rest[start.upperBound...]
            guard let comma = rest.firstIndex(of: ",") else { break }
            let field = String(rest[..<comma].trimmed)
            rest = rest[rest.index(after: comma)...]
            var pairs: [(value: Int64, name: String)] = []
            while true {
                let body = rest.drop { $0 == " " || $0 == "," }
                guard body.first == "{", let close = body.firstIndex(of: "}") else { break }
                let pair = body[body.index(after: body.startIndex)..<close]
                rest = body[body.index(after: close)...]
                guard let c = pair.firstIndex(of: ",") else { break }
                let value = pair[..<c].trimmed
                let quoted = pair[pair.index(after: c)...].trimmed
                guard quoted.count >= 2, quoted.first == "\"", quoted.last == "\"" else { break }
                let symbolName = String(quoted.dropFirst().dropLast())
                if let v = integer(value) { pairs.append((v, symbolName)) }
            }
            if result[field] == nil, !field.isEmpty { result[field] = pairs }
        }
        return result
    }

    /// A C integer literal: decimal or 0x hex, optionally negative.
    static func integer(_ s: Substring) -> Int64? {
        var t = s
        var negative = false
        if t.first == "-" { negative = true; t = t.dropFirst() }
        let v: Int64?
        if t.hasPrefix("0x") || t.hasPrefix("0X") { v = Int64(t.dropFirst(2), radix: 16) } else { v = Int64(t) }
        guard let v else { return nil }
        return negative ? 0 &- v : v
    }
}

extension Substring {
    /// Without leading and trailing blanks.
    var trimmed: Substring {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        let head = drop(while: isBlank)
        var end = head.endIndex
        while end > head.startIndex, isBlank(head[head.index(before: end)]) { end = head.index(before: end) }
        return head[..<end]
    }
}
