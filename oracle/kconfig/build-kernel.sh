#!/bin/sh
# Builds the small x86_64 kernel the VFIO oracle boots with --kernel-image.
#   oracle/kconfig/build-kernel.sh SRC_DIR [PATCH...]
# SRC_DIR: an extracted kernel tree (e.g. Debian's linux-source-7.2: 7.2.13), outside the
# repository. Applies each PATCH (-p1), configures x86_64_defconfig + vfio-oracle.config,
# builds bzImage niced (the machine is shared). The image: SRC_DIR/arch/x86/boot/bzImage.
set -eu
src=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
cd "$src"
for p in "$@"; do patch -p1 --forward < "$p"; done
make -s x86_64_defconfig
./scripts/kconfig/merge_config.sh -m .config "$here/vfio-oracle.config"
make -s olddefconfig
# every requested value must have survived olddefconfig
bad=$(grep -v '^#' "$here/vfio-oracle.config" | grep . | while read -r line; do
	opt=${line%%=*}; val=${line#*=}
	if [ "$val" = n ]; then
		if grep -q "^$opt=" .config; then echo "$opt: wanted n, got $(grep "^$opt=" .config)"; fi
	elif ! grep -qx "$line" .config; then
		echo "$opt: wanted $val, got $(grep "^$opt=" .config || echo unset)"
	fi
done)
if [ -n "$bad" ]; then echo "$bad" >&2; exit 1; fi
nice -n 19 make -j"${JOBS:-2}" bzImage
