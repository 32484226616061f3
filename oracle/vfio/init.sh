#!/bin/busybox sh
# /init of the pfnmap VFIO oracle guest (initramfs built by src/oracle/vfio-qemu.ts).
#
# Layout of the initramfs:
#   /bin/busybox                 busybox-static
#   /pfnmap/probe                oracle/vfio/probe.c, static
#   /pfnmap/modules/*.ko         decompressed modules; /pfnmap/modules.order lists them
#                                (one "name.ko [params]" a line) in load order
#   /pfnmap/devices              BDFs to bind to vfio-pci, one a line
#   /pfnmap/scenarios            scenario names, one a line; /pfnmap/scen/NAME.ops each
#   /pfnmap/mode                 "record" (console loglevel 5) or "verbose"
#
# Everything meant for the host goes to the second serial port (/dev/ttyS1), framed:
#   @@PFNMAP-BOOT <uname -r>
#   @@PFNMAP-BEGIN <name> / probe output / stderr lines / @@PFNMAP-END <name> rc=<n>
#   @@PFNMAP-ERROR <text>
#   @@PFNMAP-DONE
# The kernel console stays on ttyS0.

/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /tmp
/bin/busybox --install -s /bin
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp

OUT=/dev/ttyS1
stty -F $OUT raw -echo 2>/dev/null
say() { echo "$*" > $OUT; }

if [ "$(cat /pfnmap/mode 2>/dev/null)" = "verbose" ]; then
	dmesg -n 8
else
	dmesg -n 5
fi

say "@@PFNMAP-BOOT $(uname -r)"
say "@@PFNMAP-CMDLINE $(cat /proc/cmdline)"

while read -r ko params; do
	[ -n "$ko" ] || continue
	if ! insmod /pfnmap/modules/$ko $params 2>/tmp/insmod.err; then
		say "@@PFNMAP-ERROR insmod $ko $params: $(cat /tmp/insmod.err)"
	fi
done < /pfnmap/modules.order

if [ ! -e /sys/kernel/iommu_groups/0 ]; then
	say "@@PFNMAP-ERROR no IOMMU groups (is intel_iommu=on given and the IOMMU emulated?)"
fi
say "@@PFNMAP-IRQREMAP $(dmesg | grep -ci 'Enabled IRQ remapping')"

for bdf in $(cat /pfnmap/devices); do
	d=/sys/bus/pci/devices/$bdf
	if [ ! -d $d ]; then
		say "@@PFNMAP-ERROR no PCI device $bdf"
		continue
	fi
	echo vfio-pci > $d/driver_override
	echo $bdf > /sys/bus/pci/drivers_probe 2>/tmp/bind.err
	drv=$(basename "$(readlink $d/driver)" 2>/dev/null)
	grp=$(basename "$(readlink $d/iommu_group)" 2>/dev/null)
	say "@@PFNMAP-DEVICE $bdf driver=$drv group=$grp vendor=$(cat $d/vendor) device=$(cat $d/device)"
	if [ "$drv" != "vfio-pci" ]; then
		say "@@PFNMAP-ERROR $bdf not bound to vfio-pci: $(cat /tmp/bind.err) $(dmesg | tail -n 5 | tr '\n' '|')"
	fi
done

THP=/sys/kernel/mm/transparent_hugepage/enabled
THP_DEFAULT=$(sed 's/.*\[\(.*\)\].*/\1/' $THP)
for s in $(cat /pfnmap/scenarios); do
	# a scenario may ask for another THP policy (/pfnmap/scen/NAME.thp)
	if [ -f /pfnmap/scen/$s.thp ]; then cat /pfnmap/scen/$s.thp > $THP; else echo $THP_DEFAULT > $THP; fi
	say "@@PFNMAP-BEGIN $s"
	if [ "$(cat /pfnmap/mode 2>/dev/null)" = "verbose" ]; then
		# hazard boots: results as they happen (the probe may never return)
		PFNMAP_EAGER=1 /pfnmap/probe /pfnmap/scen/$s.ops > /tmp/out 2> $OUT
	else
		/pfnmap/probe /pfnmap/scen/$s.ops > /tmp/out 2> /tmp/err
	fi
	rc=$?
	cat /tmp/out > $OUT
	[ -f /tmp/err ] && sed 's/^/stderr /' /tmp/err > $OUT
	say "@@PFNMAP-END $s rc=$rc"
	echo "pfnmap: scenario $s rc=$rc"
done

say "@@PFNMAP-DONE"
sync
poweroff -f
