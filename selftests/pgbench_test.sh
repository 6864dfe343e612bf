#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In the VM, with clonestat loaded (clonestat.sh runs it): PostgreSQL
# forks a backend for every connection.  Debian's PostgreSQL (the host's,
# over 9p) gets a cluster of its own on tmpfs, with log_connections and
# no autovacuum (whose workers the postmaster would fork too); pgbench
# -i fills it; then, under "filter tgid" of the postmaster, with step
# timing on and from a reset, pgbench -C (a new connection for every
# transaction) runs N transactions.  Asserts:
#
#   - the postmaster's row: forks = the connections the server logged
#     ("connection received") during the run, at least N; no other class;
#   - class.fork.calls = step.fork.creations = that number, none failed;
#     every step of a probed function called once a fork;
#   - a COW bill for each backend, closed at its exit: bill.fork.forks =
#     that number;
#   - pgbench reports N transactions processed.
#
# It prints the steps section and the COW bills for README.md's example.
#
# usage: pgbench_test.sh [TRANSACTIONS]

set -u
n=${1:-50}
P=/proc/clonestat
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/pgbench" ] && [ -x "$bin/postgres" ] || { echo "no PostgreSQL server and pgbench"; exit 1; }
tmp=$(mktemp -d)
chmod 755 "$tmp"
data=$tmp/data log=$tmp/server.log
pg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
cleanup() {
	[ -e "$data/postmaster.pid" ] && pg "$bin/pg_ctl" -D "$data" -m immediate stop > /dev/null 2>&1
	[ -e $P ] && { echo "filter clear" > $P; echo "steps off" > $P; }
	rm -rf "$tmp"
}
trap cleanup EXIT
chown postgres: "$tmp"

pg "$bin/initdb" -D "$data" -A trust -U postgres > "$tmp/initdb.log" 2>&1 ||
	{ cat "$tmp/initdb.log"; exit 1; }
cat >> "$data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$tmp'
log_connections = on
autovacuum = off
dynamic_shared_memory_type = mmap
EOF
pg "$bin/pg_ctl" -D "$data" -l "$log" -w -t 300 start > /dev/null || { cat "$log"; exit 1; }
pgb() { pg "$bin/pgbench" -h "$tmp" -U postgres "$@" postgres; }
pgb -i -q -s 1 > "$tmp/init.log" 2>&1 || { cat "$tmp/init.log"; exit 1; }
postmaster=$(head -n 1 "$data/postmaster.pid")
[[ $postmaster =~ ^[0-9]+$ ]] || { echo "no postmaster pid"; exit 1; }

echo "filter clear" > $P && echo "filter tgid $postmaster" > $P &&
	echo "steps on" > $P && echo reset > $P || exit 1
before=$(grep -c 'connection received' "$log")
pgb -n -C -c 1 -t "$n" > "$tmp/run.log" 2>&1 || { cat "$tmp/run.log"; exit 1; }
# A backend's bill closes at its exit (exit_mmap()), which may come
# after pgbench has gone: wait until no backend is left.
while pgrep -f '^postgres: postgres postgres' > /dev/null; do
	sleep 0.1
done
conns=$(($(grep -c 'connection received' "$log") - before))
cat $P > "$tmp/after"
ctr() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$tmp/after"; }
fail=0
is() { [ "$2" = "$3" ] && echo "$1: $2" || { echo "$1: $2, want $3"; fail=1; }; }

grep -q "number of transactions actually processed: $n/$n" "$tmp/run.log" ||
	{ echo "pgbench did not process $n transactions:"; cat "$tmp/run.log"; fail=1; }
[ "$conns" -ge "$n" ] || { echo "the server logged $conns connections for $n transactions"; fail=1; }
echo "postmaster $postmaster; the server logged $conns connections"
row=$(sed -n '/^section tasks$/,/^$/p' "$tmp/after" | awk -v p="$postmaster" '$1 == p')
[ -n "$row" ] || { echo "no row for the postmaster"; fail=1; }
read -r _ _ fork vfork thread shared_vm ns kthread worker other _ <<<"$row"
is "the postmaster's row: forks" "$fork" "$conns"
is "the postmaster's row: other classes" "$vfork $thread $shared_vm $ns $kthread $worker $other" "0 0 0 0 0 0 0"
is "class.fork.calls" "$(ctr class.fork.calls)" "$conns"
is "class.fork.failed" "$(ctr class.fork.failed)" 0
is "step.fork.creations" "$(ctr step.fork.creations)" "$conns"
for s in task creds sched pid thread uncovered mm_vmas; do
	is "step.fork.$s.calls" "$(ctr "step.fork.$s.calls")" "$conns"
done
is "bill.fork.forks" "$(ctr bill.fork.forks)" "$conns"
sed -n '/^section steps fork$/,/^$/p;/^section cow_bills$/,/^$/p' "$tmp/after"
copies=$(ctr bill.fork.child_copies)
echo "a backend copied $((copies / conns)) pages on write on average (bill.fork.child_copies $copies)"
exit $fail
