#!/usr/bin/env bash
# pg-cluster.sh {start|stop|restart|status|url} DIR [PORT]
#
# A throwaway PostgreSQL cluster in DIR for development and tests:
#   DIR/data      the cluster (initdb on first start)
#   DIR/sock      the unix socket directory
#   DIR/pg.log    the server log
#   DIR/port      the port and whether TCP is on, remembered between calls
#
# It listens on a unix socket only; with PORT it also listens on
# 127.0.0.1:PORT.  Without PORT the port last given for DIR is reused, else
# 5432, which then only names the socket file (DIR/sock/.s.PGSQL.5432), so
# any number of clusters can coexist.
#
# start prints the superuser conninfo (as `url` does); so does restart.
# status exits 0 if the cluster is running.
set -euo pipefail

readonly DEFAULT_PORT=5432
readonly FALLBACK_BINDIR=/usr/lib/postgresql/15/bin
readonly PG_USER=postgres

die() {
	printf 'pg-cluster: %s\n' "$*" >&2
	exit 1
}

usage() {
	printf 'usage: %s {start|stop|restart|status|url} DIR [PORT]\n' "${0##*/}" >&2
	exit 2
}

# pg_config from libpq-dev may point at a bindir without the server
# binaries, so only trust it if initdb is really there.
find_bindir() {
	local dir
	dir=$(pg_config --bindir 2>/dev/null) || dir=""
	if [[ -n $dir && -x $dir/initdb ]]; then
		printf '%s\n' "$dir"
	elif [[ -x $FALLBACK_BINDIR/initdb ]]; then
		printf '%s\n' "$FALLBACK_BINDIR"
	else
		die "PostgreSQL server binaries not found (install postgresql)"
	fi
}

# PostgreSQL refuses to run as root, so as root every pg command runs as
# the postgres user, from DIR (initdb and pg_ctl complain when the cwd is
# not accessible to them, e.g. a root-only temp directory).
as_pg() {
	if ((EUID == 0)); then
		(cd "$DIR" && runuser -u "$PG_USER" -- "$@")
	else
		(cd "$DIR" && "$@")
	fi
}

pg() {
	local tool=$1
	shift
	as_pg "$BINDIR/$tool" "$@"
}

# As root: DIR must belong to postgres, and postgres must be able to reach
# it.  mktemp -d makes root-only (0700) directories, so grant traversal
# (o+x, not listing) on any ancestor that blocks it.
prepare_dir_for_postgres() {
	local d
	((EUID == 0)) || return 0
	id -u "$PG_USER" >/dev/null 2>&1 || die "user $PG_USER does not exist (install postgresql)"
	d=$(dirname "$DIR")
	while [[ $d != / ]]; do
		if ! runuser -u "$PG_USER" -- test -x "$d"; then
			printf 'pg-cluster: granting o+x on %s so %s can reach %s\n' \
				"$d" "$PG_USER" "$DIR" >&2
			chmod o+x "$d"
		fi
		d=$(dirname "$d")
	done
	if [[ $(stat -c %U "$DIR") != "$PG_USER" ]]; then
		chown -R "$PG_USER:" "$DIR"
	fi
}

# Reads DIR/port (written by start) into PORT and TCP unless a PORT was
# given on the command line.
load_port() {
	if [[ -n $ARG_PORT ]]; then
		PORT=$ARG_PORT
		TCP=1
	elif [[ -f $DIR/port ]]; then
		read -r PORT TCP <"$DIR/port"
	else
		PORT=$DEFAULT_PORT
		TCP=0
	fi
}

# sun_path holds 107 bytes; a deep temp dir would otherwise fail with an
# obscure "path too long" in pg.log.
check_socket_path() {
	local sock="$DIR/sock/.s.PGSQL.$PORT"
	((${#sock} <= 107)) || die "socket path too long (${#sock} > 107 bytes): $sock"
}

conninfo() {
	printf 'host=%s port=%s user=%s dbname=postgres\n' "$DIR/sock" "$PORT" "$PG_USER"
}

postmaster_pid() {
	local pid=""
	[[ -r $DIR/data/postmaster.pid ]] && read -r pid <"$DIR/data/postmaster.pid"
	[[ $pid =~ ^[0-9]+$ ]] && printf '%s\n' "$pid"
}

# A zombie still answers kill -0, which pg_ctl and the postmaster's lock
# file check take for "alive".  After a crash (tests kill -9 the postmaster)
# the zombie lingers until init reaps it, which in containers can be slow.
is_zombie() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} == Z ]]
}

is_running() {
	local pid
	[[ -f $DIR/data/PG_VERSION ]] || return 1
	pid=$(postmaster_pid) || return 1
	! is_zombie "$pid" && pg pg_ctl status -D "$DIR/data" >/dev/null 2>&1
}

# Before starting after a crash: give init a moment to reap a dead
# postmaster, then drop its lock file if it is still a zombie.  Safe: the
# new postmaster still refuses to start while any old backend holds the
# shared memory segment.
clear_stale_lock() {
	local pid i
	pid=$(postmaster_pid) || return 0
	for ((i = 0; i < 50; i++)); do
		is_zombie "$pid" || return 0
		sleep 0.1
	done
	rm -f "$DIR/data/postmaster.pid"
}

locale_arg() {
	if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
		printf -- '--locale=C.UTF-8\n'
	else
		printf -- '--locale=C\n'
	fi
}

init_cluster() {
	local loc
	loc=$(locale_arg)
	# --no-sync only skips flushing the freshly made template files; the
	# running server still fsyncs (see write_settings).
	if ! pg initdb -D "$DIR/data" -U "$PG_USER" -A trust --no-sync -E UTF8 \
		"$loc" >"$DIR/initdb.log" 2>&1; then
		cat "$DIR/initdb.log" >&2
		die "initdb failed in $DIR/data"
	fi
	printf "\ninclude_if_exists = 'ritra-cluster.conf'\n" |
		as_pg tee -a "$DIR/data/postgresql.conf" >/dev/null
}

# Rewritten on every start, so PORT changes take effect and nobody has to
# edit postgresql.conf by hand.
write_settings() {
	local listen=""
	((TCP)) && listen=127.0.0.1
	as_pg tee "$DIR/data/ritra-cluster.conf" >/dev/null <<EOF
# Written by tools/pg-cluster.sh on each start; edits are lost.
listen_addresses = '$listen'
port = $PORT
unix_socket_directories = '$DIR/sock'
# Acknowledged writes must survive a crash (tests kill things), so
# durability stays as in production even in a throwaway cluster.
fsync = on
synchronous_commit = on
full_page_writes = on
# Small: tests run several clusters side by side.
shared_buffers = 32MB
max_connections = 100
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
EOF
}

cmd_start() {
	mkdir -p "$DIR"
	DIR=$(cd "$DIR" && pwd -P)
	load_port
	if is_running; then
		if [[ -n $ARG_PORT && -f $DIR/port ]] && [[ $(cut -d' ' -f1 "$DIR/port") != "$ARG_PORT" ]]; then
			die "already running in $DIR on another port ($(cut -d' ' -f1 "$DIR/port"))"
		fi
		conninfo
		return 0
	fi
	check_socket_path
	chmod 755 "$DIR"
	prepare_dir_for_postgres
	as_pg mkdir -p "$DIR/sock"
	[[ -f $DIR/data/PG_VERSION ]] || init_cluster
	write_settings
	printf '%s %s\n' "$PORT" "$TCP" | as_pg tee "$DIR/port" >/dev/null
	clear_stale_lock
	if ! pg pg_ctl start -w -t 60 -D "$DIR/data" -l "$DIR/pg.log" >/dev/null 2>&1; then
		tail -n 20 "$DIR/pg.log" >&2 || true
		die "could not start the cluster in $DIR (log: $DIR/pg.log)"
	fi
	conninfo
}

cmd_stop() {
	[[ -d $DIR ]] || return 0
	DIR=$(cd "$DIR" && pwd -P)
	is_running || return 0
	pg pg_ctl stop -m fast -w -t 60 -D "$DIR/data" >/dev/null ||
		die "could not stop the cluster in $DIR"
}

cmd_status() {
	[[ -d $DIR ]] || {
		echo stopped
		return 1
	}
	DIR=$(cd "$DIR" && pwd -P)
	if is_running; then
		echo running
	else
		echo stopped
		return 1
	fi
}

cmd_url() {
	[[ -d $DIR ]] && DIR=$(cd "$DIR" && pwd -P)
	load_port
	conninfo
}

valid_port() {
	[[ $1 =~ ^[1-9][0-9]{0,4}$ ]] && (($1 <= 65535))
}

main() {
	[[ $# -ge 2 && $# -le 3 ]] || usage
	local cmd=$1
	DIR=$2
	ARG_PORT=${3:-}
	if [[ -n $ARG_PORT ]] && ! valid_port "$ARG_PORT"; then
		die "bad port '$ARG_PORT'"
	fi
	[[ $DIR == /* ]] || DIR=$PWD/$DIR
	BINDIR=$(find_bindir)
	case $cmd in
	start) cmd_start ;;
	stop) cmd_stop ;;
	restart)
		cmd_stop
		cmd_start
		;;
	status) cmd_status ;;
	url) cmd_url ;;
	*) usage ;;
	esac
}

main "$@"
