/*
 * oplist.h — what oracle/recorder.c and oracle/vfio/probe.c share: reading an
 * op list, the /proc/self/maps snapshots into static buffers, the safety guard,
 * the op loop for mmap/munmap/mprotect, and the output they print alike.
 * Static functions only, so that each program stays one compilation unit.
 *
 * OPSFILE (text; each program adds its own file kinds and ops):
 *   file <id> ...                         (parse_file_line, in the program)
 *   op mmap <addrSpec> <lenHex> <protNum> <flagsNum> <fileIndex|-1> <offsetHex>
 *   op munmap <addrSpec> <lenHex>
 *   op mprotect <addrSpec> <lenHex> <protNum>
 * addrSpec: 0x… absolute, or @K, @K+0x…, @K-0x… (K = earlier op index; its
 * returned address, 0 if it failed or was skipped; arithmetic mod 2^64). With
 * OPLIST_ALIGN_SPEC also @K^0xA, @K^0xA+0x…, @K^0xA-0x…: the first multiple of A
 * (a power of two) that is >= the address op K returned, then plus/minus the offset.
 *
 * Exactness: everything (parsing, files, buffers, stack growth, lazy symbol
 * binding) happens before the initial /proc/self/maps snapshot. Between the two
 * snapshots the process only runs the ops: no malloc, no stdio, no stack growth.
 *
 * Safety: an op that could unmap, replace or mprotect any VMA present in the
 * initial snapshot is not run (reported as `skipped`), unless the kernel is
 * certain to reject it before touching the address space.
 *
 * The including program defines, before the #include:
 *   OPLIST_PROG        its name, the prefix of error messages
 *   MAPS_BUF           the size of each maps snapshot buffer
 *   MAX_FILES          how many `file` lines it takes
 *   struct file        with at least: char id[]; int fd; char maps_path[];
 *   OPLIST_DIE_ERRNO   (optional) error messages end with the errno
 *   OPLIST_ALIGN_SPEC  (optional) accept `^` address specs
 *   OPLIST_EXTRA_OPS   (optional) it has ops beyond mmap/munmap/mprotect and
 *                      defines the hooks declared below under that name
 * and, after it, parse_file_line().
 */
#ifndef PFNMAP_OPLIST_H
#define PFNMAP_OPLIST_H

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

/* The base page size: 4096 on x86_64; on arm64 4096, 16384 or 65536 (read_env sets it). */
static uint64_t oplist_page = 4096;
#define PAGE oplist_page
#define PAGE_MASK_LOW (PAGE - 1)
#define TASK_SIZE_47 0x7ffffffff000ULL
#define TASK_SIZE_56 0xfffffffffff000ULL /* (1<<56) - PAGE */
/* arm64: the largest TASK_SIZE of any config (VA_BITS=52); the safety guard only needs an
 * upper bound (a larger one lets more ops reach the overlap check, never fewer). */
#define TASK_SIZE_ARM64_MAX (1ULL << 52)

#define MAX_INITIAL_VMAS 65536

/* aarch64 has no open(2) */
#ifdef SYS_open
#define OPLIST_OPEN(path, flags) syscall(SYS_open, (path), (flags))
#else
#define OPLIST_OPEN(path, flags) syscall(SYS_openat, AT_FDCWD, (path), (flags))
#endif

/* ---- static storage: all reserved before the initial snapshot ---------- */

static char maps_initial[MAPS_BUF];
static char maps_final[MAPS_BUF];
static size_t maps_initial_len, maps_final_len;

struct range { uint64_t start, end; };
static struct range initial_vmas[MAX_INITIAL_VMAS];
static size_t n_initial_vmas;

/* Op kinds: the shared three, then the program's own from OP_FIRST_EXTRA on. */
enum { OP_MMAP, OP_MUNMAP, OP_MPROTECT, OP_MADVISE, OP_FIRST_EXTRA };
enum addr_kind { ADDR_ABS, ADDR_REL };

struct op {
	int kind;
	enum addr_kind akind;
	uint64_t aval;  /* absolute address, or offset for relative (two's complement for minus) */
	uint64_t align; /* 0, or the alignment of a `^` spec */
	long ref;       /* K for relative */
	uint64_t len;
	int prot;
	int flags;
	int advice;     /* madvise: MADV_HUGEPAGE (14) or MADV_NOHUGEPAGE (15) */
	int file;       /* file index or -1 */
	uint64_t offset;
};

enum res_kind { RES_OK, RES_ERR, RES_SKIPPED, RES_SIGNAL };
struct result {
	enum res_kind kind;
	uint64_t ret;
	uint64_t addr; /* resolved address */
	int err;       /* errno, or the signal number (RES_SIGNAL) */
	long faults, majfaults;
	long long ns;
};

static struct file files[MAX_FILES];
static int n_files;
static struct op *ops;
static struct result *results;
static long n_ops;
#ifdef __aarch64__
static uint64_t task_size = TASK_SIZE_ARM64_MAX;
#else
static uint64_t task_size = TASK_SIZE_47;
#endif

/* Defined by the including program. */
static void parse_file_line(char **tok, int nt);
#ifdef OPLIST_EXTRA_OPS
/* An op line whose name is not mmap/munmap/mprotect: fill *op, return 0 if unknown. */
static int parse_extra_op(char **tok, int nt, struct op *op);
/* 1 = safe to run, 0 = must skip. */
static int safe_extra_op(const struct op *op, uint64_t addr);
/* Runs the op between the timestamps; returns 1 if *ret is a syscall result to
 * record, 0 if it filled in *r itself. No allocation, no stdio. */
static int run_extra_op(const struct op *op, uint64_t addr, struct result *r, long *ret);
/* Called after every op that ran (not after skipped ones) with its result. */
static void after_op(long i, const struct result *r);
#endif

/* ---- helpers (used before/after the ops only) ---------------------------- */

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, OPLIST_PROG ": ");
	fprintf(stderr, fmt, arg);
#ifdef OPLIST_DIE_ERRNO
	fprintf(stderr, " (errno %d: %s)\n", errno, strerror(errno));
#else
	fprintf(stderr, "\n");
#endif
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
	op->align = 0;
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
	op->akind = ADDR_REL;
	op->ref = k;
	op->aval = 0;
#ifdef OPLIST_ALIGN_SPEC
	if (*end == '^') {
		char *e2;
		errno = 0;
		unsigned long long a = strtoull(end + 1, &e2, 0);
		if (errno || e2 == end + 1 || a == 0 || (a & (a - 1)))
			die("bad alignment in '%s' (a power of two)", s);
		op->align = a;
		end = e2;
	}
#endif
	if (*end == 0)
		return;
	if (*end == '+' || *end == '-') {
		uint64_t off = parse_u64(end + 1, "relative offset");
		op->aval = *end == '+' ? off : (uint64_t)0 - off;
		return;
	}
	die("bad relative address '%s'", s);
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

/* For parse_file_line: checks the order and count, returns the next slot. */
static struct file *add_file(void)
{
	if (n_ops)
		die("%s", "file lines must come before op lines");
	if (n_files >= MAX_FILES)
		die("%s", "too many files");
	return &files[n_files++];
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
			parse_file_line(tok, nt);
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
			} else if (!strcmp(tok[1], "madvise")) {
				if (nt != 5)
					die("%s", "bad madvise line");
				op->kind = OP_MADVISE;
				parse_addr(tok[2], op, n_ops);
				op->len = parse_u64(tok[3], "length");
				if (!strcmp(tok[4], "HUGEPAGE"))
					op->advice = 14; /* MADV_HUGEPAGE */
				else if (!strcmp(tok[4], "NOHUGEPAGE"))
					op->advice = 15; /* MADV_NOHUGEPAGE */
				else
					die("unknown advice '%s'", tok[4]);
#ifdef OPLIST_EXTRA_OPS
			} else if (parse_extra_op(tok, nt, op)) {
				/* the program's own op */
#endif
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

/* Copies the /proc/self/fd/<fd> link of f->fd into f->maps_path. */
static ssize_t read_fd_link(struct file *f)
{
	char link[64];
	snprintf(link, sizeof link, "/proc/self/fd/%d", f->fd);
	ssize_t n = readlink(link, f->maps_path, sizeof f->maps_path - 1);
	if (n < 0)
		die("readlink failed for %s", f->id);
	f->maps_path[n] = 0;
	return n;
}

/* ---- environment --------------------------------------------------------- */

static long long read_long_file(const char *path)
{
	char *t = slurp(path, NULL);
	if (!t)
		return -1;
	long long v = strtoll(t, NULL, 10);
	free(t);
	return v;
}

/* The [selected] word of a sysfs choice file, or "unknown". */
static void read_bracketed(const char *path, char *out, size_t cap)
{
	snprintf(out, cap, "unknown");
	char *sh = slurp(path, NULL);
	if (!sh)
		return;
	char *a = strchr(sh, '['), *b = a ? strchr(a, ']') : NULL;
	if (a && b && (size_t)(b - a - 1) < cap) {
		memcpy(out, a + 1, (size_t)(b - a - 1));
		out[b - a - 1] = 0;
	}
	free(sh);
}

struct env {
	long long mmap_min_addr, max_map_count, overcommit_memory;
	unsigned long long commit_pages;
	char shmem_enabled[64];
	int la57;
	long long page_size;
};

static void read_env(struct env *e)
{
	long ps = sysconf(_SC_PAGESIZE);
	if (ps > 0)
		oplist_page = (uint64_t)ps;
	e->page_size = (long long)oplist_page;
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
	e->commit_pages = kb / (oplist_page / 1024);
	read_bracketed("/sys/kernel/mm/transparent_hugepage/shmem_enabled", e->shmem_enabled, sizeof e->shmem_enabled);

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
#ifndef __aarch64__
	if (e->la57)
		task_size = TASK_SIZE_56;
#endif
}

/* ---- snapshots ----------------------------------------------------------- */

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
	long fd = OPLIST_OPEN("/proc/self/maps", O_RDONLY | O_CLOEXEC);
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
			if (op->align)
				base = (base + (op->align - 1)) & ~(op->align - 1);
			addr = base + op->aval;
		}
		r->addr = addr;
		int safe;
		switch (op->kind) {
		case OP_MMAP: safe = safe_mmap(addr, op->len, op->flags, op->offset); break;
		case OP_MUNMAP: safe = safe_munmap(addr, op->len); break;
		case OP_MPROTECT: safe = safe_mprotect(addr, op->len); break;
		/* MADV_(NO)HUGEPAGE only changes VM flags, but may split the program's own VMAs */
		case OP_MADVISE: safe = safe_mprotect(addr, op->len); break;
#ifdef OPLIST_EXTRA_OPS
		default: safe = safe_extra_op(op, addr); break;
#else
		default: safe = 0; break;
#endif
		}
		if (!safe) {
			r->kind = RES_SKIPPED;
			r->ns = 0;
			continue;
		}
		long ret = 0;
		int record = 1;
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
		case OP_MPROTECT:
			ret = syscall(SYS_mprotect, addr, op->len, (long)op->prot);
			break;
		case OP_MADVISE:
			ret = syscall(SYS_madvise, addr, op->len, (long)op->advice);
			break;
#ifdef OPLIST_EXTRA_OPS
		default:
			record = run_extra_op(op, addr, r, &ret);
			break;
#endif
		}
		int err = errno;
		long long t1 = now_ns();
		r->ns = t1 - t0;
		if (record) {
			if (ret == -1) {
				r->kind = RES_ERR;
				r->err = err;
			} else {
				r->kind = RES_OK;
				r->ret = op->kind == OP_MMAP ? (uint64_t)ret : 0;
			}
		}
#ifdef OPLIST_EXTRA_OPS
		after_op(i, r);
#endif
	}
}

/* ---- output ------------------------------------------------------------- */

static const char *errno_name(int e)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 32)
	/* glibc's own names, as pfnmap-trace/1 writes errnos */
	const char *gn = strerrorname_np(e);
	if (gn)
		return gn;
#endif
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

/*
 * Runs the ops between the two snapshots. Call it when everything else is
 * ready (files open, lazy symbols bound); returns 0, or -1 if the final
 * snapshot could not be read (errno tells why).
 */
static int record_ops(void)
{
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
	return maps_final_len == (size_t)-1 ? -1 : 0;
}

static void print_maps(const char *title, const char *buf, size_t len)
{
	printf("%s\n", title);
	fwrite(buf, 1, len, stdout);
	if (len && buf[len - 1] != '\n')
		putchar('\n');
	printf("end\n");
}

/* A result line for the kinds every program has; 0 if r is of another kind. */
static int print_result(long i, const struct result *r)
{
	if (r->kind == RES_OK)
		printf("result %ld ret 0x%llx\n", i, (unsigned long long)r->ret);
	else if (r->kind == RES_ERR)
		printf("result %ld errno %s\n", i, errno_name(r->err));
	else if (r->kind == RES_SKIPPED)
		printf("result %ld skipped\n", i);
	else
		return 0;
	return 1;
}

static void print_ns(void)
{
	for (long i = 0; i < n_ops; i++)
		printf("ns %ld %lld\n", i, results[i].ns);
}

/* The start of the env line; the program adds its own fields and the newline. */
static void print_env(const struct env *e)
{
	printf("env mmap_min_addr %lld max_map_count %lld overcommit_memory %lld commit_pages %llu "
	       "shmem_enabled %s la57 %d page_size %lld",
	       e->mmap_min_addr, e->max_map_count, e->overcommit_memory, e->commit_pages,
	       e->shmem_enabled, e->la57, e->page_size);
}

#endif /* PFNMAP_OPLIST_H */
