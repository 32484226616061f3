// A typical small process under setarch -R on Linux 6.18 x86_64: its program image, heap,
// libc, vDSO, ld.so and stack, as /proc/self/maps showed them before the first op of the
// recorded trace fixtures/kernel-traces/mixed-1.json. Device mappings are placed into it.

/** start, end, perms, offset, backing (pfnmap-trace/1 VMA fields) */
export const TYPICAL_PROCESS: readonly (readonly [string, string, string, string, string])[] = [
  ['0x555555554000', '0x555555555000', 'r--p', '0x0', 'process:kreplay'],
  ['0x555555555000', '0x555555557000', 'r-xp', '0x1000', 'process:kreplay'],
  ['0x555555557000', '0x555555558000', 'r--p', '0x3000', 'process:kreplay'],
  ['0x555555558000', '0x555555559000', 'r--p', '0x3000', 'process:kreplay'],
  ['0x555555559000', '0x55555555a000', 'rw-p', '0x4000', 'process:kreplay'],
  ['0x55555555a000', '0x55556e009000', 'rw-p', '0x0', 'anon'],
  ['0x7ffff7dd2000', '0x7ffff7dd5000', 'rw-p', '0x0', 'anon'],
  ['0x7ffff7dd5000', '0x7ffff7dfb000', 'r--p', '0x0', 'process:libc.so.6'],
  ['0x7ffff7dfb000', '0x7ffff7f51000', 'r-xp', '0x26000', 'process:libc.so.6'],
  ['0x7ffff7f51000', '0x7ffff7fa4000', 'r--p', '0x17c000', 'process:libc.so.6'],
  ['0x7ffff7fa4000', '0x7ffff7fa8000', 'r--p', '0x1cf000', 'process:libc.so.6'],
  ['0x7ffff7fa8000', '0x7ffff7faa000', 'rw-p', '0x1d3000', 'process:libc.so.6'],
  ['0x7ffff7faa000', '0x7ffff7fb7000', 'rw-p', '0x0', 'anon'],
  ['0x7ffff7fc0000', '0x7ffff7fc2000', 'rw-p', '0x0', 'anon'],
  ['0x7ffff7fc2000', '0x7ffff7fc6000', 'r--p', '0x0', 'process:[vvar]'],
  ['0x7ffff7fc6000', '0x7ffff7fc8000', 'r--p', '0x0', 'process:[vvar_vclock]'],
  ['0x7ffff7fc8000', '0x7ffff7fca000', 'r-xp', '0x0', 'process:[vdso]'],
  ['0x7ffff7fca000', '0x7ffff7fcb000', 'r--p', '0x0', 'process:ld-linux-x86-64.so.2'],
  ['0x7ffff7fcb000', '0x7ffff7ff1000', 'r-xp', '0x1000', 'process:ld-linux-x86-64.so.2'],
  ['0x7ffff7ff1000', '0x7ffff7ffb000', 'r--p', '0x27000', 'process:ld-linux-x86-64.so.2'],
  ['0x7ffff7ffb000', '0x7ffff7ffd000', 'r--p', '0x31000', 'process:ld-linux-x86-64.so.2'],
  ['0x7ffff7ffd000', '0x7ffff7fff000', 'rw-p', '0x33000', 'process:ld-linux-x86-64.so.2'],
  ['0x7ffffffde000', '0x7ffffffff000', 'rw-p', '0x0', '[stack]'],
  ['0xffffffffff600000', '0xffffffffff601000', '--xp', '0x0', 'process:[vsyscall]'],
];

/**
 * The process the arm64 QEMU oracle's probe ran as (a static aarch64 binary, no ASLR) on
 * Debian's 7.2.13 arm64 kernels, as /proc/self/maps showed it before its first op
 * (fixtures/arm64/arm64-{4k,16k}-bar2-2g-nohint.json), and on the 64K kernel built from
 * linux-source-7.2 (arm64-64k-bar2-2g-nohint.json): program image, bss, heap, vDSO just
 * below mmap_base, and the stack at the top of the default window (2^48 on 4K and 64K, 2^47
 * on 16K).
 */
export const ARM64_PROCESS: Readonly<Record<string, readonly (readonly [string, string, string, string, string])[]>> = {
  'arm64-4k': [
    ['0x400000', '0x481000', 'r-xp', '0x0', 'process:probe'],
    ['0x49c000', '0x4a0000', 'r--p', '0x8c000', 'process:probe'],
    ['0x4a0000', '0x4a3000', 'rw-p', '0x90000', 'process:probe'],
    ['0x4a3000', '0xdac000', 'rw-p', '0x0', 'anon'],
    ['0xdac000', '0xdce000', 'rw-p', '0x0', '[heap]'],
    ['0xfffff7ffa000', '0xfffff7ffe000', 'r--p', '0x0', 'process:[vvar]'],
    ['0xfffff7ffe000', '0xfffff8000000', 'r-xp', '0x0', 'process:[vdso]'],
    ['0xfffffffbf000', '0x1000000000000', 'rw-p', '0x0', '[stack]'],
  ],
  'arm64-16k': [
    ['0x400000', '0x484000', 'r-xp', '0x0', 'process:probe'],
    ['0x49c000', '0x4a0000', 'r--p', '0x8c000', 'process:probe'],
    ['0x4a0000', '0x4a4000', 'rw-p', '0x90000', 'process:probe'],
    ['0x4a4000', '0xdac000', 'rw-p', '0x0', 'anon'],
    ['0xdac000', '0xdd4000', 'rw-p', '0x0', '[heap]'],
    ['0x7ffff7fec000', '0x7ffff7ffc000', 'r--p', '0x0', 'process:[vvar]'],
    ['0x7ffff7ffc000', '0x7ffff8000000', 'r-xp', '0x0', 'process:[vdso]'],
    ['0x7ffffffbc000', '0x800000000000', 'rw-p', '0x0', '[stack]'],
  ],
  // 7.2.13-pfnmap64k, built from Debian's linux-source-7.2 (docs/arm64.md, "64K pages")
  'arm64-64k': [
    ['0x400000', '0x490000', 'r-xp', '0x0', 'process:probe'],
    ['0x490000', '0x4a0000', 'r--p', '0x80000', 'process:probe'],
    ['0x4a0000', '0x4b0000', 'rw-p', '0x90000', 'process:probe'],
    ['0x4b0000', '0xdb0000', 'rw-p', '0x0', 'anon'],
    ['0xdb0000', '0xdf0000', 'rw-p', '0x0', '[heap]'],
    ['0xfffff7fb0000', '0xfffff7ff0000', 'r--p', '0x0', 'process:[vvar]'],
    ['0xfffff7ff0000', '0xfffff8000000', 'r-xp', '0x0', 'process:[vdso]'],
    ['0xfffffffb0000', '0x1000000000000', 'rw-p', '0x0', '[stack]'],
  ],
};
