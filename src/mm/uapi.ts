// User-visible constants: mmap flags, prot bits and errno values (include/uapi, x86_64).

export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;

export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
/** x86 only (arch/x86 uapi); other arches leave 0x40 and 0x80 undefined */
export const MAP_32BIT = 0x40;
export const MAP_ABOVE4G = 0x80;
export const MAP_GROWSDOWN = 0x100;
export const MAP_DENYWRITE = 0x800;
export const MAP_EXECUTABLE = 0x1000;
export const MAP_LOCKED = 0x2000;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_NONBLOCK = 0x10000;
export const MAP_STACK = 0x20000;
export const MAP_HUGETLB = 0x40000;
export const MAP_SYNC = 0x80000;
export const MAP_FIXED_NOREPLACE = 0x100000;
export const MAP_UNINITIALIZED = 0x4000000;

/**
 * LEGACY_MAP_MASK (include/linux/mman.h) without the arch's own flags: with them
 * (Arch.legacyMapFlags: MAP_32BIT | MAP_ABOVE4G on x86, nothing on arm64) it is what
 * MAP_SHARED_VALIDATE accepts on any file.
 */
export const LEGACY_MAP_MASK_COMMON =
  MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE | MAP_EXECUTABLE |
  MAP_UNINITIALIZED | MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK |
  MAP_STACK | MAP_HUGETLB | (0x3f << 26) /* MAP_HUGE_* */;
/** LEGACY_MAP_MASK of x86_64 */
export const LEGACY_MAP_MASK = LEGACY_MAP_MASK_COMMON | MAP_32BIT | MAP_ABOVE4G;

export const EPERM = 1;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ETXTBSY = 26;
export const EOVERFLOW = 75;
export const EOPNOTSUPP = 95;

// errno names as glibc's strerrorname_np() gives them (41 and 58 have none).
const NAME_LIST = 'EPERM ENOENT ESRCH EINTR EIO ENXIO E2BIG ENOEXEC EBADF ECHILD EAGAIN ENOMEM EACCES EFAULT ENOTBLK EBUSY EEXIST EXDEV ENODEV ENOTDIR EISDIR EINVAL ENFILE EMFILE ENOTTY ETXTBSY EFBIG ENOSPC ESPIPE EROFS EMLINK EPIPE EDOM ERANGE EDEADLK ENAMETOOLONG ENOLCK ENOSYS ENOTEMPTY ELOOP - ENOMSG EIDRM ECHRNG EL2NSYNC EL3HLT EL3RST ELNRNG EUNATCH ENOCSI EL2HLT EBADE EBADR EXFULL ENOANO EBADRQC EBADSLT - EBFONT ENOSTR ENODATA ETIME ENOSR ENONET ENOPKG EREMOTE ENOLINK EADV ESRMNT ECOMM EPROTO EMULTIHOP EDOTDOT EBADMSG EOVERFLOW ENOTUNIQ EBADFD EREMCHG ELIBACC ELIBBAD ELIBSCN ELIBMAX ELIBEXEC EILSEQ ERESTART ESTRPIPE EUSERS ENOTSOCK EDESTADDRREQ EMSGSIZE EPROTOTYPE ENOPROTOOPT EPROTONOSUPPORT ESOCKTNOSUPPORT EOPNOTSUPP EPFNOSUPPORT EAFNOSUPPORT EADDRINUSE EADDRNOTAVAIL ENETDOWN ENETUNREACH ENETRESET ECONNABORTED ECONNRESET ENOBUFS EISCONN ENOTCONN ESHUTDOWN ETOOMANYREFS ETIMEDOUT ECONNREFUSED EHOSTDOWN EHOSTUNREACH EALREADY EINPROGRESS ESTALE EUCLEAN ENOTNAM ENAVAIL EISNAM EREMOTEIO EDQUOT ENOMEDIUM EMEDIUMTYPE ECANCELED ENOKEY EKEYEXPIRED EKEYREVOKED EKEYREJECTED EOWNERDEAD ENOTRECOVERABLE ERFKILL EHWPOISON'.split(' ');
const NAMES: Record<number, string> = {};
NAME_LIST.forEach((n, i) => { if (n !== '-') NAMES[i + 1] = n; });

/** The errno's symbolic name, or "E<n>" for numbers without one. */
export function errnoName(e: number): string {
  return NAMES[e] ?? `E${e}`;
}

const BY_NAME = new Map(Object.entries(NAMES).map(([k, v]) => [v, Number(k)]));
export function errnoFromName(name: string): number | undefined {
  if (BY_NAME.has(name)) return BY_NAME.get(name);
  const m = /^E(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

// strerror() texts of the errnos mmap can return
const STRERROR: Record<number, string> = {
  [EPERM]: 'Operation not permitted', [EBADF]: 'Bad file descriptor', [EAGAIN]: 'Resource temporarily unavailable',
  [ENOMEM]: 'Cannot allocate memory', [EACCES]: 'Permission denied', [EEXIST]: 'File exists', [ENODEV]: 'No such device',
  [EINVAL]: 'Invalid argument', [ETXTBSY]: 'Text file busy', [EOVERFLOW]: 'Value too large for defined data type',
  [EOPNOTSUPP]: 'Operation not supported', 16: 'Device or resource busy',
};

/** glibc's strerror() text for the errnos the model produces. */
export function strerror(e: number): string {
  return STRERROR[e] ?? `Unknown error ${e}`;
}

/** MAX_ERRNO: the top 4095 values of an address are error codes (IS_ERR_VALUE). */
export const MAX_ERRNO = 4095;
