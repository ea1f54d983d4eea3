/*
 * answer: an HTTP server that answers every request with one JSON body
 * (201 to a POST, 200 to anything else), for tests that need the
 * provider's API to say what sms-sim never does (a status word that is
 * not one). A test tool (not installed): answer BODY --listen ADDR:PORT;
 * says "listening on" on stderr, as the servers tests/lib.sh's serve()
 * starts do, and serves until killed. Each request, head and body as
 * they came, is written to stdout, for a test to see what was sent; the
 * environment's ANSWER_STATUS ("400 Bad Request"), if set, is the status
 * of the answer to a POST instead.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * Read a request off fd: its head, then as much body as it says. Returns
 * whether it was a POST.
 */
static int
drain(int fd)
{
	char buf[65536], *end, *cl;
	size_t len = 0;
	ssize_t n;
	long want = 0;

	while (len < sizeof buf - 1 && (n = read(fd, buf + len,
	    sizeof buf - 1 - len)) > 0) {
		len += (size_t)n;
		buf[len] = '\0';
		if (!(end = strstr(buf, "\r\n\r\n")))
			continue;
		for (cl = buf; (cl = strchr(cl, '\n')) && cl < end; cl++)
			if (strncasecmp(cl + 1, "content-length:", 15) == 0)
				want = strtol(cl + 16, NULL, 10);
		if ((long)(len - (size_t)(end + 4 - buf)) >= want)
			break;
	}
	fwrite(buf, 1, len, stdout);
	fputs("\n", stdout);
	fflush(stdout);
	return len >= 5 && strncmp(buf, "POST ", 5) == 0;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char head[256], *colon;
	const char *status = getenv("ANSWER_STATUS");
	int s, c, one = 1, post;

	if (argc != 4 || strcmp(argv[2], "--listen") != 0 ||
	    !(colon = strrchr(argv[3], ':'))) {
		fputs("usage: answer BODY --listen ADDR:PORT\n", stderr);
		return 2;
	}
	*colon = '\0';
	sa.sin_port = htons((unsigned short)atoi(colon + 1));
	if (inet_pton(AF_INET, argv[3], &sa.sin_addr) != 1 ||
	    (s = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(s, 16) < 0) {
		perror("answer: cannot listen");
		return 1;
	}
	fprintf(stderr, "answer: listening on %s:%s\n", argv[3], colon + 1);
	for (;;) {
		if ((c = accept(s, NULL, NULL)) < 0)
			continue;
		post = drain(c);
		snprintf(head, sizeof head, "HTTP/1.1 %s\r\n"
		    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n\r\n",
		    post ? status && *status ? status : "201 Created" :
		    "200 OK", strlen(argv[1]));
		if (write(c, head, strlen(head)) < 0 ||
		    write(c, argv[1], strlen(argv[1])) < 0)
			perror("answer: write");
		close(c);
	}
}
