#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 (install and start it when it does not).
set -euo pipefail
answering() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h 127.0.0.1 -p 5432
  else
    (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
  fi
}
if answering; then exit 0; fi
if [ ! -d /etc/postgresql ]; then
  echo "PostgreSQL is not installed; installing it with apt-get" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  hba=$(ls /etc/postgresql/*/main/pg_hba.conf | head -n1)
  printf 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n' | cat - "$hba" > "$hba.new"
  mv "$hba.new" "$hba"
fi
pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
for _ in $(seq 1 30); do
  if answering; then break; fi
  sleep 1
done
answering || { echo "PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }
# Trust auth for local TCP and a 'test' database, as the suite expects.
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='test'\"" | grep -q 1 \
  || su postgres -c "createdb test" || true
