#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
/* A tiny HTTP/1.0 server: accept, read the request, write a fixed response, close; serves argv[2] requests on port argv[1]. */
int main(int argc, char **argv) {
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET; a.sin_port = htons(atoi(argv[1])); a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 128)) return 1;
    const char *resp = "HTTP/1.0 200 OK\r\nContent-Length: 12\r\n\r\nhello world\n";
    long n = atol(argv[2]);
    char buf[4096];
    for (long i = 0; i < n; i++) {
        int s = accept(l, 0, 0);
        if (s < 0) continue;
        read(s, buf, sizeof buf);
        write(s, resp, strlen(resp));
        close(s);
    }
    close(l);
    return 0;
}
