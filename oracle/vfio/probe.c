/*
 * probe — the VFIO counterpart of oracle/recorder.c. Runs inside a QEMU guest
 * (as a static binary from the initramfs built by src/oracle/vfio-qemu.ts),
 * opens a vfio-pci device through its IOMMU group, runs a list of
 * mmap/munmap/mprotect/madvise/touch calls on it and prints what happened.
 *
 * Usage: probe OPSFILE > out.txt      (boot the guest with `norandmaps`)
 *
 * OPSFILE (text):
 *   file <id> vfio-pci <bdf>              device (only one file line is supported)
 *   op mmap <addrSpec> <lenHex> <protNum> <flagsNum> <fileIndex|-1> <offsetHex>
 *   op munmap <addrSpec> <lenHex>
 *   op mprotect <addrSpec> <lenHex> <protNum>
 *   op madvise <addrSpec> <lenHex> HUGEPAGE|NOHUGEPAGE
 *   op touch <addrSpec> <lenHex>          read one byte of every 4 KiB page, ascending
 * addrSpec: 0x… absolute; @K, @K+0x…, @K-0x… (K = earlier op index; its returned
 * address, 0 if it failed or was skipped; arithmetic mod 2^64); and
 * @K^0xA, @K^0xA+0x…, @K^0xA-0x…: the first multiple of A (a power of two) that is
 * >= the address op K returned, then plus/minus the offset. The probe prints the
 * address it resolved for every op (`addr <i> 0x…`), so the host can write `^`
 * specs into a trace as absolute addresses.
 *
 * The device's regions appear at file offset index << 40 (vfio-pci).
 *
 * Output, before the ops (but everything is printed after the final snapshot):
 *   file <id> <path of the device fd as /proc/self/maps shows it>
 *   group <n>
 *   region <i> size 0x… flags 0x… offset 0x…     (or: region <i> errno <NAME>)
 *   phys <i> 0x<start> 0x<end> 0x<flags>          (sysfs resource lines 0..6)
 *   initial-maps … end
 *   addr <i> 0x…
 *   result <i> ret 0x… [faults <n> majfaults <m>] | errno <NAME> | signal SIGSEGV|SIGBUS | skipped
 *   ns <i> <n>
 *   final-maps … end
 *   env mmap_min_addr … rlimit_stack 0x… thp_enabled <w> uname <release>
 * With PFNMAP_EAGER set in the environment (hazard boots only), each result is
 * also written to stderr right after its op (see eager_report).
 *
 * Exactness (as in recorder.c): all parsing, opening, buffers, signal handlers,
 * stack growth and lazy binding happen before the initial /proc/self/maps
 * snapshot; between the snapshots only the ops run (raw syscalls, no stdio,
 * no allocation). `faults` is ru_minflt after minus before the touch loop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <linux/vfio.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define PAGE 4096ULL
#define PAGE_MASK_LOW (PAGE - 1)
#define TASK_SIZE_47 0x7ffffffff000ULL
#define TASK_SIZE_56 0xfffffffffff000ULL

#define MAPS_BUF (4u << 20)
#define MAX_INITIAL_VMAS 65536
#define MAX_FILES 4
#define N_REGIONS 9

static char maps_initial[MAPS_BUF];
static char maps_final[MAPS_BUF];
static size_t maps_initial_len, maps_final_len;

struct range { uint64_t start, end; };
static struct range initial_vmas[MAX_INITIAL_VMAS];
static size_t n_initial_vmas;

enum op_kind { OP_MMAP, OP_MUNMAP, OP_MPROTECT, OP_MADVISE, OP_TOUCH };
enum addr_kind { ADDR_ABS, ADDR_REL };

struct op {
	enum op_kind kind;
	enum addr_kind akind;
	uint64_t aval;  /* absolute address, or offset for relative (two's complement for minus) */
	uint64_t align; /* 0, or the alignment of a `^` spec */
	long ref;
	uint64_t len;
	int prot;
	int flags;
	int advice;
	int file;
	uint64_t offset;
};

enum res_kind { RES_OK, RES_ERR, RES_SKIPPED, RES_SIGNAL };
struct result {
	enum res_kind kind;
	uint64_t ret;
	uint64_t addr; /* resolved address */
	int err;       /* errno, or the signal number */
	long faults, majfaults;
	long long ns;
};

struct file {
	char id[64];
	char bdf[64];
	int fd;
	int container, group, group_no;
	char maps_path[4096];
};

static struct file files[MAX_FILES];
static int n_files;
static struct op *ops;
static struct result *results;
static long n_ops;
static uint64_t task_size = TASK_SIZE_47;

static sigjmp_buf touch_env;
static volatile sig_atomic_t touch_signal;
static volatile unsigned char touch_sink;

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "probe: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (errno %d: %s)\n", errno, strerror(errno));
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
	if (*end == '^') {
		char *e2;
		errno = 0;
		unsigned long long a = strtoull(end + 1, &e2, 0);
		if (errno || e2 == end + 1 || a == 0 || (a & (a - 1)))
			die("bad alignment in '%s' (a power of two)", s);
		op->align = a;
		end = e2;
	}
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
			if (nt != 4 || strcmp(tok[2], "vfio-pci"))
				die("bad file line for '%s' (expected: file <id> vfio-pci <bdf>)", nt > 1 ? tok[1] : "?");
			if (n_ops)
				die("%s", "file lines must come before op lines");
			if (n_files >= MAX_FILES)
				die("%s", "too many files");
			struct file *f = &files[n_files++];
			if (strlen(tok[1]) >= sizeof f->id || strlen(tok[3]) >= sizeof f->bdf)
				die("file id or bdf too long: %s", tok[1]);
			strcpy(f->id, tok[1]);
			strcpy(f->bdf, tok[3]);
			f->fd = f->container = f->group = -1;
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
			} else if (!strcmp(tok[1], "munmap") || !strcmp(tok[1], "touch")) {
				if (nt != 4)
					die("bad %s line", tok[1]);
				op->kind = tok[1][0] == 'm' ? OP_MUNMAP : OP_TOUCH;
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

/* ---- VFIO (classic container/group API) --------------------------------- */

static void open_device(struct file *f)
{
	char link[256], target[4096];
	snprintf(link, sizeof link, "/sys/bus/pci/devices/%s/iommu_group", f->bdf);
	ssize_t n = readlink(link, target, sizeof target - 1);
	if (n < 0)
		die("no IOMMU group for %s", f->bdf);
	target[n] = 0;
	const char *slash = strrchr(target, '/');
	f->group_no = atoi(slash ? slash + 1 : target);

	f->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (f->container < 0)
		die("%s", "cannot open /dev/vfio/vfio");
	if (ioctl(f->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		die("%s", "unexpected VFIO API version");
	if (ioctl(f->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) != 1)
		die("%s", "VFIO type1 IOMMU not supported");

	char gpath[64];
	snprintf(gpath, sizeof gpath, "/dev/vfio/%d", f->group_no);
	f->group = open(gpath, O_RDWR | O_CLOEXEC);
	if (f->group < 0)
		die("cannot open %s", gpath);
	struct vfio_group_status st = { .argsz = sizeof st };
	if (ioctl(f->group, VFIO_GROUP_GET_STATUS, &st) != 0)
		die("%s", "VFIO_GROUP_GET_STATUS failed");
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE))
		die("group %s is not viable (bind every device of the group to vfio-pci)", gpath);
	if (ioctl(f->group, VFIO_GROUP_SET_CONTAINER, &f->container) != 0)
		die("%s", "VFIO_GROUP_SET_CONTAINER failed");
	if (ioctl(f->container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) != 0)
		die("%s", "VFIO_SET_IOMMU(TYPE1) failed");
	f->fd = ioctl(f->group, VFIO_GROUP_GET_DEVICE_FD, f->bdf);
	if (f->fd < 0)
		die("VFIO_GROUP_GET_DEVICE_FD(%s) failed", f->bdf);

	snprintf(link, sizeof link, "/proc/self/fd/%d", f->fd);
	n = readlink(link, f->maps_path, sizeof f->maps_path - 1);
	if (n < 0)
		die("readlink failed for %s", f->id);
	f->maps_path[n] = 0;
}

static const char *errno_name(int e);

/* Printed before the snapshot (stdio allocates its buffer here, which is fine). */
static void print_device(struct file *f)
{
	printf("file %s %s\n", f->id, f->maps_path);
	printf("group %d\n", f->group_no);
	for (unsigned i = 0; i < N_REGIONS; i++) {
		struct vfio_region_info ri = { .argsz = sizeof ri, .index = i };
		if (ioctl(f->fd, VFIO_DEVICE_GET_REGION_INFO, &ri) != 0) {
			printf("region %u errno %s\n", i, errno_name(errno));
			continue;
		}
		printf("region %u size 0x%llx flags 0x%x offset 0x%llx\n", i, (unsigned long long)ri.size,
		       ri.flags, (unsigned long long)ri.offset);
	}
	char rpath[256];
	snprintf(rpath, sizeof rpath, "/sys/bus/pci/devices/%s/resource", f->bdf);
	char *res = slurp(rpath, NULL);
	if (!res)
		die("cannot read %s", rpath);
	char *save = NULL;
	int i = 0;
	for (char *line = strtok_r(res, "\n", &save); line && i < 7; line = strtok_r(NULL, "\n", &save), i++)
		printf("phys %d %s\n", i, line);
	free(res);
	fflush(stdout);
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
	unsigned long long commit_pages, rlimit_stack;
	char shmem_enabled[64], thp_enabled[64], release[128];
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
	read_bracketed("/sys/kernel/mm/transparent_hugepage/shmem_enabled", e->shmem_enabled, sizeof e->shmem_enabled);
	read_bracketed("/sys/kernel/mm/transparent_hugepage/enabled", e->thp_enabled, sizeof e->thp_enabled);

	struct rlimit rl;
	e->rlimit_stack = getrlimit(RLIMIT_STACK, &rl) == 0 ? (unsigned long long)rl.rlim_cur : 0;
	struct utsname u;
	snprintf(e->release, sizeof e->release, "%s", uname(&u) == 0 ? u.release : "unknown");

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

/* ---- snapshots ----------------------------------------------------------- */

static __attribute__((noinline)) void pretouch_stack(void)
{
	volatile char pad[256 * 1024];
	for (size_t i = 0; i < sizeof pad; i += 512)
		pad[i] = (char)i;
	pad[sizeof pad - 1] = 0;
}

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

/* ---- the op loop: no allocation, no stdio -------------------------------- */

static int hits_initial(uint64_t start, uint64_t len)
{
	uint64_t last = start + (len - 1);
	for (size_t i = 0; i < n_initial_vmas; i++)
		if (start < initial_vmas[i].end && last >= initial_vmas[i].start)
			return 1;
	return 0;
}

static uint64_t page_align(uint64_t x) { return (x + PAGE_MASK_LOW) & ~PAGE_MASK_LOW; }

static int safe_munmap(uint64_t start, uint64_t len)
{
	if ((start & PAGE_MASK_LOW) || len == 0 || start > task_size || len > task_size - start)
		return 1;
	return !hits_initial(start, page_align(len));
}

static int safe_mprotect(uint64_t start, uint64_t len)
{
	if (start & PAGE_MASK_LOW)
		return 1;
	if (len == 0)
		return 1;
	uint64_t alen = page_align(len);
	if (alen == 0)
		return 1;
	if (start + alen <= start)
		return 1;
	return !hits_initial(start, alen);
}

static int safe_mmap(uint64_t addr, uint64_t len, int flags, uint64_t offset)
{
	if (!(flags & MAP_FIXED) || (flags & MAP_FIXED_NOREPLACE))
		return 1;
	if (offset & PAGE_MASK_LOW)
		return 1;
	if (len == 0)
		return 1;
	uint64_t alen = page_align(len);
	if (alen == 0)
		return 1;
	if (addr & PAGE_MASK_LOW)
		return 1;
	if (alen > task_size || addr > task_size - alen)
		return 1;
	return !hits_initial(addr, alen);
}

/* MADV_HUGEPAGE/NOHUGEPAGE only change VM flags (and may split/merge VMAs); they
 * never unmap, but refuse them on the probe's own mappings anyway. */
static int safe_madvise(uint64_t start, uint64_t len) { return safe_mprotect(start, len); }

static inline long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void on_fault_signal(int sig)
{
	touch_signal = sig;
	siglongjmp(touch_env, 1);
}

static void install_handlers(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_fault_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER;
	if (sigaction(SIGSEGV, &sa, NULL) != 0 || sigaction(SIGBUS, &sa, NULL) != 0)
		die("%s", "sigaction failed");
}

static long minflt_now(long *maj)
{
	struct rusage ru;
	syscall(SYS_getrusage, RUSAGE_SELF, &ru);
	*maj = ru.ru_majflt;
	return ru.ru_minflt;
}

/* Kept out of line so that the registers live across sigsetjmp are in memory. */
static __attribute__((noinline)) void run_touch(uint64_t addr, uint64_t len, struct result *r)
{
	volatile uint64_t p = addr;
	volatile uint64_t end = addr + len;
	long maj0, maj1;
	touch_signal = 0;
	long before = minflt_now(&maj0);
	if (sigsetjmp(touch_env, 1) == 0) {
		for (p = addr & ~PAGE_MASK_LOW; p < end; p += PAGE)
			touch_sink = *(volatile unsigned char *)(uintptr_t)p;
		long after = minflt_now(&maj1);
		r->kind = RES_OK;
		r->ret = 0;
		r->faults = after - before;
		r->majfaults = maj1 - maj0;
	} else {
		r->kind = RES_SIGNAL;
		r->err = touch_signal;
		r->ret = p; /* the faulting page, for diagnostics */
	}
}

/* Hazard runs (PFNMAP_EAGER set): each result also goes straight to fd 2 as
 * `eager <i> <kind> 0x<value> [0x<faults>]`, with raw write(2) and no allocation,
 * so that it survives a kernel oops later in the op list. Not used for traces. */
static int eager;

static char *put_hex(char *p, uint64_t v)
{
	char tmp[16];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	*p++ = '0';
	*p++ = 'x';
	while (n)
		*p++ = tmp[--n];
	return p;
}

static void eager_report(long i, const struct result *r)
{
	char buf[128], *p = buf;
	static const char *kinds[] = { "ret", "errno", "skipped", "signal" };
	memcpy(p, "eager ", 6);
	p = put_hex(p + 6, (uint64_t)i);
	*p++ = ' ';
	size_t kl = strlen(kinds[r->kind]);
	memcpy(p, kinds[r->kind], kl);
	p += kl;
	*p++ = ' ';
	p = put_hex(p, r->kind == RES_OK ? r->ret : (uint64_t)r->err);
	*p++ = ' ';
	p = put_hex(p, (uint64_t)r->faults);
	*p++ = '\n';
	syscall(SYS_write, 2, buf, (size_t)(p - buf));
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
		case OP_MADVISE: safe = safe_madvise(addr, op->len); break;
		default: safe = 1; break;
		}
		if (!safe) {
			r->kind = RES_SKIPPED;
			r->ns = 0;
			continue;
		}
		long ret = 0;
		int err = 0;
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
		case OP_TOUCH:
			run_touch(addr, op->len, r);
			break;
		}
		err = errno;
		long long t1 = now_ns();
		r->ns = t1 - t0;
		if (op->kind != OP_TOUCH) {
			if (ret == -1) {
				r->kind = RES_ERR;
				r->err = err;
			} else {
				r->kind = RES_OK;
				r->ret = op->kind == OP_MMAP ? (uint64_t)ret : 0;
			}
		}
		if (eager)
			eager_report(i, r);
	}
}

/* ---- output --------------------------------------------------------------- */

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
	if (argc != 2) {
		fprintf(stderr, "usage: probe OPSFILE\n");
		return 2;
	}
	parse_input(argv[1]);
	struct env env;
	read_env(&env);
	if (env.la57)
		task_size = TASK_SIZE_56;
	for (int i = 0; i < n_files; i++)
		open_device(&files[i]);
	for (int i = 0; i < n_files; i++)
		print_device(&files[i]);

	eager = getenv("PFNMAP_EAGER") != NULL;
	install_handlers();
	(void)now_ns();
	(void)syscall(SYS_getpid);
	(void)errno_name(0);
	long dummy;
	(void)minflt_now(&dummy);
	touch_sink = 0;
	touch_signal = 0;
	if (sigsetjmp(touch_env, 1) != 0)
		die("%s", "unexpected siglongjmp");
	pretouch_stack();
	memset(results, 0, (size_t)n_ops * sizeof *results);

	maps_initial_len = snapshot_maps(maps_initial, MAPS_BUF);
	if (maps_initial_len == (size_t)-1)
		die("%s", "cannot read /proc/self/maps (initial)");
	parse_initial_vmas();

	run_ops();

	maps_final_len = snapshot_maps(maps_final, MAPS_BUF);
	if (maps_final_len == (size_t)-1)
		die("%s", "cannot read /proc/self/maps (final)");

	printf("initial-maps\n");
	fwrite(maps_initial, 1, maps_initial_len, stdout);
	if (maps_initial_len && maps_initial[maps_initial_len - 1] != '\n')
		putchar('\n');
	printf("end\n");
	for (long i = 0; i < n_ops; i++)
		printf("addr %ld 0x%llx\n", i, (unsigned long long)results[i].addr);
	for (long i = 0; i < n_ops; i++) {
		struct result *r = &results[i];
		if (r->kind == RES_OK && ops[i].kind == OP_TOUCH)
			printf("result %ld ret 0x0 faults %ld majfaults %ld\n", i, r->faults, r->majfaults);
		else if (r->kind == RES_OK)
			printf("result %ld ret 0x%llx\n", i, (unsigned long long)r->ret);
		else if (r->kind == RES_ERR)
			printf("result %ld errno %s\n", i, errno_name(r->err));
		else if (r->kind == RES_SIGNAL)
			printf("result %ld signal %s at 0x%llx\n", i, r->err == SIGBUS ? "SIGBUS" : r->err == SIGSEGV ? "SIGSEGV" : "SIG?",
			       (unsigned long long)r->ret);
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
	       "shmem_enabled %s la57 %d rlimit_stack 0x%llx thp_enabled %s uname %s\n",
	       env.mmap_min_addr, env.max_map_count, env.overcommit_memory, env.commit_pages,
	       env.shmem_enabled, env.la57, env.rlimit_stack, env.thp_enabled, env.release);
	return fflush(stdout) != 0 ? 3 : 0;
}
