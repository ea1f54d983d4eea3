/*
 * timeit: the warm wall time of a command, by a monotonic clock.
 *
 * timeit RUNS OUT CMD [ARG...] runs CMD once with stdout to the file OUT
 * (to warm the page cache and to let the caller check what it wrote),
 * then RUNS times more with stdout to /dev/null, timing each from fork to
 * exit with CLOCK_MONOTONIC, and taking its CPU time (user + system) and
 * peak resident memory from wait4(2). Prints one line: best_ms=B
 * median_ms=M worst_ms=W cpu_ms=C peak_kb=K, C the least CPU time of the
 * timed runs (on a busy machine the wall time includes waiting for a
 * CPU, the CPU time does not), K the largest peak of them. stderr is the
 * command's. Exit 0, 1 if any run of CMD fails (its status is shown), 2
 * on bad usage.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS 100

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * Run argv with stdout to out; the wall time in ms, or -1 if it failed.
 * *cpu gets its CPU time in ms.
 */
static double
run(char **argv, const char *out, double *cpu, long *kb)
{
	double t0 = now_ms(), t;
	struct rusage ru;
	pid_t pid;
	int st, fd;

	if ((pid = fork()) < 0)
		return perror("timeit: fork"), -1;
	if (pid == 0) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(126);
		close(fd);
		execvp(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	while (wait4(pid, &st, 0, &ru) < 0)
		;
	t = now_ms() - t0;
	*cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	*kb = ru.ru_maxrss;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "timeit: %s: %s %d\n", argv[0],
		    WIFEXITED(st) ? "exit" : "signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		return -1;
	}
	return t;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	double t[MAX_RUNS], cpu, best_cpu = -1;
	char *end;
	long n, i, kb, peak = 0;

	if (argc < 4) {
		fputs("usage: timeit RUNS OUT CMD [ARG...]\n", stderr);
		return 2;
	}
	n = strtol(argv[1], &end, 10);
	if (*end || n < 1 || n > MAX_RUNS)
		return fputs("timeit: bad RUNS\n", stderr), 2;
	if (run(argv + 3, argv[2], &cpu, &kb) < 0)
		return 1;
	for (i = 0; i < n; i++) {
		if ((t[i] = run(argv + 3, "/dev/null", &cpu, &kb)) < 0)
			return 1;
		if (best_cpu < 0 || cpu < best_cpu)
			best_cpu = cpu;
		if (kb > peak)
			peak = kb;
	}
	qsort(t, (size_t)n, sizeof *t, cmp);
	printf("best_ms=%.2f median_ms=%.2f worst_ms=%.2f cpu_ms=%.2f "
	    "peak_kb=%ld\n", t[0], t[n / 2], t[n - 1], best_cpu, peak);
	return fflush(stdout) == 0 ? 0 : 1;
}
