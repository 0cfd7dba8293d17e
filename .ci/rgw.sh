#!/usr/bin/env bash
# Single-node Ceph RGW (S3) on 127.0.0.1 for the mpu_toolkit test suite.
#
#   eval "$(bash .ci/rgw.sh start [DIR] [PORT])"   # defaults: /tmp/mpu-rgw 7480
#   bash .ci/rgw.sh stop [DIR]
#
# `start` prints only `export MPU_TEST_*=...` lines on stdout; progress goes to stderr.
# One mon + one OSD + radosgw, auth none, loopback only; everything (config, data, pids, logs,
# sockets) lives under DIR so it can be stopped by pid and deleted.
# OSD store: BlueStore on a 20 GiB sparse file (O_DIRECT, OSD RSS ~130 MiB, ~300 MB/s here).
# RGW_OBJECTSTORE=memstore starts faster but is slower and keeps ~1.8x the stored bytes in
# OSD RAM, whatever memstore_device_bytes says. Other env: RGW_MON_PORT (3300),
# RGW_START_TIMEOUT (120 s, for the whole start after package install).
set -euo pipefail

CMD=${1:-}
DIR=$(realpath -m "${2:-/tmp/mpu-rgw}")   # daemons chdir to /: paths must be absolute
PORT=${3:-7480}
MON_PORT=${RGW_MON_PORT:-3300}
STORE=${RGW_OBJECTSTORE:-bluestore}
TIMEOUT=${RGW_START_TIMEOUT:-120}
KEY=mpu-test-key SECRET=mpu-test-secret
CONF="$DIR/ceph.conf"

log() { echo "[rgw.sh +${SECONDS}s] $*" >&2; }
STARTING=
die() {   # print the error and the logs' tails; a failed start also stops what it started
  log "ERROR: $*"
  for f in "$DIR"/log/*.log; do [ -s "$f" ] && { echo "--- tail $f" >&2; tail -n 15 "$f" >&2; }; done
  [ -z "$STARTING" ] || { STARTING=; stop || true; }
  exit 1
}
in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# TERM the daemons whose pid files match the globs, KILL after ~5 s; return once all are gone.
kill_group() {
  local pids=() g f p i sig
  for g in "$@"; do for f in "$DIR"/run/$g.pid; do
    [ -f "$f" ] || continue
    p=$(cat "$f" 2>/dev/null || true)
    # only a live ceph daemon: never a stale pid that was reused by something else
    [[ "$p" =~ ^[0-9]+$ ]] && grep -qsE '^(ceph-mon|ceph-osd|radosgw)' "/proc/$p/comm" && pids+=("$p")
  done; done
  for sig in TERM KILL; do
    [ ${#pids[@]} -eq 0 ] && return 0
    log "kill -$sig ${pids[*]} ($*)"
    kill -"$sig" "${pids[@]}" 2>/dev/null || true
    for i in $(seq 50); do
      for p in "${!pids[@]}"; do kill -0 "${pids[$p]}" 2>/dev/null || unset "pids[$p]"; done
      [ ${#pids[@]} -eq 0 ] && return 0
      sleep 0.1
    done
  done
  die "processes survived KILL: ${pids[*]}"
}

# One tier at a time: radosgw's shutdown talks to the OSD, and a TERMed OSD tells the monitor
# it is going down and waits up to 5 s for its answer; killed together, each hangs until KILL.
stop() { kill_group 'client.*'; kill_group 'osd.*'; kill_group '*'; }

start() {
  command -v radosgw >/dev/null && command -v ceph-osd >/dev/null && command -v ceph-mon >/dev/null \
    || { log "installing ceph packages"; { apt-get update && DEBIAN_FRONTEND=noninteractive \
         apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw ceph-common; } >&2; }
  SECONDS=0                                   # the start budget excludes the install
  # wipe DIR only if it is ours (or empty): a typo must not delete someone's folder
  [ ! -e "$DIR" ] || [ -f "$DIR/ceph.conf" ] || [ -z "$(ls -A "$DIR")" ] \
    || { log "ERROR: refusing to wipe $DIR: not an rgw.sh folder"; exit 1; }
  stop                                        # daemons of a previous run on this DIR
  for p in "$PORT" "$MON_PORT"; do in_use "$p" && { log "ERROR: 127.0.0.1:$p is in use"; exit 1; }; done
  rm -rf "$DIR"; mkdir -p "$DIR"/{mon,osd,run,log}
  STARTING=1
  local fsid; fsid=$(cat /proc/sys/kernel/random/uuid)
  cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:$MON_PORT
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr1 = false
ms_bind_ipv6 = false
# a throwaway test cluster: start even on a nearly full disk (the default stops the mon
# below 5% free)
mon_data_avail_crit = 1
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
# no-auth cannot do the default "secure" mon mode: without this radosgw hangs 300 s
ms_mon_client_mode = crc secure
keyring = $DIR/keyring
run_dir = $DIR/run
pid_file = $DIR/run/\$name.pid
log_file = $DIR/log/\$name.log
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 1000
osd_crush_chooseleaf_type = 0
[mon]
mon_data = $DIR/mon
# every pool create/set is one paxos round, 1 s by default: rgw's first start makes ~20 of them
paxos_propose_interval = 0.05
admin_socket = $DIR/run/\$name.asok
[osd]
osd_data = $DIR/osd
admin_socket = $DIR/run/\$name.asok
osd_objectstore = $STORE
memstore_device_bytes = 10737418240
# sparse file: disk use grows with stored + not-yet-collected bytes, up to 20 GiB (full at 95%)
bluestore_block_create = true
bluestore_block_size = 21474836480
osd_memory_target = 1073741824
[client.rgw.a]
admin_socket = $DIR/run/\$name.asok
rgw_frontends = beast endpoint=127.0.0.1:$PORT tcp_nodelay=1
rgw_gc_obj_min_wait = 10
rgw_gc_processor_period = 10
rgw_gc_processor_max_time = 10
EOF
  export CEPH_CONF="$CONF"
  log "monitor (fsid $fsid, mon port $MON_PORT)"
  local err="$DIR/log/stderr.log"              # the daemons' own chatter before they detach
  { ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *'
    monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap"
    ceph-mon -c "$CONF" -i a --mkfs --monmap "$DIR/monmap" --keyring "$DIR/keyring"; } >>"$err" 2>&1 \
    || die "monitor mkfs failed"
  ceph-mon -c "$CONF" -i a 2>>"$err" || die "ceph-mon failed to start"
  log "osd ($STORE)"
  local uuid id; uuid=$(cat /proc/sys/kernel/random/uuid)
  id=$(timeout 60 ceph -c "$CONF" --connect-timeout 30 osd new "$uuid") || die "monitor not answering"
  ceph-osd -c "$CONF" -i "$id" --mkfs --osd-uuid "$uuid" 2>>"$err" || die "osd mkfs failed"
  ceph-osd -c "$CONF" -i "$id" 2>>"$err" || die "ceph-osd failed to start"
  log "radosgw on 127.0.0.1:$PORT"
  radosgw -c "$CONF" -n client.rgw.a 2>>"$err" || die "radosgw failed to start"
  log "S3 user $KEY"
  timeout $(( TIMEOUT > SECONDS ? TIMEOUT - SECONDS : 1 )) radosgw-admin -c "$CONF" user create \
    --uid=mpu-test --display-name=mpu-test --access-key="$KEY" --secret-key="$SECRET" \
    --max-buckets=100000 >/dev/null || die "user create failed"
  log "waiting for a signed S3 request to succeed"
  until python3 - "http://127.0.0.1:$PORT" "$KEY" "$SECRET" <<'PY' 2>/dev/null
import sys, boto3, botocore.config as bc
boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2],
             aws_secret_access_key=sys.argv[3], region_name="us-east-1",
             config=bc.Config(connect_timeout=3, read_timeout=5, retries={"max_attempts": 1})
             ).list_buckets()
PY
  do
    kill -0 "$(cat "$DIR/run/client.rgw.a.pid" 2>/dev/null)" 2>/dev/null || die "radosgw exited"
    (( SECONDS < TIMEOUT )) || die "RGW did not answer S3 on 127.0.0.1:$PORT within ${TIMEOUT}s"
    sleep 1
  done
  log "ready"
  printf 'export %s\n' "MPU_TEST_ENDPOINT=http://127.0.0.1:$PORT" "MPU_TEST_KEY=$KEY" \
    "MPU_TEST_SECRET=$SECRET" MPU_TEST_SERVER=rgw
}

case "$CMD" in
  start) start ;;
  stop) stop; log "stopped" ;;
  *) echo "usage: $0 start [DIR] [PORT] | stop [DIR]" >&2; exit 2 ;;
esac
