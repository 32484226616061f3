/*
 * recorder — runs a list of mmap/munmap/mprotect calls in the live kernel and
 * prints what happened (the raw material of a pfnmap-trace/1 trace).
 *
 * Usage: recorder OPSFILE EXT4DIR > out.txt     (normally under `setarch -R`;
 * without it the layout is randomised, and the output ends with an `aslr` line:
 * whether the task has PF_RANDOMIZE, mmap_rnd_bits, and the mmap_base a forked
 * child measured after the final snapshot — see probe_mmap_base()).
 *
 * OPSFILE (text):
 *   file <id> <memfd|ext4|tmpfs> <sizeHex>
 *   op mmap <addrSpec> <lenHex> <protNum> <flagsNum> <fileIndex|-1> <offsetHex>
 *   op munmap <addrSpec> <lenHex>
 *   op mprotect <addrSpec> <lenHex> <protNum>
 * addrSpec: 0x… absolute, or @K, @K+0x…, @K-0x… (K = earlier op index; its
 * returned address, 0 if it failed or was skipped; arithmetic mod 2^64).
 *
 * Parsing, the snapshots, the safety guard, the op loop and the output common
 * to this and oracle/vfio/probe.c are in oracle/oplist.h (exactness and safety
 * rules are described there).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/personality.h>
#include <sys/rseq.h>
#include <sys/wait.h>

#define OPLIST_PROG "recorder"
#define MAPS_BUF (64u << 20)
#define MAX_FILES 64

struct file {
	char id[64];
	char kind[16];
	uint64_t size;
	int fd;
	char path[4096];      /* path as created (for unlink), empty for memfd */
	char maps_path[4096]; /* as /proc/self/maps shows it, without " (deleted)" */
};

#include "oplist.h"

/* ---- files (used before/after the ops only) ------------------------------ */

static void parse_file_line(char **tok, int nt)
{
	if (nt != 4)
		die("bad file line for '%s'", nt > 1 ? tok[1] : "?");
	struct file *f = add_file();
	if (strlen(tok[1]) >= sizeof f->id || strlen(tok[2]) >= sizeof f->kind)
		die("file id or kind too long: %s", tok[1]);
	strcpy(f->id, tok[1]);
	strcpy(f->kind, tok[2]);
	f->size = parse_u64(tok[3], "file size");
	f->fd = -1;
}

static void create_files(const char *ext4dir)
{
	pid_t pid = getpid();
	for (int i = 0; i < n_files; i++) {
		struct file *f = &files[i];
		if (!strcmp(f->kind, "memfd")) {
			f->fd = (int)syscall(SYS_memfd_create, f->id, 0);
			if (f->fd < 0)
				die("memfd_create(%s) failed", f->id);
			f->path[0] = 0;
		} else if (!strcmp(f->kind, "ext4") || !strcmp(f->kind, "tmpfs")) {
			const char *dir = !strcmp(f->kind, "ext4") ? ext4dir : "/dev/shm";
			if (strlen(dir) > sizeof f->path - 100)
				die("directory name too long: %s", dir);
			snprintf(f->path, sizeof f->path, "%.3900s/pfnmap-%d-%.60s", dir, (int)pid, f->id);
			f->fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC, 0600);
			if (f->fd < 0)
				die("cannot create %s", f->path);
		} else {
			die("unknown file kind '%s'", f->kind);
		}
		if (ftruncate(f->fd, (off_t)f->size) != 0)
			die("ftruncate failed for %s", f->id);
		ssize_t n = read_fd_link(f);
		const char *del = " (deleted)";
		size_t dl = strlen(del);
		if ((size_t)n >= dl && !strcmp(f->maps_path + n - dl, del))
			f->maps_path[n - dl] = 0;
	}
}

/* ---- ASLR facts (after the final snapshot) -------------------------------- */

/* A system call without libc: the probe's child has unmapped libc. */
static long raw_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
	long ret;
#ifdef __aarch64__
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;
	__asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
	ret = x0;
#else
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
#endif
	return ret;
}

/*
 * This task's mmap_base, or 0 if it cannot be measured. fork() copies mm->mmap_base, so a
 * child can spend its copy of the address space: it unmaps everything from PROBE_LOW (above
 * any PIE image or heap, below any mmap_base of a 47-bit task) up to its stack — libc and
 * ld.so too, hence raw system calls and no return — and maps one page with no hint. The
 * top-down search then finds free room right up to mmap_base (the stack's guard gap starts
 * above it) and returns mmap_base - 4096. The parent's address space is not touched.
 * First the child unregisters glibc's rseq area (it lies in the TLS block, which is in the
 * range unmapped): the kernel writes it on return to user space and would otherwise kill
 * the child with SIGSEGV whenever it was preempted or migrated.
 */
#define PROBE_LOW 0x600000000000ULL
static uint64_t probe_mmap_base(void)
{
	uint64_t stack_lo = 0, here = (uint64_t)(uintptr_t)&stack_lo;
	for (size_t i = 0; i < n_initial_vmas; i++)
		if (initial_vmas[i].start <= here && here < initial_vmas[i].end)
			stack_lo = initial_vmas[i].start;
	int p[2];
	if (stack_lo <= PROBE_LOW || pipe(p) != 0)
		return 0;
	pid_t pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		uint64_t v = 0;
		int rseq_ok = __rseq_size == 0; /* not registered */
		if (!rseq_ok) {
			long area = (long)((char *)__builtin_thread_pointer() + __rseq_offset);
			/* glibc registers 32 bytes (struct rseq); __rseq_size may say fewer (its feature size) */
			rseq_ok = raw_syscall6(SYS_rseq, area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG, 0, 0) == 0 ||
				  raw_syscall6(SYS_rseq, area, __rseq_size, RSEQ_FLAG_UNREGISTER, RSEQ_SIG, 0, 0) == 0;
		}
		if (rseq_ok && raw_syscall6(SYS_munmap, (long)PROBE_LOW, (long)(stack_lo - PROBE_LOW), 0, 0, 0, 0) == 0) {
			long a = raw_syscall6(SYS_mmap, 0, (long)PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if ((unsigned long)a < -4095UL)
				v = (uint64_t)a + PAGE;
		}
		raw_syscall6(SYS_write, p[1], (long)&v, sizeof v, 0, 0, 0);
		for (;;)
			raw_syscall6(SYS_exit_group, 0, 0, 0, 0, 0, 0);
	}
	close(p[1]);
	uint64_t v = 0;
	if (read(p[0], &v, sizeof v) != (ssize_t)sizeof v)
		v = 0;
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	return v;
}

/* PF_RANDOMIZE is set at exec unless the personality has ADDR_NO_RANDOMIZE or
 * kernel.randomize_va_space is 0. */
static void print_aslr(void)
{
	int pers = personality(0xffffffff);
	long long va = read_long_file("/proc/sys/kernel/randomize_va_space");
	int randomize = pers != -1 && !(pers & ADDR_NO_RANDOMIZE) && va != 0;
	long long bits = read_long_file("/proc/sys/vm/mmap_rnd_bits"); /* -1: not readable */
	uint64_t base = randomize ? probe_mmap_base() : 0;
	printf("aslr randomize %d mmap_rnd_bits %lld mmap_base 0x%llx\n", randomize, bits, (unsigned long long)base);
}

static void cleanup_files(void)
{
	for (int i = 0; i < n_files; i++)
		if (files[i].path[0])
			unlink(files[i].path);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: recorder OPSFILE EXT4DIR\n");
		return 2;
	}
	parse_input(argv[1]);
	struct env env;
	read_env(&env);
	create_files(argv[2]);

	if (record_ops() != 0) {
		cleanup_files();
		die("%s", "cannot read /proc/self/maps (final)");
	}

	for (int i = 0; i < n_files; i++)
		printf("file %s %s\n", files[i].id, files[i].maps_path);
	print_maps("initial-maps", maps_initial, maps_initial_len);
	for (long i = 0; i < n_ops; i++)
		print_result(i, &results[i]);
	print_ns();
	print_maps("final-maps", maps_final, maps_final_len);
	print_env(&env);
	printf("\n");
	fflush(stdout);
	print_aslr();
	if (fflush(stdout) != 0) {
		cleanup_files();
		return 3;
	}
	cleanup_files();
	return 0;
}
