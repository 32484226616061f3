#!/bin/busybox sh
# /init of the pfnmap arm64 oracle guest (initramfs built by src/oracle/arm64-qemu.ts).
#
# Layout of the initramfs:
#   /bin/busybox                 Debian's busybox-static for arm64
#   /pfnmap/recorder             oracle/recorder.c, static aarch64
#   /pfnmap/probe                oracle/vfio/probe.c, static aarch64
#   /pfnmap/modules/*.ko         decompressed modules, /pfnmap/modules.order in load order
#                                (empty for a kernel with its drivers built in, --image)
#   /pfnmap/devices              BDFs to bind to vfio-pci, one a line
#   /pfnmap/scenarios            "<rec|probe> <name>" a line; /pfnmap/scen/NAME.ops each
# /dev/vda is an ext4 image made on the host: the recorder's ext4 files go there.
#
# Output for the host: the virt machine has one UART (the kernel console), so
# everything (framed as in oracle/vfio/init.sh) goes to /dev/hvc0 (virtio-console):
#   @@PFNMAP-BOOT <uname -r>, @@PFNMAP-INFO <key> <value>, @@PFNMAP-DEVICE …,
#   @@PFNMAP-BEGIN <name> / program output / stderr lines / @@PFNMAP-END <name> rc=<n>,
#   @@PFNMAP-ERROR <text>, @@PFNMAP-DONE
# The kernel console stays on ttyAMA0.

/bin/busybox mkdir -p /bin /proc /sys /dev /tmp /mnt/ext4
/bin/busybox --install -s /bin
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/shm
mount -t tmpfs tmpfs /dev/shm

OUT=/dev/hvc0
stty -F $OUT raw -echo 2>/dev/null
say() { echo "$*" > $OUT; }
dmesg -n 5

say "@@PFNMAP-BOOT $(uname -r)"
say "@@PFNMAP-CMDLINE $(cat /proc/cmdline)"

while read -r ko params; do
	[ -n "$ko" ] || continue
	if ! insmod /pfnmap/modules/$ko $params 2>/tmp/insmod.err; then
		say "@@PFNMAP-ERROR insmod $ko $params: $(cat /tmp/insmod.err)"
	fi
done < /pfnmap/modules.order
# a locally built kernel (--image) has the drivers built in and an empty modules.order
if ! grep -q . /pfnmap/modules.order; then
	say "@@PFNMAP-INFO modules none: built in ($(ls /sys/bus/pci/drivers | tr '\n' ' '))"
fi

if ! mount -t ext4 /dev/vda /mnt/ext4 2>/tmp/mount.err; then
	say "@@PFNMAP-ERROR mount ext4 /dev/vda: $(cat /tmp/mount.err)"
fi

say "@@PFNMAP-INFO thp_enabled $(cat /sys/kernel/mm/transparent_hugepage/enabled)"
say "@@PFNMAP-INFO thp_shmem_enabled $(cat /sys/kernel/mm/transparent_hugepage/shmem_enabled)"
say "@@PFNMAP-INFO thp_defrag $(cat /sys/kernel/mm/transparent_hugepage/defrag)"
say "@@PFNMAP-INFO hpage_pmd_size $(cat /sys/kernel/mm/transparent_hugepage/hpage_pmd_size)"
say "@@PFNMAP-INFO thp_sizes $(ls /sys/kernel/mm/transparent_hugepage | grep hugepages- | tr '\n' ' ')"
say "@@PFNMAP-INFO rlimit_stack $(ulimit -s)"
say "@@PFNMAP-INFO randomize_va_space $(cat /proc/sys/kernel/randomize_va_space)"
say "@@PFNMAP-INFO mmap_rnd_bits $(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null)"
say "@@PFNMAP-INFO features $(grep -m1 Features /proc/cpuinfo | sed 's/.*: //')"
dmesg | grep -E 'Virtual Addressing|LPA2|smmu|SMMU' | head -n 12 | while read -r l; do say "@@PFNMAP-INFO dmesg $l"; done
say "@@PFNMAP-INFO iommu_groups $(ls /sys/kernel/iommu_groups | tr '\n' ' ')"

for bdf in $(cat /pfnmap/devices); do
	d=/sys/bus/pci/devices/$bdf
	if [ ! -d $d ]; then
		say "@@PFNMAP-ERROR no PCI device $bdf ($(ls /sys/bus/pci/devices | tr '\n' ' '))"
		continue
	fi
	echo vfio-pci > $d/driver_override
	echo $bdf > /sys/bus/pci/drivers_probe 2>/tmp/bind.err
	drv=$(basename "$(readlink $d/driver)" 2>/dev/null)
	grp=$(basename "$(readlink $d/iommu_group)" 2>/dev/null)
	say "@@PFNMAP-DEVICE $bdf driver=$drv group=$grp vendor=$(cat $d/vendor) device=$(cat $d/device) resource2=$(sed -n 3p $d/resource)"
	if [ "$drv" != "vfio-pci" ]; then
		say "@@PFNMAP-ERROR $bdf not bound to vfio-pci: $(cat /tmp/bind.err) $(dmesg | tail -n 5 | tr '\n' '|')"
	fi
done

THP=/sys/kernel/mm/transparent_hugepage/enabled
THP_DEFAULT=$(sed 's/.*\[\(.*\)\].*/\1/' $THP)
while read -r kind s; do
	[ -n "$s" ] || continue
	if [ -f /pfnmap/scen/$s.thp ]; then cat /pfnmap/scen/$s.thp > $THP; else echo $THP_DEFAULT > $THP; fi
	say "@@PFNMAP-BEGIN $s"
	rm -f /tmp/out /tmp/err
	if [ "$kind" = rec ]; then
		/pfnmap/recorder /pfnmap/scen/$s.ops /mnt/ext4 > /tmp/out 2> /tmp/err
	else
		/pfnmap/probe /pfnmap/scen/$s.ops > /tmp/out 2> /tmp/err
	fi
	rc=$?
	cat /tmp/out > $OUT
	[ -f /tmp/err ] && sed 's/^/stderr /' /tmp/err > $OUT
	say "@@PFNMAP-END $s rc=$rc"
done < /pfnmap/scenarios

say "@@PFNMAP-DONE"
umount /mnt/ext4 2>/dev/null
sync
poweroff -f
