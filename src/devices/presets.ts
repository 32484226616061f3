// Device presets: BAR layouts seen in public lspci output. Sizes and BAR numbering come
// from the cited sources; where a source gives no physical address, the address is an
// illustrative one that obeys the PCI rule (a BAR is aligned to its size), and says so.

import { parseDevice, type Device } from './device.js';

const CONFIG = { index: 7, kind: 'config', size: '0x1000', mmap: false };

const raw: Record<string, unknown> = {
  'gpu-128g': {
    format: 'pfnmap-device/1',
    name: 'GPU, 16M/128G/32M BARs (NVIDIA H100 SXM / H20 layout)',
    vendor: '0x10de', device: '0x2330',
    source: 'BAR sizes and numbering: fastfetch-cli/fastfetch issue #1658 (H100 SXM lspci, BAR2 128G) and NVIDIA/nvtrust issue #128 (H20: BAR0 16M, BAR2 128G, BAR4 32M, all 64-bit prefetchable); addresses from the pfnmap-device/1 example',
    regions: [
      { index: 0, kind: 'bar', start: '0x38c002000000', size: '0x1000000', mem64: true, prefetchable: true, mmap: true },
      { index: 1, kind: 'bar', size: '0x0' },
      { index: 2, kind: 'bar', start: '0x38a000000000', size: '0x2000000000', mem64: true, prefetchable: true, mmap: true },
      { index: 3, kind: 'bar', size: '0x0' },
      { index: 4, kind: 'bar', start: '0x38c000000000', size: '0x2000000', mem64: true, prefetchable: true, mmap: true },
      { index: 5, kind: 'bar', size: '0x0' },
      CONFIG,
    ],
  },
  'gpu-a100-80g': {
    format: 'pfnmap-device/1',
    name: 'NVIDIA A100 80GB SXM: 16M (32-bit) / 128G / 32M BARs',
    vendor: '0x10de', device: '0x20b2',
    source: 'BAR sizes: mailing-list lspci -v of 8 A100 80GB SXM GPUs (2021, Proxmox 7); addresses illustrative (size-aligned)',
    regions: [
      { index: 0, kind: 'bar', start: '0xfa000000', size: '0x1000000', mmap: true },
      { index: 1, kind: 'bar', start: '0x28000000000', size: '0x2000000000', mem64: true, prefetchable: true, mmap: true },
      { index: 2, kind: 'bar', size: '0x0' },
      { index: 3, kind: 'bar', start: '0x2a000000000', size: '0x2000000', mem64: true, prefetchable: true, mmap: true },
      { index: 4, kind: 'bar', size: '0x0' },
      CONFIG,
    ],
  },
  'gpu-l40s': {
    format: 'pfnmap-device/1',
    name: 'NVIDIA L40S: 16M (32-bit) / 64G / 32M BARs',
    vendor: '0x10de', device: '0x26b9',
    source: 'cloud-hypervisor docs/vfio.md (L40S 10de:26b9 lspci); addresses illustrative (size-aligned)',
    regions: [
      { index: 0, kind: 'bar', start: '0xf9000000', size: '0x1000000', mmap: true },
      { index: 1, kind: 'bar', start: '0x1000000000', size: '0x1000000000', mem64: true, prefetchable: true, mmap: true },
      { index: 2, kind: 'bar', size: '0x0' },
      { index: 3, kind: 'bar', start: '0x2002000000', size: '0x2000000', mem64: true, prefetchable: true, mmap: true },
      { index: 4, kind: 'bar', size: '0x0' },
      CONFIG,
    ],
  },
  'nic-32m': {
    format: 'pfnmap-device/1',
    name: 'NIC, one 32M BAR (Mellanox ConnectX-6 Dx)',
    vendor: '0x15b3', device: '0x101d',
    source: 'NVIDIA/l2fwd-nv issue #6 (ConnectX-6 Dx: BAR0 32M 64-bit prefetchable, expansion ROM 1M); addresses illustrative',
    regions: [
      { index: 0, kind: 'bar', start: '0x3fffe000000', size: '0x2000000', mem64: true, prefetchable: true, mmap: true },
      { index: 1, kind: 'bar', size: '0x0' },
      { index: 6, kind: 'rom', start: '0xfe000000', size: '0x100000', mmap: false },
      CONFIG,
    ],
  },
  'nvme-16k': {
    format: 'pfnmap-device/1',
    name: 'NVMe SSD, one 16K BAR',
    vendor: '0x144d', device: '0xa808',
    source: 'linux-nvme/nvme-cli issue #81 (Samsung NVMe: BAR0 16K 64-bit non-prefetchable); address illustrative',
    regions: [
      { index: 0, kind: 'bar', start: '0xfe600000', size: '0x4000', mem64: true, mmap: true },
      { index: 1, kind: 'bar', size: '0x0' },
      CONFIG,
    ],
  },
  'gh200-96g': {
    format: 'pfnmap-device/1',
    name: 'NVIDIA GH200 96 GiB under nvgrace-gpu: BAR0 16M, fake BAR2 resmem 1G, fake BAR4 usemem 95G (128G reported)',
    vendor: '0x10de', device: '0x2342',
    driver: 'nvgrace-gpu',
    source: 'nvgrace-gpu (drivers/vfio/pci/nvgrace-gpu/main.c, read in Debian\'s 7.2.13 source): Grace Hopper has the MIG hardware bug, so 1 GiB of resmem is carved from the end of device memory (BAR2) and usemem (BAR4) is the rest rounded down to 512 MiB, each reported as a power-of-two BAR; huge_fault since 9db65489b872 (lore 20251124115926.119027-4-ankita@nvidia.com). 96 GiB of HBM3 (GH200); the device memory address and BAR0 (16M, as H100) are illustrative',
    devmem: { start: '0x400000000000', size: '0x1800000000', migHwBug: true },
    regions: [
      { index: 0, kind: 'bar', start: '0x44000000000', size: '0x1000000', mem64: true, prefetchable: true, mmap: true },
      { index: 1, kind: 'bar', size: '0x0' },
      CONFIG,
    ],
  },
};

export const PRESET_NAMES = Object.keys(raw);

export function preset(name: string): Device | undefined {
  return Object.hasOwn(raw, name) ? parseDevice(raw[name], `preset ${name}`) : undefined;
}
