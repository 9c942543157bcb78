import TeardownKernel
import TeardownModel
import TeardownWire

/// `--format html`: one self-contained page (its CSS, script and drawings inline; nothing
/// fetched), written as the connections end, so that it streams as the other formats do and
/// memory stays bounded by the connections open at once: `begin`, then the connections in
/// batches (`writeBatch`), then `end`, which adds what only the whole input knows: the tally
/// chart of endings and diagnoses and the filters' choices. The page shows those above the
/// table (CSS `order`), wherever they come in the file.
///
/// Each connection is one compact JSON array in a `<script type="application/json"
/// class="rows">` (inert: a browser neither runs nor lays it out), which the page's script
/// reads into the table: `[index, teardown, conn_state, closed_by, diagnoses (space-separated),
/// the kernel's RST reason, packets, bytes lost, duration s, start s, "client ⇄ server", file,
/// ladder]`. The table shows a page of rows at a time (`pageRows`); filters and sorting work on
/// all of them. Each row is a `<tr data-connection="N">`, N the connection's index as the
/// timeline's title and JSON's `index` give it. A connection's ladder (`LadderSVG`, the same
/// drawing as `--format svg`) waits as inert text in a `<script type="text/x-ladder"
/// data-connection="N">` and is put into the page when its row is opened; the first
/// `ladderBudget` connections of each input carry one, which bounds the page of a capture with
/// hundreds of thousands of connections (a ladder is a few kilobytes; a row's data about 150
/// bytes). `#connection-N` in the address opens N.
public enum HTMLReport {
    /// Connections of one input that carry their ladder in the page.
    public static let ladderBudget = 5_000
    /// Rows the table shows at once.
    static let pageRows = 1_000

    /// What comes before the first connection: the page's head, styles, title and the table's head.
    public static func begin(to c: inout ByteCursor) {
        c.write("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        c.write("<meta name=\"generator\" content=\"teardown\"><title>teardown report</title><style>")
        c.write(pageStyle)
        c.write(LadderSVG.style)
        c.write("</style></head>\n<body><header><h1>How each TCP connection ended</h1>")
        c.write("<p class=\"sub\">teardown report · click a row for its ladder · state names as RFC 9293 spells them</p></header>\n")
        c.write("<table id=\"conns\"><colgroup><col class=\"c-n\"><col class=\"c-t\"><col class=\"c-k\"><col class=\"c-s\">")
        c.write("<col class=\"c-b\"><col class=\"c-d\"><col class=\"c-r\"><col class=\"c-p\"><col class=\"c-l\"><col class=\"c-u\"><col class=\"c-e\"></colgroup>")
        c.write("<thead><tr><th>#</th><th data-sort=\"start\">start (UTC)</th><th>ending</th><th>conn_state</th>")
        c.write("<th>closed by</th><th>diagnoses</th><th>RST reason</th><th>packets</th>")
        c.write("<th data-sort=\"lost\">bytes lost</th><th data-sort=\"dur\">duration s</th><th>client ⇄ server</th></tr></thead>\n")
        c.write("<tbody></tbody></table>\n<p id=\"pages\"></p>\n")
    }

    /// Writes the connections of one input; with `source`, each names its file.
    public struct FileRenderer: Sendable {
        let source: String?
        /// The label the ladder's `capture` line names.
        let label: String?

        public init(source: String?, label: String?) {
            self.source = source
            self.label = label
        }

        /// One batch of connections: their rows' data, then the ladders of those that carry
        /// one (`carriesLadder`); ends with a newline.
        public func writeBatch<Records: RandomAccessCollection>(_ records: Records, to c: inout ByteCursor)
        where Records.Element == ConnectionRecord {
            c.write("<script type=\"application/json\" class=\"rows\">[")
            var first = true
            for i in records.indices {
                if !first { c.write(",\n") }
                row(records[i], ladder: HTMLReport.carriesLadder(records[i]), &c)
                first = false
            }
            c.write("]</script>\n")
            for i in records.indices {
                if HTMLReport.carriesLadder(records[i]) {
                    c.write("<script type=\"text/x-ladder\" data-connection=\"")
                    c.writeInt(records[i].index)
                    if let source {
                        c.write("\" data-file=\"")
                        c.writeMarkupSafe(source)
                    }
                    c.write("\">")
                    LadderSVG.write(records[i], source: label, standalone: false, to: &c)
                    c.write("</script>\n")
                }
            }
        }

        /// `[index, teardown, conn_state, closed_by, diagnoses, reason, packets, lost, duration,
        /// start, endpoints, file, ladder]`; strings escape `/`, so `</script>` cannot occur.
        func row(_ r: ConnectionRecord, ladder: Bool, _ c: inout ByteCursor) {
            var w = JSONWriter(c)
            w.beginArray()
            w.int(r.index)
            w.string(r.teardown.name)
            w.string(r.connState.rawValue)
            if let closer = r.closedBy { w.verbatimString { $0.write(closer.roleText) } } else { w.null() }
            w.string(r.diagnoses.map(\.code.rawValue).joined(separator: " "))
            if let reason = HTMLReport.kernelReason(r) { w.stringEscapingSlashes(reason) } else { w.null() }
            w.int(r.orig.packets + r.resp.packets)
            w.int(HTMLReport.lostBytes(r))
            w.seconds(nanoseconds: Format.difference(r.end, r.start))
            w.seconds(nanoseconds: r.start.nanoseconds)
            w.value { c in
                c.write(UInt8(ascii: "\""))
                r.orig.endpoint.withText { c.write($0) }
                c.write(" ⇄ ")
                r.resp.endpoint.withText { c.write($0) }
                c.write(UInt8(ascii: "\""))
            }
            if let source { w.stringEscapingSlashes(source) } else { w.null() }
            w.int(ladder ? 1 : 0)
            w.endArray()
            c = w.out
        }
    }

    /// What comes after the last connection: the tally chart, the filters and sort, and the script.
    public static func end(_ tally: Tally, to c: inout ByteCursor) {
        c.write("<section id=\"tally\"><h2>")
        c.writeGrouped(UInt64(tally.total))
        c.write(tally.total == 1 ? " connection" : " connections")
        c.write("</h2>")
        chart("ending", "kind", tally.endings, total: tally.total, toned: true, &c)
        if !tally.diagnoses.isEmpty {
            chart("diagnosis", "diag", tally.diagnoses, total: tally.total, toned: false, &c)
        }
        if !tally.reasons.isEmpty {
            chart("kernel's RST reason", "reason", tally.reasons, total: tally.total, toned: false, &c)
        }
        c.write("</section>\n<section id=\"filters\">")
        select("ending", "kind", tally.endings, &c)
        select("conn_state", "state", tally.states, &c)
        select("diagnosis", "diag", tally.diagnoses, &c)
        select("RST reason", "reason", tally.reasons, &c)
        c.write("<label>sort by <select id=\"sort\"><option value=\"\">order printed</option>")
        c.write("<option value=\"start\">start</option><option value=\"dur\">duration, longest first</option>")
        c.write("<option value=\"lost\">bytes lost, most first</option></select></label>")
        c.write(" <span id=\"shown\"></span></section>\n<script>const pageRows=")
        c.writeInt(pageRows)
        c.write(",ladderBudget=")
        c.writeInt(ladderBudget)
        c.write(";")
        c.write(script)
        c.write("</script>\n</body></html>\n")
    }

    /// A bar chart: one bar per value, most frequent first; a click filters on it.
    static func chart(_ title: StaticString, _ key: StaticString, _ counts: [(String, Int)], total: Int, toned: Bool, _ c: inout ByteCursor) {
        c.write("<div class=\"chart\"><h3>by ")
        c.write(title)
        c.write("</h3>")
        let most = max(1, counts.map(\.1).max() ?? 1)
        for (value, n) in counts {
            c.write("<div class=\"bar\" data-key=\"")
            c.write(key)
            c.write("\" data-value=\"")
            c.writeMarkupSafe(value)
            c.write("\"><span class=\"lbl\">")
            c.writeMarkupSafe(value)
            c.write("</span><span class=\"track\"><span class=\"fill")
            if toned, let kind = TeardownKind(rawValue: value.hasPrefix("midstream-") ? String(value.dropFirst(10)) : value) {
                c.write(UInt8(ascii: " "))
                c.write(tone(kind))
            }
            c.write("\" style=\"width:")
            c.writeDecimal(UInt64(max(1, n * 100 / most)))
            c.write("%\"></span></span><span class=\"cnt\">")
            c.writeGrouped(UInt64(n))
            c.write(" · ")
            let permille = total > 0 ? (n * 1000 + total / 2) / total : 0
            c.writeDecimal(UInt64(permille / 10))
            c.write(UInt8(ascii: "."))
            c.writeDecimal(UInt64(permille % 10))
            c.write("%</span></div>")
        }
        c.write("</div>")
    }

    /// A filter's choice list: every value seen, with its count.
    static func select(_ title: StaticString, _ key: StaticString, _ counts: [(String, Int)], _ c: inout ByteCursor) {
        c.write("<label>")
        c.write(title)
        c.write(" <select data-filter=\"")
        c.write(key)
        c.write("\"><option value=\"\">all</option>")
        for (value, n) in counts.sorted(by: { $0.0 < $1.0 }) {
            c.write("<option value=\"")
            c.writeMarkupSafe(value)
            c.write("\">")
            c.writeMarkupSafe(value)
            c.write(" (")
            c.writeGrouped(UInt64(n))
            c.write(")</option>")
        }
        c.write("</select></label> ")
    }

    /// The counts the chart and the filters show, by value, most frequent first when read.
    public struct Tally: Sendable {
        public private(set) var total = 0
        private var ending: [String: Int] = [:]
        private var state: [String: Int] = [:]
        private var diagnosis: [String: Int] = [:]
        private var reason: [String: Int] = [:]

        public init() {}

        public mutating func add(_ r: ConnectionRecord) {
            total += 1
            ending[r.teardown.name, default: 0] += 1
            state[r.connState.rawValue, default: 0] += 1
            for d in r.diagnoses { diagnosis[d.code.rawValue, default: 0] += 1 }
            if let k = HTMLReport.kernelReason(r) { reason[k, default: 0] += 1 }
        }

        public mutating func merge(_ other: Tally) {
            total += other.total
            ending.merge(other.ending, uniquingKeysWith: +)
            state.merge(other.state, uniquingKeysWith: +)
            diagnosis.merge(other.diagnosis, uniquingKeysWith: +)
            reason.merge(other.reason, uniquingKeysWith: +)
        }

        static func ordered(_ d: [String: Int]) -> [(String, Int)] {
            d.map { ($0.key, $0.value) }.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        }
        var endings: [(String, Int)] { Tally.ordered(ending) }
        var states: [(String, Int)] { Tally.ordered(state) }
        var diagnoses: [(String, Int)] { Tally.ordered(diagnosis) }
        var reasons: [(String, Int)] { Tally.ordered(reason) }
    }

    /// Whether the page carries `r`'s ladder: the first `ladderBudget` connections of each
    /// input, by index (the tracker keeps the rows of those only: `eventsUpToIndex`).
    static func carriesLadder(_ r: ConnectionRecord) -> Bool { r.index <= ladderBudget }

    /// The kernel's name for the reason it sent the RST that ended the connection (the kernel
    /// lane's `tcp_send_reset`), or nil: no RST, no lane, or not sent by this host.
    static func kernelReason(_ r: ConnectionRecord) -> String? {
        guard let rst = r.rst else { return nil }
        for event in r.events {
            guard case .packet(let p) = event, p.number == rst.packetNumber else { continue }
            if case .sent(let reason)? = p.kernelReset, let reason { return reason.name ?? "reason \(reason.rawValue)" }
            return nil
        }
        return nil
    }

    /// Bytes lost, both directions: written by an application and never read by its peer's
    /// (with socket calls), else sent and unacknowledged when the RST came.
    static func lostBytes(_ r: ConnectionRecord) -> UInt64 {
        func lost(_ l: DirectionLedger) -> UInt64 { l.lost ?? l.inFlightAtRST ?? 0 }
        return lost(r.orig.bytes) &+ lost(r.resp.bytes)
    }

    /// The CSS class of a teardown kind's colour: as the timeline paints it.
    static func tone(_ kind: TeardownKind) -> StaticString {
        switch kind {
        case .graceful, .simultaneousClose: return "good"
        case .abortByOriginator, .abortByResponder, .resetAfterClose, .refused: return "bad"
        case .halfClosed, .unanswered, .open: return "open"
        }
    }

    static let pageStyle: StaticString = """
    body{font:14px/1.4 system-ui,sans-serif;margin:0 1.5em 2em;color:#222;display:flex;flex-direction:column}\
    header{order:0}#tally{order:1}#filters{order:2;position:sticky;top:0;background:#fff;padding:.5em 0;border-bottom:1px solid #ccc;z-index:1}\
    #conns{order:3}#pages{order:4}h1{font-size:1.4em;margin:.6em 0 .1em}.sub{color:#666;margin:0 0 .8em}\
    #tally{display:flex;flex-wrap:wrap;gap:0 3em}#tally h2{width:100%;font-size:1.1em;margin:.3em 0}\
    .chart h3{font-size:.95em;margin:.4em 0}.bar{display:flex;align-items:center;gap:.5em;cursor:pointer;font-size:13px}\
    .bar .lbl{width:13em;text-align:right;font-family:monospace}.track{display:inline-block;width:250px}\
    .fill{display:block;height:12px;max-width:100%;background:#5c6bc0;transform-origin:left}\
    .cnt{color:#555;font-variant-numeric:tabular-nums}\
    #filters label{margin-right:1em}\
    table{border-collapse:collapse;table-layout:fixed;width:100%;font-size:13px}\
    th{text-align:left;border-bottom:2px solid #999;padding:2px 6px}th[data-sort]{cursor:pointer;text-decoration:underline dotted}\
    td{padding:1px 6px;border-bottom:1px solid #eee;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}\
    tr[data-connection]{cursor:pointer}tr[data-connection]:hover{background:#f3f6fb}tr.opened{background:#e8eefb}\
    td.n{text-align:right;font-variant-numeric:tabular-nums}td.lost{color:#b71c1c;font-weight:bold}\
    .k{font-family:monospace}.good{color:#1b5e20}.bad{color:#b71c1c}.open{color:#8a6d00}\
    .fill.good{background:#43a047}.fill.bad{background:#e53935}.fill.open{background:#fbc02d}\
    .none{color:#555;font-style:italic;margin:.3em 1em}\
    .file{color:#777}tr.ladder>td{white-space:normal;overflow:auto;padding:6px 0 12px;background:#fff}\
    th{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}\
    .c-n{width:5.5em}.c-t{width:14em}.c-k{width:11.5em}.c-s{width:7em}.c-b{width:6.5em}.c-d{width:9em}\
    .c-r{width:8.5em}.c-p{width:5.5em}.c-l{width:6.5em}.c-u{width:7em}.c-e{width:auto}
    """

    /// Reads the rows' data, draws the table a page at a time, filters, sorts, and opens a
    /// row's ladder by putting its inert SVG text into the page; nothing is fetched.
    static let script: StaticString = """
    (function(){'use strict';\
    var body=document.querySelector('#conns tbody'),all=[],i,j;\
    var chunks=document.querySelectorAll('script.rows');\
    for(i=0;i<chunks.length;i++){var a=JSON.parse(chunks[i].textContent);for(j=0;j<a.length;j++)all.push(a[j]);}\
    var ladders=new Map(),ls=document.querySelectorAll('script[type="text/x-ladder"]');\
    for(i=0;i<ls.length;i++)ladders.set((ls[i].dataset.file||'')+'\\n'+ls[i].dataset.connection,ls[i]);\
    var want={kind:'',state:'',diag:'',reason:''},sortKey='',page=0,shown=all,onPage=[];\
    var column={lost:7,dur:8,start:9};\
    function fits(r){return(!want.kind||r[1]===want.kind)&&(!want.state||r[2]===want.state)&&\
    (!want.diag||(' '+r[4]+' ').indexOf(' '+want.diag+' ')>=0)&&(!want.reason||r[5]===want.reason);}\
    function esc(s){return String(s).replace(/[&<>"]/g,function(c){return{'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c];});}\
    function utc(t){try{return new Date(t*1000).toISOString().replace('T',' ').replace('Z','');}catch(e){return String(t);}}\
    function tone(k){k=k.replace('midstream-','');return k==='graceful'||k==='simultaneous-close'?'good':\
    (k==='half-closed'||k==='unanswered'||k==='open')?'open':'bad';}\
    function n(v){return String(v).replace(/\\B(?=(\\d{3})+(?!\\d))/g,',');}\
    function row(r){var f=r[11]===null?'':r[11];return '<tr data-connection="'+r[0]+'"'+(f?' data-file="'+esc(f)+'"':'')+\
    '><td>'+r[0]+'</td><td>'+utc(r[9])+'</td><td class="k '+tone(r[1])+'">'+r[1]+'</td><td>'+r[2]+'</td><td>'+\
    (r[3]||'–')+'</td><td>'+esc(r[4])+'</td><td>'+esc(r[5]||'')+'</td><td class="n">'+n(r[6])+'</td><td class="n'+\
    (r[7]>0?' lost':'')+'">'+n(r[7])+'</td><td class="n">'+r[8].toFixed(6)+'</td><td>'+esc(r[10])+\
    (f?' <span class="file">'+esc(f)+'</span>':'')+'</td></tr>';}\
    function render(){var pages=Math.max(1,Math.ceil(shown.length/pageRows));if(page>=pages)page=pages-1;\
    onPage=shown.slice(page*pageRows,(page+1)*pageRows);var out=new Array(onPage.length);\
    for(var i=0;i<onPage.length;i++)out[i]=row(onPage[i]);body.innerHTML=out.join('');\
    document.getElementById('shown').textContent=n(shown.length)+' of '+n(all.length)+' shown';\
    var p=document.getElementById('pages');p.innerHTML='';if(pages>1){\
    p.innerHTML='<button data-page="-1">‹ previous</button> rows '+n(page*pageRows+1)+'–'+n(page*pageRows+onPage.length)+\
    ' of '+n(shown.length)+' <button data-page="1">next ›</button>';}}\
    document.getElementById('pages').addEventListener('click',function(e){var d=e.target.dataset.page;\
    if(d){page=Math.max(0,page+Number(d));render();window.scrollTo(0,document.getElementById('conns').offsetTop);}});\
    function apply(){shown=all.filter(fits);if(sortKey){var k=column[sortKey];\
    shown.sort(function(a,b){return sortKey==='start'?a[k]-b[k]:b[k]-a[k];});}page=0;render();}\
    function setFilter(k,v){want[k]=v;var s=document.querySelector('select[data-filter="'+k+'"]');if(s)s.value=v;apply();}\
    function sortBy(k){sortKey=k;document.getElementById('sort').value=k;apply();}\
    function toggle(tr){var next=tr.nextElementSibling;if(next&&next.classList.contains('ladder')){next.remove();\
    tr.classList.remove('opened');return;}var r=onPage[tr.sectionRowIndex];if(!r)return;\
    var s=ladders.get((r[11]===null?'':r[11])+'\\n'+r[0]);var l=document.createElement('tr');l.className='ladder';\
    var td=document.createElement('td');td.colSpan=tr.cells.length;\
    if(s)td.innerHTML=s.textContent;else td.innerHTML='<p class="none">This page carries the ladders of the first '+\
    n(ladderBudget)+' connections of each input only. Draw this one with <code>teardown replay FILE --format svg --connection '+\
    r[0]+'</code>, or make a page of fewer connections with <code>--only</code> or <code>--diagnosis</code>.</p>';\
    l.appendChild(td);tr.after(l);tr.classList.add('opened');}\
    body.addEventListener('click',function(e){var tr=e.target.closest('tr[data-connection]');if(tr)toggle(tr);});\
    var selects=document.querySelectorAll('select[data-filter]');\
    for(i=0;i<selects.length;i++)selects[i].addEventListener('change',function(e){setFilter(e.target.dataset.filter,e.target.value);});\
    var bars=document.querySelectorAll('.bar');\
    for(i=0;i<bars.length;i++)bars[i].addEventListener('click',function(e){var b=e.currentTarget;\
    setFilter(b.dataset.key,want[b.dataset.key]===b.dataset.value?'':b.dataset.value);});\
    document.getElementById('sort').addEventListener('change',function(e){sortBy(e.target.value);});\
    var heads=document.querySelectorAll('th[data-sort]');\
    for(i=0;i<heads.length;i++)heads[i].addEventListener('click',function(e){sortBy(e.currentTarget.dataset.sort);});\
    function open(index,file){var at=shown.findIndex(function(r){return r[0]===index&&(file===undefined||r[11]===file);});\
    if(at<0)return null;page=Math.floor(at/pageRows);render();var tr=body.rows[at-page*pageRows];toggle(tr);return tr;}\
    render();\
    var m=/^#connection-(\\d+)$/.exec(location.hash);if(m){var tr=open(Number(m[1]));if(tr&&tr.getBoundingClientRect().top>innerHeight/2)tr.scrollIntoView();}\
    window.teardownReport={all:all,shown:function(){return shown;},filter:setFilter,sort:sortBy,open:open,ladders:ladders};\
    })();
    """
}
