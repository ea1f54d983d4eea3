/*
 * catch: an HTTP server that keeps what is posted to it, for tests that
 * need to see a webhook as the provider sent it. A test tool (not
 * installed): catch FILE --listen ADDR:PORT; each request's body is
 * appended to FILE, one line (a form body has no newline), and answered
 * 200 with an empty TwiML <Response/>. Says "listening on" on stderr, as
 * the servers tests/lib.sh's serve() starts do, and serves until killed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_REQUEST (1024 * 1024)
#define TWIML "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>"

/* Read a request off fd, its head and as much body as it says, and
 * append the body to fp. */
static void
keep(int fd, FILE *fp)
{
	static char buf[MAX_REQUEST + 1];
	char *end = NULL, *cl;
	size_t len = 0, head;
	ssize_t n;
	long want = 0;

	while (len < MAX_REQUEST && (n = read(fd, buf + len,
	    MAX_REQUEST - len)) > 0) {
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
	if (!end)
		return;
	head = (size_t)(end + 4 - buf);
	fwrite(buf + head, 1, len - head, fp);
	fputc('\n', fp);
	fflush(fp);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char head[256], *colon;
	int s, c, one = 1;
	FILE *fp;

	if (argc != 4 || strcmp(argv[2], "--listen") != 0 ||
	    !(colon = strrchr(argv[3], ':'))) {
		fputs("usage: catch FILE --listen ADDR:PORT\n", stderr);
		return 2;
	}
	if (!(fp = fopen(argv[1], "a"))) {
		perror(argv[1]);
		return 1;
	}
	*colon = '\0';
	sa.sin_port = htons((unsigned short)atoi(colon + 1));
	if (inet_pton(AF_INET, argv[3], &sa.sin_addr) != 1 ||
	    (s = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(s, 16) < 0) {
		perror("catch: cannot listen");
		return 1;
	}
	fprintf(stderr, "catch: listening on %s:%s\n", argv[3], colon + 1);
	for (;;) {
		if ((c = accept(s, NULL, NULL)) < 0)
			continue;
		keep(c, fp);
		snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\n"
		    "Content-Type: text/xml\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n\r\n", strlen(TWIML));
		if (write(c, head, strlen(head)) < 0 ||
		    write(c, TWIML, strlen(TWIML)) < 0)
			perror("catch: write");
		close(c);
	}
}
