#!/bin/sh
# Builds the 64K-page arm64 kernel the oracle boots with `--image`:
#   oracle/arm64/build-64k.sh SRC_DIR
# SRC_DIR: an extracted Debian linux-source-7.2 (tar -xf /usr/src/linux-source-7.2.tar.xz),
# built in place (outside the repository). Needs gcc-aarch64-linux-gnu bc bison flex
# libssl-dev libelf-dev. Result: SRC_DIR/arch/arm64/boot/Image and SRC_DIR/.config.
# BASE=defconfig (the default) or BASE=allnoconfig: the smaller base, which then also takes
# oracle/arm64/kconfig-64k-min.config (what allnoconfig turns off that the guest needs).
set -eu
SRC=$1
HERE=$(cd "$(dirname "$0")" && pwd)
M="make -C $SRC ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-"
BASE=${BASE:-defconfig}
$M "$BASE"
FRAGS="$HERE/kconfig-64k.config"
[ "$BASE" = allnoconfig ] && FRAGS="$FRAGS $HERE/kconfig-64k-min.config"
# every ARCH_* SoC platform of defconfig off (the virt machine needs none)
plats=$(sed -n 's/^config \(ARCH_[A-Z0-9_]*\)$/\1/p' "$SRC/arch/arm64/Kconfig.platforms")
for p in $plats; do "$SRC/scripts/config" --file "$SRC/.config" --disable "$p"; done
cat $FRAGS | grep -v '^#' | grep . | while IFS='=' read -r k v; do
	case "$v" in
	y) "$SRC/scripts/config" --file "$SRC/.config" --enable "$k" ;;
	n) "$SRC/scripts/config" --file "$SRC/.config" --disable "$k" ;;
	m) "$SRC/scripts/config" --file "$SRC/.config" --module "$k" ;;
	\"*) "$SRC/scripts/config" --file "$SRC/.config" --set-str "$k" "$(echo "$v" | tr -d '"')" ;;
	*) "$SRC/scripts/config" --file "$SRC/.config" --set-val "$k" "$v" ;;
	esac
done
$M olddefconfig
# second pass: options whose dependencies only appeared after olddefconfig
cat $FRAGS | grep -v '^#' | grep . | while IFS='=' read -r k v; do
	case "$v" in
	y) "$SRC/scripts/config" --file "$SRC/.config" --enable "$k" ;;
	n) "$SRC/scripts/config" --file "$SRC/.config" --disable "$k" ;;
	esac
done
$M olddefconfig
# report what did not stick
cat $FRAGS | grep -v '^#' | grep . | while IFS='=' read -r k v; do
	got=$(grep -E "^(CONFIG_$k=|# CONFIG_$k is not set)" "$SRC/.config" || true)
	case "$v:$got" in
	y:CONFIG_$k=y | n:"# CONFIG_$k is not set" | n: | *:CONFIG_$k=$v) ;;
	*) echo "build-64k: $k wanted $v, got '${got:-absent}'" >&2 ;;
	esac
done
[ "${CONFIG_ONLY:-}" = 1 ] && exit 0
start=$(date +%s)
nice -n 19 $M -j2 Image
echo "build-64k: make -j2 Image took $(( $(date +%s) - start )) s" >&2
