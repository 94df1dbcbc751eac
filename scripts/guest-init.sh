#!/bin/sh
# PID 1 of the gcma test VM (see lib/vm/runner.ts).
#
# The root filesystem is the host's / over 9p, read-only; everything the
# guest writes goes to tmpfs or to the results share. The job that the host
# wrote to the results share runs with its output on ttyS1 (the host's job
# channel, separate from the kernel console on ttyS0); its exit status is
# written back before the guest powers off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C.UTF-8

mount -t proc proc /proc
mount -t sysfs sysfs /sys
grep -q ' /dev ' /proc/mounts || mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=755 tmpfs /run

# A tmpfs over a writable dir must not hide the host paths the job needs
# (GCMA_KEEP, colon-separated: the checkout, the job's cwd), e.g. a
# checkout under /tmp: move those aside and back on top of the new tmpfs.
writable() {
	dir=$1 mode=$2
	n=0 kept=
	old_ifs=$IFS IFS=:
	for keep in $GCMA_KEEP; do
		case "$keep/" in
		"$dir"/*)
			n=$((n + 1))
			mkdir -p "/run/gcma-keep/$n"
			mount --bind "$keep" "/run/gcma-keep/$n"
			kept="$kept $n:$keep"
			;;
		esac
	done
	IFS=$old_ifs
	mount -t tmpfs -o mode="$mode" tmpfs "$dir"
	for k in $kept; do
		mkdir -p "${k#*:}"
		mount --move "/run/gcma-keep/${k%%:*}" "${k#*:}"
	done
}
writable /tmp 1777
writable /root 700
writable /var/tmp 1777
writable /mnt 755
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
# Trace events, where the debug kernel has them (not the default one)
[ -d /sys/kernel/tracing ] && mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm

results=/run/gcma-results
mkdir -p "$results"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 gcma-results "$results"
export GCMA_RESULTS="$results"

job=/dev/ttyS1
stty -F "$job" raw -echo 2>/dev/null
echo "gcma-vm: init ready" > "$job"
sh "$results/job.sh" < /dev/null > "$job" 2>&1
echo $? > "$results/exit-status"
sync
# Power off asynchronously, then spin in shell builtins only: once the
# power-off has begun, exec'ing anything from the 9p root fails, and an
# exiting init would panic the kernel and race the power-off.
echo o > /proc/sysrq-trigger
while :; do :; done
