import socket, sys, time
# A load loop: N sequential HTTP/1.0 requests to 127.0.0.1:PORT; prints requests per second.
port, n = int(sys.argv[1]), int(sys.argv[2])
for _ in range(200):
    try:
        socket.create_connection(("127.0.0.1", port)).close(); break
    except OSError:
        time.sleep(0.02)
t0 = time.perf_counter()
for _ in range(n):
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(b"GET / HTTP/1.0\r\n\r\n")
    while c.recv(4096):
        pass
    c.close()
print("%.0f" % (n / (time.perf_counter() - t0)))
