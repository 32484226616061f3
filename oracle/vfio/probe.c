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
 *   op touch <addrSpec> <lenHex>          read one byte of every page (the kernel's page size), ascending
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
 *
 * What this shares with recorder.c (parsing, snapshots, safety guard, the
 * mmap/munmap/mprotect/madvise loop, output) is in oracle/oplist.h; touch and
 * the VFIO device are here.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <linux/vfio.h>

#define OPLIST_PROG "probe"
#define OPLIST_DIE_ERRNO
#define OPLIST_ALIGN_SPEC
#define OPLIST_EXTRA_OPS
#define MAPS_BUF (4u << 20)
#define MAX_FILES 4
#define N_REGIONS 9

struct file {
	char id[64];
	char bdf[64];
	int fd;
	int container, group, group_no;
	char maps_path[4096];
};

#include "../oplist.h"

enum { OP_TOUCH = OP_FIRST_EXTRA };

static sigjmp_buf touch_env;
static volatile sig_atomic_t touch_signal;
static volatile unsigned char touch_sink;

/* ---- input ---------------------------------------------------------------- */

static void parse_file_line(char **tok, int nt)
{
	if (nt != 4 || strcmp(tok[2], "vfio-pci"))
		die("bad file line for '%s' (expected: file <id> vfio-pci <bdf>)", nt > 1 ? tok[1] : "?");
	struct file *f = add_file();
	if (strlen(tok[1]) >= sizeof f->id || strlen(tok[3]) >= sizeof f->bdf)
		die("file id or bdf too long: %s", tok[1]);
	strcpy(f->id, tok[1]);
	strcpy(f->bdf, tok[3]);
	f->fd = f->container = f->group = -1;
}

static int parse_extra_op(char **tok, int nt, struct op *op)
{
	if (!strcmp(tok[1], "touch")) {
		if (nt != 4)
			die("bad %s line", tok[1]);
		op->kind = OP_TOUCH;
		parse_addr(tok[2], op, n_ops);
		op->len = parse_u64(tok[3], "length");
	} else {
		return 0;
	}
	return 1;
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
	read_fd_link(f);
}

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

/* ---- environment (beyond oplist.h's) ------------------------------------ */

struct probe_env {
	struct env base;
	unsigned long long rlimit_stack;
	char thp_enabled[64], release[128];
};

static void read_probe_env(struct probe_env *e)
{
	read_env(&e->base);
	read_bracketed("/sys/kernel/mm/transparent_hugepage/enabled", e->thp_enabled, sizeof e->thp_enabled);
	struct rlimit rl;
	e->rlimit_stack = getrlimit(RLIMIT_STACK, &rl) == 0 ? (unsigned long long)rl.rlim_cur : 0;
	struct utsname u;
	snprintf(e->release, sizeof e->release, "%s", uname(&u) == 0 ? u.release : "unknown");
}

/* ---- madvise and touch: no allocation, no stdio --------------------------- */

/* touch only reads */
static int safe_extra_op(const struct op *op, uint64_t addr)
{
	(void)op;
	(void)addr;
	return 1;
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

static int run_extra_op(const struct op *op, uint64_t addr, struct result *r, long *ret)
{
	(void)ret;
	run_touch(addr, op->len, r);
	return 0;
}

static void after_op(long i, const struct result *r)
{
	if (eager)
		eager_report(i, r);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: probe OPSFILE\n");
		return 2;
	}
	parse_input(argv[1]);
	struct probe_env env;
	read_probe_env(&env);
	for (int i = 0; i < n_files; i++)
		open_device(&files[i]);
	for (int i = 0; i < n_files; i++)
		print_device(&files[i]);

	eager = getenv("PFNMAP_EAGER") != NULL;
	install_handlers();
	long dummy;
	(void)minflt_now(&dummy);
	touch_sink = 0;
	touch_signal = 0;
	if (sigsetjmp(touch_env, 1) != 0)
		die("%s", "unexpected siglongjmp");

	if (record_ops() != 0)
		die("%s", "cannot read /proc/self/maps (final)");

	print_maps("initial-maps", maps_initial, maps_initial_len);
	for (long i = 0; i < n_ops; i++)
		printf("addr %ld 0x%llx\n", i, (unsigned long long)results[i].addr);
	for (long i = 0; i < n_ops; i++) {
		struct result *r = &results[i];
		if (r->kind == RES_OK && ops[i].kind == OP_TOUCH)
			printf("result %ld ret 0x0 faults %ld majfaults %ld\n", i, r->faults, r->majfaults);
		else if (r->kind == RES_SIGNAL)
			printf("result %ld signal %s at 0x%llx\n", i, r->err == SIGBUS ? "SIGBUS" : r->err == SIGSEGV ? "SIGSEGV" : "SIG?",
			       (unsigned long long)r->ret);
		else
			print_result(i, r);
	}
	print_ns();
	print_maps("final-maps", maps_final, maps_final_len);
	print_env(&env.base);
	printf(" rlimit_stack 0x%llx thp_enabled %s uname %s\n", env.rlimit_stack, env.thp_enabled, env.release);
	return fflush(stdout) != 0 ? 3 : 0;
}
