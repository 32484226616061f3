/*
 * The bench's scaling workload, run by the live kernel: N private anonymous mappings of two
 * pages with alternating protection (so no two merge), then OPS operations that munmap a
 * random one of them and mmap a new one in its place, timed in three rounds; prints the
 * best round's nanoseconds per operation. The same generator and sizes as bench/run.ts.
 *
 * usage: scaling N OPS
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static uint32_t seed = 0x2545f491;

static double next_random(void)
{
	seed = seed * 1103515245u + 12345u;
	return seed / 4294967296.0;
}

static int prot_of(long i)
{
	return i & 1 ? PROT_READ : PROT_READ | PROT_WRITE;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s N OPS\n", argv[0]);
		return 2;
	}
	long n = atol(argv[1]), ops = atol(argv[2]);
	size_t len = 2 * (size_t)sysconf(_SC_PAGESIZE);
	void **live = calloc(n, sizeof(*live));
	if (n <= 0 || ops <= 0 || !live) {
		fprintf(stderr, "scaling: bad N or OPS\n");
		return 2;
	}
	for (long i = 0; i < n; i++) {
		live[i] = mmap(NULL, len, prot_of(i), MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (live[i] == MAP_FAILED) {
			perror("scaling: mmap");
			return 1;
		}
	}
	double best = -1;
	for (int round = 0; round < 3; round++) {
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (long i = 0; i < ops; i += 2) {
			long j = (long)(next_random() * n);
			munmap(live[j], len);
			live[j] = mmap(NULL, len, prot_of(j), MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (live[j] == MAP_FAILED) {
				perror("scaling: mmap");
				return 1;
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / ops;
		if (best < 0 || ns < best)
			best = ns;
	}
	printf("%.1f\n", best);
	return 0;
}
