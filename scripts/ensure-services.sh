#!/usr/bin/env bash
# Make sure what the tests need is on this machine: a PostgreSQL server on 127.0.0.1:5432,
# Debian's chromium for the browser tests, wrk for the load benchmark and Mosquitto on 127.0.0.1:1883
# for the MQTT tests. Installs from Debian's packages when absent, starts what is stopped. Never
# fails the build for a service: the tests that need one skip with a
# reason when it is still missing (EVPLATFORM_REQUIRE_SERVICES=1 turns that into a failure).
set -uo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }
apt_updated=0
apt_install() {
  [ "$apt_updated" = 1 ] || { as_root apt-get update -qq >/dev/null 2>&1 && apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null 2>&1
}

pg_ready() { command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; }
if ! pg_ready; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "ensure-services: installing PostgreSQL from Debian's packages"
    apt_install postgresql || echo "ensure-services: could not install postgresql"
  fi
  for v in $(ls /etc/postgresql 2>/dev/null); do
    as_root pg_ctlcluster --skip-systemctl-redirect "$v" main start >/dev/null 2>&1 || true
  done
  for _ in $(seq 1 20); do pg_ready && break; sleep 0.5; done
  if pg_ready; then
    # trust auth for local TCP connections of the test suite (a fresh install uses peer/scram)
    hba=$(ls /etc/postgresql/*/main/pg_hba.conf 2>/dev/null | head -1)
    if [ -n "$hba" ] && ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
      as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
      as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main reload >/dev/null 2>&1 || true
    fi
  fi
fi
pg_ready && echo "ensure-services: PostgreSQL ready on 127.0.0.1:5432" || echo "ensure-services: PostgreSQL NOT available"

# Mosquitto (MQTT 5 broker) for the telemetry/command tests: Debian's package, started on 127.0.0.1:1883
# when nothing listens there (the tests that need it skip with a reason when it is missing).
mqtt_ready() { (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; }
if ! mqtt_ready; then
  if ! command -v mosquitto >/dev/null && [ ! -x /usr/sbin/mosquitto ]; then
    echo "ensure-services: installing mosquitto from Debian's packages"
    apt_install mosquitto || echo "ensure-services: could not install mosquitto"
  fi
  # Mosquitto drops messages past 1,000 queued for one client by default: the ingester's persistent
  # session must keep an outage's backlog (docs/fleet.md), so queues are unbounded here.
  if [ -d /etc/mosquitto/conf.d ] && [ ! -f /etc/mosquitto/conf.d/evplatform.conf ]; then
    printf 'max_queued_messages 0\n' | as_root tee /etc/mosquitto/conf.d/evplatform.conf >/dev/null 2>&1 || true
  fi
  mosq=$(command -v mosquitto || echo /usr/sbin/mosquitto)
  if [ -x "$mosq" ]; then
    conf=$(mktemp) && printf 'listener 1883 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n' >"$conf"
    as_root service mosquitto start >/dev/null 2>&1 || "$mosq" -d -c "$conf" >/dev/null 2>&1 || true
    for _ in $(seq 1 20); do mqtt_ready && break; sleep 0.25; done
  fi
fi
mqtt_ready && echo "ensure-services: Mosquitto ready on 127.0.0.1:1883" || echo "ensure-services: Mosquitto NOT available"

if [ ! -x /usr/bin/chromium ]; then
  echo "ensure-services: installing chromium from Debian's packages"
  apt_install chromium || echo "ensure-services: could not install chromium"
fi
[ -x /usr/bin/chromium ] && echo "ensure-services: chromium at /usr/bin/chromium" || echo "ensure-services: chromium NOT available"

# wrk replays the load benchmark's pre-signed requests (benchmarks/api_load.py, `make bench`)
if ! command -v wrk >/dev/null; then
  echo "ensure-services: installing wrk from Debian's packages"
  apt_install wrk || echo "ensure-services: could not install wrk"
fi
command -v wrk >/dev/null && echo "ensure-services: wrk at $(command -v wrk)" || echo "ensure-services: wrk NOT available"

# axe-core for the browser tests' accessibility check (test-only, MPL-2.0, never shipped): fetched at
# the pinned version from the npm registry into .cache/ (kept out of git); the test skips when absent.
AXE_VERSION=4.14.1
axe_dir=.cache/axe-core-$AXE_VERSION
if [ ! -f "$axe_dir/axe.min.js" ] && command -v npm >/dev/null; then
  tmp=$(mktemp -d)
  if (cd "$tmp" && npm pack -q "axe-core@$AXE_VERSION" >/dev/null 2>&1) && tar -xzf "$tmp"/axe-core-*.tgz -C "$tmp"; then
    mkdir -p "$axe_dir" && cp "$tmp/package/axe.min.js" "$tmp/package/LICENSE" "$axe_dir/"
  fi
  rm -rf "$tmp"
fi
[ -f "$axe_dir/axe.min.js" ] && echo "ensure-services: axe-core $AXE_VERSION at $axe_dir" || echo "ensure-services: axe-core NOT available"
exit 0
