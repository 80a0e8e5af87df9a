#!/usr/bin/env bash
# Real Keystone and Glance on 127.0.0.1 (sqlite, file store), for the tests
# and the example. `openstack.sh start` sets them up once per state
# directory, starts them and writes clouds.yaml plus an openrc; `openstack.sh
# stop` stops them by PID.
source "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3 # Debian's interpreter: the one with the OpenStack packages
KEYSTONE_PORT=${CLOUDIMAGE_KEYSTONE_PORT:-5000}
GLANCE_PORT=${CLOUDIMAGE_GLANCE_PORT:-9292}
KEYSTONE_URL=http://127.0.0.1:$KEYSTONE_PORT
GLANCE_URL=http://127.0.0.1:$GLANCE_PORT
OS_DIR=$STATE_DIR/openstack

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop() {
  local svc pid
  for svc in glance keystone; do
    if alive "$OS_DIR/$svc.pid"; then
      pid=$(cat "$OS_DIR/$svc.pid")
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      log "$svc: stopped (pid $pid)"
    fi
    rm -f "$OS_DIR/$svc.pid"
  done
}

secret() { # secret NAME: a random password kept in the state directory
  local f=$OS_DIR/secrets/$1
  [ -s "$f" ] || head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$f"
  cat "$f"
}

wal() { # Keystone answers "database is locked" without WAL
  $PY -c 'import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL")' "$1"
}

configure() {
  mkdir -p "$OS_DIR"/{secrets,fernet-keys,credential-keys,images,staging,tasks}
  chmod 700 "$OS_DIR/secrets"
  cat >"$OS_DIR/keystone.conf" <<CONF
[DEFAULT]
log_file = $LOG_DIR/keystone.log
[database]
connection = sqlite:///$OS_DIR/keystone.db
[token]
provider = fernet
[fernet_tokens]
key_repository = $OS_DIR/fernet-keys
[fernet_receipts]
key_repository = $OS_DIR/fernet-keys
[credential]
key_repository = $OS_DIR/credential-keys
CONF
  cat >"$OS_DIR/glance-api.conf" <<CONF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $GLANCE_PORT
workers = 0
log_file = $LOG_DIR/glance-api.log
enabled_backends = local:file
[database]
connection = sqlite:///$OS_DIR/glance.db
[glance_store]
default_backend = local
[local]
filesystem_store_datadir = $OS_DIR/images/
[os_glance_staging_store]
filesystem_store_datadir = $OS_DIR/staging/
[os_glance_tasks_store]
filesystem_store_datadir = $OS_DIR/tasks/
[import_filtering_opts]
# web-download tests serve from loopback on ephemeral ports: Glance blocks
# loopback hosts unless allowed, and allows ports 80 and 443 only by default.
allowed_hosts = [127.0.0.1]
allowed_ports = []
[paste_deploy]
flavor = keystone
config_file = $HACK_DIR/openstack/glance-api-paste.ini
[keystone_authtoken]
www_authenticate_uri = $KEYSTONE_URL
auth_url = $KEYSTONE_URL
auth_type = password
user_domain_name = Default
project_domain_name = Default
project_name = service
username = glance
password = $(secret glance)
CONF
  chmod 600 "$OS_DIR/keystone.conf" "$OS_DIR/glance-api.conf"
}

setup_once() {
  [ -f "$OS_DIR/.ready" ] && return
  log "openstack: first-time setup of Keystone and Glance databases"
  run_logged keystone-db-sync keystone-manage --config-file "$OS_DIR/keystone.conf" db_sync
  wal "$OS_DIR/keystone.db"
  run_logged keystone-fernet keystone-manage --config-file "$OS_DIR/keystone.conf" fernet_setup --keystone-user root --keystone-group root
  run_logged keystone-credential keystone-manage --config-file "$OS_DIR/keystone.conf" credential_setup --keystone-user root --keystone-group root
  run_logged keystone-bootstrap keystone-manage --config-file "$OS_DIR/keystone.conf" bootstrap \
    --bootstrap-password "$(secret admin)" --bootstrap-region-id RegionOne \
    --bootstrap-admin-url "$KEYSTONE_URL/v3/" --bootstrap-internal-url "$KEYSTONE_URL/v3/" \
    --bootstrap-public-url "$KEYSTONE_URL/v3/"
  run_logged glance-db-sync $PY -m glance.cmd.manage --config-file "$OS_DIR/glance-api.conf" db_sync
  wal "$OS_DIR/glance.db"
  touch "$OS_DIR/.ready"
}

# require_free_port PORT VAR: fails clearly when another process (another
# checkout's harness, say) already listens on PORT.
require_free_port() {
  local owner
  owner=$(ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 || true)
  [ -z "$owner" ] || die "port $1 is taken by another process (${owner}): stop it (another checkout: its hack/openstack.sh stop) or set $2"
}

start_keystone() {
  alive "$OS_DIR/keystone.pid" && return
  require_free_port "$KEYSTONE_PORT" CLOUDIMAGE_KEYSTONE_PORT
  setsid keystone-wsgi-public --host 127.0.0.1 --port "$KEYSTONE_PORT" -- --config-file "$OS_DIR/keystone.conf" \
    >>"$LOG_DIR/keystone-wsgi.log" 2>&1 </dev/null &
  echo $! >"$OS_DIR/keystone.pid"
  wait_for "Keystone on $KEYSTONE_URL (log: $LOG_DIR/keystone-wsgi.log)" 60 curl -fsS "$KEYSTONE_URL/v3"
  run_logged keystone-objects $PY "$HACK_DIR/openstack/bootstrap.py" "$KEYSTONE_URL" "$(secret admin)" \
    "$GLANCE_URL" "$(secret glance)" "$(secret demo)"
  log "keystone: ready on $KEYSTONE_URL (pid $(cat "$OS_DIR/keystone.pid"))"
}

start_glance() {
  alive "$OS_DIR/glance.pid" && return
  require_free_port "$GLANCE_PORT" CLOUDIMAGE_GLANCE_PORT
  setsid $PY -m glance.cmd.api --config-file "$OS_DIR/glance-api.conf" \
    >>"$LOG_DIR/glance-api-stdout.log" 2>&1 </dev/null &
  echo $! >"$OS_DIR/glance.pid"
  wait_for "Glance on $GLANCE_URL (log: $LOG_DIR/glance-api.log)" 60 curl -fsS "$GLANCE_URL/healthcheck"
  log "glance: ready on $GLANCE_URL (pid $(cat "$OS_DIR/glance.pid"))"
}

write_client_config() {
  local user project
  {
    echo "clouds:"
    for user in admin demo; do
      project=$user
      cat <<YAML
  cloudimage-$user:
    auth:
      auth_url: $KEYSTONE_URL/v3
      username: $user
      password: $(secret $user)
      project_name: $project
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    identity_api_version: 3
    interface: public
YAML
    done
  } >"$OS_DIR/clouds.yaml"
  cat >"$OS_DIR/admin-openrc" <<RC
export OS_AUTH_URL=$KEYSTONE_URL/v3
export OS_USERNAME=admin
export OS_PASSWORD=$(secret admin)
export OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_REGION_NAME=RegionOne
export OS_IDENTITY_API_VERSION=3
RC
  chmod 600 "$OS_DIR/clouds.yaml" "$OS_DIR/admin-openrc"
  set_env OS_CLIENT_CONFIG_FILE "$OS_DIR/clouds.yaml"
  set_env CLOUDIMAGE_OPENRC "$OS_DIR/admin-openrc"
  set_env CLOUDIMAGE_GLANCE_URL "$GLANCE_URL"
  set_env CLOUDIMAGE_KEYSTONE_URL "$KEYSTONE_URL/v3"
}

case "${1:-start}" in
  start)
    configure
    setup_once
    start_keystone
    start_glance
    write_client_config
    ;;
  stop) stop ;;
  *) die "usage: $0 start|stop" ;;
esac
