#!/usr/bin/env bash
# A whole ReviewOrleans cluster on this machine's loopback, as separate processes: a throwaway PostgreSQL, the schema
# (reviewctl db init), N silos and one standalone gateway, all in the cluster profile.
#
#   deploy/local-cluster.sh start N     build, start, print the gateway's URL and each silo's dashboard
#   deploy/local-cluster.sh status      one line per process: role, pid, address, running or gone
#   deploy/local-cluster.sh stop        end exactly the processes that `start` recorded, by pid, and the database
#
# State (pids, logs, the database) lives in $REVIEWORLEANS_CLUSTER_DIR (default /tmp/revieworleans-cluster).
# Settings for every silo may be passed as REVIEWORLEANS_SILO_ARGS (e.g. "--Pipeline:AnomalyShards=3"), and server
# options for the database as REVIEWORLEANS_PG_OPTIONS (e.g. "-c shared_preload_libraries=pg_stat_statements").
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dir=${REVIEWORLEANS_CLUSTER_DIR:-/tmp/revieworleans-cluster}
pids="$dir/processes"
config=${REVIEWORLEANS_BUILD_CONFIGURATION:-Release}

free_port() {
  local port=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || grep -q " 127.0.0.1:$port\$" "$pids" 2>/dev/null; do port=$((port + 1)); done
  echo "$port"
}

as_pg() {
  # initdb refuses to run as root.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

alive() { kill -0 "$1" 2>/dev/null; }

wait_healthy() {
  local role=$1 pid=$2 url=$3 log=$4
  for _ in $(seq 1 180); do
    if ! alive "$pid"; then echo "local-cluster: $role (pid $pid) exited; its log $log ends:" >&2; tail -n 20 "$log" >&2; return 1; fi
    if [ "$(curl -s --max-time 2 "$url" 2>/dev/null)" = ok ]; then return 0; fi
    sleep 0.5
  done
  echo "local-cluster: $role (pid $pid) not healthy at $url after 90 s; log $log" >&2
  return 1
}

start() {
  local n=${1:-}
  if ! [[ "$n" =~ ^[1-9][0-9]*$ ]]; then echo "usage: $0 start N   (N silos, at least 1)" >&2; exit 2; fi
  if [ -s "$pids" ] && status >/dev/null 2>&1; then echo "local-cluster: already running (see $0 status, or $0 stop)" >&2; exit 1; fi
  mkdir -p "$dir/logs"
  : > "$pids"
  # A start that fails half way ends what it had started, so that the next start finds its ports free.
  trap 'echo "local-cluster: start failed; stopping what it started" >&2; stop >/dev/null 2>&1 || true' ERR

  echo "local-cluster: building ($config)"
  dotnet build "$root/src/Silo" -c "$config" -v q -nologo >/dev/null
  dotnet build "$root/src/Gateway" -c "$config" -v q -nologo >/dev/null
  dotnet build "$root/tools/ReviewCtl" -c "$config" -v q -nologo >/dev/null
  local bin="bin/$config/net10.0"

  local pg_bin
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$pg_bin" ]; then echo "local-cluster: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then useradd --system --no-create-home postgres; fi
  rm -rf "$dir/pg"; mkdir -p "$dir/pg"
  [ "$(id -u)" = 0 ] && chown postgres "$dir/pg"
  local pg_port; pg_port=$(free_port 56432)
  as_pg "$pg_bin/initdb" -D "$dir/pg/data" -A trust -U postgres >/dev/null
  as_pg "$pg_bin/pg_ctl" -D "$dir/pg/data" -o "-p $pg_port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=300 ${REVIEWORLEANS_PG_OPTIONS:-}" -l "$dir/pg/postgres.log" -w start >/dev/null
  echo "postgres $(cat "$dir/pg/data/postmaster.pid" | head -n 1) 127.0.0.1:$pg_port" >> "$pids"
  echo "$pg_bin" > "$dir/pg_bin"
  as_pg "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres revieworleans
  export REVIEWORLEANS_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=revieworleans"
  export REVIEWORLEANS_PROFILE=cluster
  # A service and cluster id of this start's own: a silo left running from an earlier start, or started by hand beside
  # it, cannot join this cluster or pull its queues although the database comes back on the same port (one did, and
  # stalled a benchmark). Passed to every process through the environment; recorded for clients in service-id.
  local service_id="local-$(date +%s)-$RANDOM"
  echo "$service_id" > "$dir/service-id"
  export Cluster__ServiceId="$service_id" Cluster__ClusterId="$service_id"
  echo "$REVIEWORLEANS_POSTGRES" > "$dir/connection"
  dotnet "$root/tools/ReviewCtl/$bin/reviewctl.dll" db init

  local i silo_port gw_port http_port pid
  for i in $(seq 1 "$n"); do
    silo_port=$(free_port $((11110 + i))); echo "reserved 0 127.0.0.1:$silo_port" >> "$pids"
    gw_port=$(free_port $((30000 + i))); echo "reserved 0 127.0.0.1:$gw_port" >> "$pids"
    http_port=$(free_port $((5290 + i)))
    # The silos serve no gRPC of their own (Gateway:Enabled=false): clients use the standalone gateway.
    (cd "$dir" && exec dotnet "$root/src/Silo/$bin/ReviewOrleans.Silo.dll" \
        --Cluster:SiloPort="$silo_port" --Cluster:GatewayPort="$gw_port" --Gateway:Enabled=false --Gateway:HttpPort="$http_port" \
        ${REVIEWORLEANS_SILO_ARGS:-} > "$dir/logs/silo-$i.log" 2>&1) &
    pid=$!
    sed -i "/^reserved /d" "$pids"
    echo "silo $pid 127.0.0.1:$silo_port http://127.0.0.1:$http_port/dashboard" >> "$pids"
    wait_healthy "silo $i" "$pid" "http://127.0.0.1:$http_port/healthz" "$dir/logs/silo-$i.log"
  done

  local grpc_port; grpc_port=$(free_port 5181)
  http_port=$(free_port $((grpc_port + 1)))
  (cd "$dir" && exec dotnet "$root/src/Gateway/$bin/ReviewOrleans.Gateway.dll" \
      --Gateway:GrpcPort="$grpc_port" --Gateway:HttpPort="$http_port" > "$dir/logs/gateway.log" 2>&1) &
  pid=$!
  echo "gateway $pid 127.0.0.1:$grpc_port http://127.0.0.1:$http_port/healthz" >> "$pids"
  wait_healthy gateway "$pid" "http://127.0.0.1:$http_port/healthz" "$dir/logs/gateway.log"

  echo
  echo "ReviewOrleans cluster is up: $n silo(s), one gateway, PostgreSQL on 127.0.0.1:$pg_port (logs in $dir/logs, the database's in $dir/pg)."
  echo "  gRPC gateway:  http://127.0.0.1:$grpc_port    e.g. dotnet run --project tools/ReviewCtl -- --gateway http://127.0.0.1:$grpc_port cluster"
  awk '$1 == "silo" { printf "  silo %-9s dashboard %s\n", $3, $4 }' "$pids"
  echo "  database:      export REVIEWORLEANS_POSTGRES=\"$REVIEWORLEANS_POSTGRES\""
  echo "  service id:    $service_id (and cluster id; an Orleans client joins with --Cluster:ServiceId and --Cluster:ClusterId)"
}

status() {
  if [ ! -s "$pids" ]; then echo "local-cluster: nothing started (no $pids)"; return 1; fi
  local role pid address extra state any=1
  while read -r role pid address extra; do
    [ "$role" = reserved ] && continue
    if alive "$pid"; then state=running; any=0; else state=gone; fi
    printf '%-9s %-8s %-8s %-22s %s\n' "$role" "$pid" "$state" "$address" "${extra:-}"
  done < "$pids"
  return $any
}

stop() {
  if [ ! -s "$pids" ]; then echo "local-cluster: nothing to stop"; return 0; fi
  local role pid address extra
  # Silos and the gateway first (SIGTERM: a graceful shutdown), then the database they write to.
  while read -r role pid address extra; do
    if [ "$role" = silo ] || [ "$role" = gateway ]; then alive "$pid" && kill "$pid" 2>/dev/null || true; fi
  done < "$pids"
  for _ in $(seq 1 60); do
    local left=0
    while read -r role pid address extra; do
      if { [ "$role" = silo ] || [ "$role" = gateway ]; } && alive "$pid"; then left=1; fi
    done < "$pids"
    [ "$left" = 0 ] && break
    sleep 0.5
  done
  while read -r role pid address extra; do
    if { [ "$role" = silo ] || [ "$role" = gateway ]; } && alive "$pid"; then echo "local-cluster: $role $pid did not stop in 30 s; killing it"; kill -9 "$pid" 2>/dev/null || true; fi
  done < "$pids"
  if [ -f "$dir/pg_bin" ]; then as_pg "$(cat "$dir/pg_bin")/pg_ctl" -D "$dir/pg/data" -m fast -w stop >/dev/null 2>&1 || true; fi
  echo "local-cluster: stopped"
  : > "$pids"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  status) status ;;
  stop) stop ;;
  *) echo "usage: $0 start N | status | stop" >&2; exit 2 ;;
esac
