import http.server, sys
# python3 -m http.server's handler, serving exactly N requests on 127.0.0.1:PORT, then exiting.
port, n = int(sys.argv[1]), int(sys.argv[2])
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", port), Quiet)
for _ in range(n):
    server.handle_request()
