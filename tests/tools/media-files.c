/*
 * media-files: an HTTP server of the files of one directory, behind Basic
 * auth, standing in for a provider's media URLs in tests. A test tool (not
 * installed): media-files DIR USER:PASS --listen ADDR:PORT; says
 * "listening on" on stderr, as the servers tests/lib.sh's serve() starts
 * do, and serves until killed. GET /NAME: 401 without the credentials,
 * the file DIR/NAME (a plain name) with 200, else 404; GET /hang is
 * never answered (the connection is held until the server is killed).
 * GET /half/NAME serves DIR/NAME, but the first such request (of any
 * NAME) stops after half of the bytes, with the whole length promised,
 * and holds the connection: a fetch caught in the middle. Each request is
 * a line on stdout: "GET /NAME STATUS" (0 for /hang, said when it
 * comes), and "HALF /half/NAME" once the first half has gone out.
 * USER:PASS "-" serves the files as public links (Telnyx's media URLs
 * are signed links, fetched without credentials): no credentials asked,
 * and a request that brings some all the same says so, "GET /NAME
 * STATUS auth".
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

static const char *dir, *user, *pass;	/* user NULL: public links */
static int stalled;		/* a /half request has stopped half way */

struct half {
	int fd;
	uint64_t size;
	int stall;		/* this one stops at size / 2 */
	char url[256];
};

static ssize_t
half_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct half *h = cls;
	uint64_t end = h->stall ? h->size / 2 : h->size;
	ssize_t n;

	if (pos >= end) {
		if (!h->stall)
			return MHD_CONTENT_READER_END_OF_STREAM;
		printf("HALF %s\n", h->url);
		fflush(stdout);
		for (;;)
			pause();
	}
	if (max > end - pos)
		max = (size_t)(end - pos);
	n = pread(h->fd, buf, max, (off_t)pos);
	return n > 0 ? n : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void
half_free(void *cls)
{
	struct half *h = cls;

	close(h->fd);
	free(h);
}

static enum MHD_Result
say(struct MHD_Connection *conn, const char *url, unsigned code,
    struct MHD_Response *r)
{
	enum MHD_Result rc = MHD_queue_response(conn, code, r);
	int auth = user == NULL && MHD_lookup_connection_value(conn,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION) != NULL;

	MHD_destroy_response(r);
	printf("GET %s %u%s\n", url, code, auth ? " auth" : "");
	fflush(stdout);
	return rc;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **ctx)
{
	char path[4096], *u, *p = NULL;
	struct stat st;
	int ok, fd;

	(void)cls, (void)method, (void)version, (void)data, (void)size;
	if (*ctx == NULL) {
		*ctx = conn;
		return MHD_YES;
	}
	u = MHD_basic_auth_get_username_password(conn, &p);
	ok = user == NULL || (u && p && strcmp(u, user) == 0 &&
	    strcmp(p, pass) == 0);
	MHD_free(u);
	MHD_free(p);
	if (!ok)
		return say(conn, url, 401, MHD_create_response_from_buffer(0,
		    "", MHD_RESPMEM_PERSISTENT));
	if (strcmp(url, "/hang") == 0) {
		printf("GET %s 0\n", url);
		fflush(stdout);
		for (;;)
			pause();
	}
	if (strncmp(url, "/half/", 6) == 0) {
		struct half *h;

		snprintf(path, sizeof path, "%s/%s", dir, url + 6);
		if (!url[6] || strchr(url + 6, '/') || url[6] == '.' ||
		    (fd = open(path, O_RDONLY)) < 0)
			return say(conn, url, 404,
			    MHD_create_response_from_buffer(0, "",
			    MHD_RESPMEM_PERSISTENT));
		if (fstat(fd, &st) < 0 || !(h = calloc(1, sizeof *h))) {
			close(fd);
			return MHD_NO;
		}
		h->fd = fd;
		h->size = (uint64_t)st.st_size;
		h->stall = !__atomic_exchange_n(&stalled, 1, __ATOMIC_SEQ_CST);
		snprintf(h->url, sizeof h->url, "%s", url);
		return say(conn, url, 200, MHD_create_response_from_callback(
		    h->size, 4096, half_read, h, half_free));
	}
	snprintf(path, sizeof path, "%s/%s", dir, url + 1);
	if (url[0] != '/' || !url[1] || strchr(url + 1, '/') ||
	    url[1] == '.' || (fd = open(path, O_RDONLY)) < 0)
		return say(conn, url, 404, MHD_create_response_from_buffer(0,
		    "", MHD_RESPMEM_PERSISTENT));
	if (fstat(fd, &st) < 0) {
		close(fd);
		return MHD_NO;
	}
	return say(conn, url, 200, MHD_create_response_from_fd(
	    (size_t)st.st_size, fd));
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct MHD_Daemon *d;
	char *colon, *up = NULL;

	if (argc != 5 || strcmp(argv[3], "--listen") != 0 ||
	    !(colon = strrchr(argv[4], ':')) || (strcmp(argv[2], "-") != 0 &&
	    !(up = strchr(argv[2], ':')))) {
		fputs("usage: media-files DIR USER:PASS|- --listen "
		    "ADDR:PORT\n", stderr);
		return 2;
	}
	dir = argv[1];
	if (strcmp(argv[2], "-") != 0) {
		*up = '\0';
		user = argv[2];
		pass = up + 1;
	}
	*colon = '\0';
	sa.sin_port = htons((unsigned short)atoi(colon + 1));
	if (inet_pton(AF_INET, argv[4], &sa.sin_addr) != 1) {
		fputs("media-files: bad address\n", stderr);
		return 2;
	}
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL, on_request, NULL,
	    MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "media-files: cannot listen on %s:%s\n",
		    argv[4], colon + 1);
		return 1;
	}
	fprintf(stderr, "media-files: listening on %s:%s\n", argv[4],
	    colon + 1);
	for (;;)
		pause();
}
