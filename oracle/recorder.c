/*
 * recorder — runs a list of mmap/munmap/mprotect calls in the live kernel and
 * prints what happened (the raw material of a pfnmap-trace/1 trace).
 *
 * Usage: recorder OPSFILE EXT4DIR > out.txt     (run under `setarch -R`)
 *
 * OPSFILE (text):
 *   file <id> <memfd|ext4|tmpfs> <sizeHex>
 *   op mmap <addrSpec> <lenHex> <protNum> <flagsNum> <fileIndex|-1> <offsetHex>
 *   op munmap <addrSpec> <lenHex>
 *   op mprotect <addrSpec> <lenHex> <protNum>
 * addrSpec: 0x… absolute, or @K, @K+0x…, @K-0x… (K = earlier op index; its
 * returned address, 0 if it failed or was skipped; arithmetic mod 2^64).
 *
 * Exactness: everything (parsing, files, buffers, stack growth, lazy symbol
 * binding) happens before the initial /proc/self/maps snapshot. Between the two
 * snapshots the process only runs the ops: no malloc, no stdio, no stack growth.
 *
 * Safety: an op that could unmap, replace or mprotect any VMA present in the
 * initial snapshot is not run (reported as `skipped`), unless the kernel is
 * certain to reject it before touching the address space.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define PAGE 4096ULL
#define PAGE_MASK_LOW (PAGE - 1)
#define TASK_SIZE_47 0x7ffffffff000ULL
#define TASK_SIZE_56 0xfffffffffff000ULL /* (1<<56) - PAGE */

#define MAPS_BUF (64u << 20)
#define MAX_INITIAL_VMAS 65536
#define MAX_FILES 64

/* ---- static storage: all reserved before the initial snapshot ---------- */

static char maps_initial[MAPS_BUF];
static char maps_final[MAPS_BUF];
static size_t maps_initial_len, maps_final_len;

struct range { uint64_t start, end; };
static struct range initial_vmas[MAX_INITIAL_VMAS];
static size_t n_initial_vmas;

enum op_kind { OP_MMAP, OP_MUNMAP, OP_MPROTECT };
enum addr_kind { ADDR_ABS, ADDR_REL_PLUS, ADDR_REL_MINUS };

struct op {
	enum op_kind kind;
	enum addr_kind akind;
	uint64_t aval;   /* absolute address, or offset for relative */
	long ref;        /* K for relative */
	uint64_t len;
	int prot;
	int flags;
	int file;        /* file index or -1 */
	uint64_t offset;
};

enum res_kind { RES_OK, RES_ERR, RES_SKIPPED };
struct result {
	enum res_kind kind;
	uint64_t ret;
	int err;
	long long ns;
};

struct file {
	char id[64];
	char kind[16];
	uint64_t size;
	int fd;
	char path[4096];      /* path as created (for unlink), empty for memfd */
	char maps_path[4096]; /* as /proc/self/maps shows it, without " (deleted)" */
};

static struct file files[MAX_FILES];
static int n_files;
static struct op *ops;
static struct result *results;
static long n_ops;
static uint64_t task_size = TASK_SIZE_47;

/* ---- helpers (used before/after the ops only) ---------------------------- */

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "recorder: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(2);
}

static uint64_t parse_u64(const char *s, const char *what)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		die("bad number for %s", what);
	return (uint64_t)v;
}

static void parse_addr(const char *s, struct op *op, long index)
{
	if (s[0] != '@') {
		op->akind = ADDR_ABS;
		op->aval = parse_u64(s, "address");
		return;
	}
	char *end;
	errno = 0;
	long k = strtol(s + 1, &end, 10);
	if (errno || end == s + 1 || k < 0 || k >= index)
		die("bad relative address '%s' (must name an earlier op)", s);
	op->ref = k;
	if (*end == 0) {
		op->akind = ADDR_REL_PLUS;
		op->aval = 0;
	} else if (*end == '+' || *end == '-') {
		op->akind = *end == '+' ? ADDR_REL_PLUS : ADDR_REL_MINUS;
		op->aval = parse_u64(end + 1, "relative offset");
	} else {
		die("bad relative address '%s'", s);
	}
}

static char *slurp(const char *path, size_t *len_out)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	if (!buf)
		die("%s", "out of memory");
	for (;;) {
		if (len + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				die("%s", "out of memory");
		}
		size_t n = fread(buf + len, 1, cap - len - 1, f);
		if (n == 0)
			break;
		len += n;
	}
	fclose(f);
	buf[len] = 0;
	if (len_out)
		*len_out = len;
	return buf;
}

static void parse_input(const char *path)
{
	size_t len;
	char *text = slurp(path, &len);
	if (!text)
		die("cannot read %s", path);
	long lines = 1;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	ops = calloc((size_t)lines + 1, sizeof *ops);
	results = calloc((size_t)lines + 1, sizeof *results);
	if (!ops || !results)
		die("%s", "out of memory");

	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tok[10];
		int nt = 0;
		char *s2 = NULL;
		for (char *t = strtok_r(line, " \t\r", &s2); t && nt < 10; t = strtok_r(NULL, " \t\r", &s2))
			tok[nt++] = t;
		if (nt == 0 || tok[0][0] == '#')
			continue;
		if (!strcmp(tok[0], "file")) {
			if (nt != 4)
				die("bad file line for '%s'", nt > 1 ? tok[1] : "?");
			if (n_ops)
				die("%s", "file lines must come before op lines");
			if (n_files >= MAX_FILES)
				die("%s", "too many files");
			struct file *f = &files[n_files++];
			if (strlen(tok[1]) >= sizeof f->id || strlen(tok[2]) >= sizeof f->kind)
				die("file id or kind too long: %s", tok[1]);
			strcpy(f->id, tok[1]);
			strcpy(f->kind, tok[2]);
			f->size = parse_u64(tok[3], "file size");
			f->fd = -1;
		} else if (!strcmp(tok[0], "op")) {
			if (nt < 2)
				die("%s", "bad op line");
			struct op *op = &ops[n_ops];
			op->file = -1;
			if (!strcmp(tok[1], "mmap")) {
				if (nt != 8)
					die("%s", "bad mmap line");
				op->kind = OP_MMAP;
				parse_addr(tok[2], op, n_ops);
				op->len = parse_u64(tok[3], "length");
				op->prot = (int)strtol(tok[4], NULL, 0);
				op->flags = (int)strtol(tok[5], NULL, 0);
				op->file = (int)strtol(tok[6], NULL, 10);
				op->offset = parse_u64(tok[7], "offset");
				if (op->file < -1 || op->file >= n_files)
					die("bad file index in op: %s", tok[6]);
			} else if (!strcmp(tok[1], "munmap")) {
				if (nt != 4)
					die("%s", "bad munmap line");
				op->kind = OP_MUNMAP;
				parse_addr(tok[2], op, n_ops);
				op->len = parse_u64(tok[3], "length");
			} else if (!strcmp(tok[1], "mprotect")) {
				if (nt != 5)
					die("%s", "bad mprotect line");
				op->kind = OP_MPROTECT;
				parse_addr(tok[2], op, n_ops);
				op->len = parse_u64(tok[3], "length");
				op->prot = (int)strtol(tok[4], NULL, 0);
			} else {
				die("unknown op '%s'", tok[1]);
			}
			n_ops++;
		} else {
			die("unknown line kind '%s'", tok[0]);
		}
	}
	free(text);
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
		char link[64];
		snprintf(link, sizeof link, "/proc/self/fd/%d", f->fd);
		ssize_t n = readlink(link, f->maps_path, sizeof f->maps_path - 1);
		if (n < 0)
			die("readlink failed for %s", f->id);
		f->maps_path[n] = 0;
		const char *del = " (deleted)";
		size_t dl = strlen(del);
		if ((size_t)n >= dl && !strcmp(f->maps_path + n - dl, del))
			f->maps_path[n - dl] = 0;
	}
}

static void cleanup_files(void)
{
	for (int i = 0; i < n_files; i++)
		if (files[i].path[0])
			unlink(files[i].path);
}

static long long read_long_file(const char *path)
{
	char *t = slurp(path, NULL);
	if (!t)
		return -1;
	long long v = strtoll(t, NULL, 10);
	free(t);
	return v;
}

struct env {
	long long mmap_min_addr, max_map_count, overcommit_memory;
	unsigned long long commit_pages;
	char shmem_enabled[64];
	int la57;
};

static void read_env(struct env *e)
{
	e->mmap_min_addr = read_long_file("/proc/sys/vm/mmap_min_addr");
	e->max_map_count = read_long_file("/proc/sys/vm/max_map_count");
	e->overcommit_memory = read_long_file("/proc/sys/vm/overcommit_memory");

	unsigned long long kb = 0;
	char *mi = slurp("/proc/meminfo", NULL);
	if (mi) {
		const char *keys[] = { "MemTotal:", "SwapTotal:" };
		for (int k = 0; k < 2; k++) {
			char *p = strstr(mi, keys[k]);
			if (p)
				kb += strtoull(p + strlen(keys[k]), NULL, 10);
		}
		free(mi);
	}
	e->commit_pages = kb / 4;

	strcpy(e->shmem_enabled, "unknown");
	char *sh = slurp("/sys/kernel/mm/transparent_hugepage/shmem_enabled", NULL);
	if (sh) {
		char *a = strchr(sh, '['), *b = a ? strchr(a, ']') : NULL;
		if (a && b && (size_t)(b - a - 1) < sizeof e->shmem_enabled) {
			memcpy(e->shmem_enabled, a + 1, (size_t)(b - a - 1));
			e->shmem_enabled[b - a - 1] = 0;
		}
		free(sh);
	}

	e->la57 = 0;
	char *ci = slurp("/proc/cpuinfo", NULL);
	if (ci) {
		char *fl = strstr(ci, "\nflags");
		if (fl) {
			char *eol = strchr(fl + 1, '\n');
			if (eol)
				*eol = 0;
			for (char *p = strstr(fl, " la57"); p; p = strstr(p + 1, " la57"))
				if (p[5] == ' ' || p[5] == 0)
					e->la57 = 1;
		}
		free(ci);
	}
}

/* Fill the stack so that [stack] does not grow during the ops. */
static __attribute__((noinline)) void pretouch_stack(void)
{
	volatile char pad[256 * 1024];
	for (size_t i = 0; i < sizeof pad; i += 512)
		pad[i] = (char)i;
	pad[sizeof pad - 1] = 0;
}

/* Raw read of /proc/self/maps: no stdio, no allocation. */
static size_t snapshot_maps(char *buf, size_t cap)
{
	long fd = syscall(SYS_open, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return (size_t)-1;
	size_t len = 0;
	for (;;) {
		if (len >= cap - 1) {
			syscall(SYS_close, fd);
			return (size_t)-1;
		}
		long n = syscall(SYS_read, fd, buf + len, cap - 1 - len);
		if (n < 0) {
			syscall(SYS_close, fd);
			return (size_t)-1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	syscall(SYS_close, fd);
	buf[len] = 0;
	return len;
}

static void parse_initial_vmas(void)
{
	const char *p = maps_initial, *end = maps_initial + maps_initial_len;
	while (p < end) {
		char *q;
		uint64_t s = strtoull(p, &q, 16);
		if (*q != '-')
			die("%s", "cannot parse /proc/self/maps");
		uint64_t e = strtoull(q + 1, &q, 16);
		if (n_initial_vmas >= MAX_INITIAL_VMAS)
			die("%s", "too many initial VMAs");
		initial_vmas[n_initial_vmas].start = s;
		initial_vmas[n_initial_vmas].end = e;
		n_initial_vmas++;
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		p = nl + 1;
	}
}

/* ---- the op loop: no allocation, no stdio ------------------------------- */

/* Does [start, start+len) (len > 0, may reach 2^64 exactly) meet an initial VMA? */
static int hits_initial(uint64_t start, uint64_t len)
{
	uint64_t last = start + (len - 1); /* caller guarantees no wrap */
	for (size_t i = 0; i < n_initial_vmas; i++)
		if (start < initial_vmas[i].end && last >= initial_vmas[i].start)
			return 1;
	return 0;
}

static uint64_t page_align(uint64_t x) { return (x + PAGE_MASK_LOW) & ~PAGE_MASK_LOW; }

/* 1 = safe to run, 0 = must skip. */
static int safe_munmap(uint64_t start, uint64_t len)
{
	if ((start & PAGE_MASK_LOW) || len == 0 || start > task_size || len > task_size - start)
		return 1; /* -EINVAL before anything happens */
	return !hits_initial(start, page_align(len));
}

static int safe_mprotect(uint64_t start, uint64_t len)
{
	if (start & PAGE_MASK_LOW)
		return 1; /* -EINVAL */
	if (len == 0)
		return 1; /* no-op, returns 0 */
	uint64_t alen = page_align(len);
	if (alen == 0)
		return 1; /* PAGE_ALIGN wrapped: -ENOMEM */
	if (start + alen <= start)
		return 1; /* end wraps (end <= start): -ENOMEM */
	return !hits_initial(start, alen);
}

static int safe_mmap(uint64_t addr, uint64_t len, int flags, uint64_t offset)
{
	if (!(flags & MAP_FIXED) || (flags & MAP_FIXED_NOREPLACE))
		return 1; /* never replaces an existing mapping */
	if (offset & PAGE_MASK_LOW)
		return 1; /* -EINVAL */
	if (len == 0)
		return 1; /* -EINVAL */
	uint64_t alen = page_align(len);
	if (alen == 0)
		return 1; /* -ENOMEM */
	if (addr & PAGE_MASK_LOW)
		return 1; /* -EINVAL */
	if (alen > task_size || addr > task_size - alen)
		return 1; /* -ENOMEM */
	return !hits_initial(addr, alen);
}

static inline long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void run_ops(void)
{
	for (long i = 0; i < n_ops; i++) {
		struct op *op = &ops[i];
		struct result *r = &results[i];
		uint64_t addr = op->aval;
		if (op->akind != ADDR_ABS) {
			struct result *b = &results[op->ref];
			uint64_t base = b->kind == RES_OK ? b->ret : 0;
			addr = op->akind == ADDR_REL_PLUS ? base + op->aval : base - op->aval;
		}
		int safe;
		switch (op->kind) {
		case OP_MMAP: safe = safe_mmap(addr, op->len, op->flags, op->offset); break;
		case OP_MUNMAP: safe = safe_munmap(addr, op->len); break;
		default: safe = safe_mprotect(addr, op->len); break;
		}
		if (!safe) {
			r->kind = RES_SKIPPED;
			r->ns = 0;
			continue;
		}
		long ret;
		long long t0 = now_ns();
		switch (op->kind) {
		case OP_MMAP: {
			long fd = op->file >= 0 ? files[op->file].fd : -1;
			ret = syscall(SYS_mmap, addr, op->len, (long)op->prot, (long)op->flags, fd, op->offset);
			break;
		}
		case OP_MUNMAP:
			ret = syscall(SYS_munmap, addr, op->len);
			break;
		default:
			ret = syscall(SYS_mprotect, addr, op->len, (long)op->prot);
			break;
		}
		int err = errno;
		long long t1 = now_ns();
		r->ns = t1 - t0;
		if (ret == -1) {
			r->kind = RES_ERR;
			r->err = err;
		} else {
			r->kind = RES_OK;
			r->ret = op->kind == OP_MMAP ? (uint64_t)ret : 0;
		}
	}
}

/* ---- output ------------------------------------------------------------- */

static const char *errno_name(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENFILE: return "ENFILE";
	case EMFILE: return "EMFILE";
	case ETXTBSY: return "ETXTBSY";
	case EFBIG: return "EFBIG";
	case ENOSPC: return "ENOSPC";
	case EOVERFLOW: return "EOVERFLOW";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOSYS: return "ENOSYS";
	}
	static char buf[32];
	snprintf(buf, sizeof buf, "E%d", e);
	return buf;
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
	if (env.la57)
		task_size = TASK_SIZE_56;
	create_files(argv[2]);

	/* Bind lazily-resolved symbols and warm the vDSO before the snapshot. */
	(void)now_ns();
	(void)syscall(SYS_getpid);
	(void)errno_name(0);
	pretouch_stack();

	/* Fault in the result array (it was calloc'ed; touching keeps the kernel
	 * from doing anything visible later — VMAs do not change on faults). */
	memset(results, 0, (size_t)n_ops * sizeof *results);

	maps_initial_len = snapshot_maps(maps_initial, MAPS_BUF);
	if (maps_initial_len == (size_t)-1)
		die("%s", "cannot read /proc/self/maps (initial)");
	parse_initial_vmas();

	run_ops();

	maps_final_len = snapshot_maps(maps_final, MAPS_BUF);
	if (maps_final_len == (size_t)-1) {
		cleanup_files();
		die("%s", "cannot read /proc/self/maps (final)");
	}

	for (int i = 0; i < n_files; i++)
		printf("file %s %s\n", files[i].id, files[i].maps_path);
	printf("initial-maps\n");
	fwrite(maps_initial, 1, maps_initial_len, stdout);
	if (maps_initial_len && maps_initial[maps_initial_len - 1] != '\n')
		putchar('\n');
	printf("end\n");
	for (long i = 0; i < n_ops; i++) {
		struct result *r = &results[i];
		if (r->kind == RES_OK)
			printf("result %ld ret 0x%llx\n", i, (unsigned long long)r->ret);
		else if (r->kind == RES_ERR)
			printf("result %ld errno %s\n", i, errno_name(r->err));
		else
			printf("result %ld skipped\n", i);
	}
	for (long i = 0; i < n_ops; i++)
		printf("ns %ld %lld\n", i, results[i].ns);
	printf("final-maps\n");
	fwrite(maps_final, 1, maps_final_len, stdout);
	if (maps_final_len && maps_final[maps_final_len - 1] != '\n')
		putchar('\n');
	printf("end\n");
	printf("env mmap_min_addr %lld max_map_count %lld overcommit_memory %lld commit_pages %llu "
	       "shmem_enabled %s la57 %d\n",
	       env.mmap_min_addr, env.max_map_count, env.overcommit_memory, env.commit_pages,
	       env.shmem_enabled, env.la57);
	if (fflush(stdout) != 0) {
		cleanup_files();
		return 3;
	}
	cleanup_files();
	return 0;
}
