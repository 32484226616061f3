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
