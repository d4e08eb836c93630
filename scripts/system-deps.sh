#!/usr/bin/env bash
# Install the Debian packages a goal needs, only those that are missing.
#   scripts/system-deps.sh run     python3 venv support, Node.js + npm, Pango and CJK fonts
#                                  (WeasyPrint's PDF reports, Chinese included)
#   scripts/system-deps.sh test    the above + PostgreSQL, Chromium, gettext,
#                                  Dovecot (the IMAP server the mail tests read from),
#                                  Prometheus Alertmanager (the alert source of the monitoring tests),
#                                  Prometheus, node_exporter and MariaDB (data sources of the
#                                  inspection tests)
set -euo pipefail
goal=${1:-run}
need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }

python3 -c "import venv, ensurepip" >/dev/null 2>&1 || need+=(python3-venv)
have_cmd npm || need+=(npm)
[ -n "$(ls /usr/lib/*/libpangoft2-1.0.so.0 /usr/lib/libpangoft2-1.0.so.0 2>/dev/null)" ] || need+=(libpango-1.0-0 libpangoft2-1.0-0)
[ -d /usr/share/fonts/opentype/noto ] || need+=(fonts-noto-cjk)
if [ "$goal" = test ]; then
  ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
  [ -x /usr/bin/chromium ] || need+=(chromium)
  have_cmd msgfmt || need+=(gettext)
  [ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)
  [ -x /usr/bin/prometheus-alertmanager ] || need+=(prometheus-alertmanager)
  [ -x /usr/bin/prometheus ] || need+=(prometheus)
  [ -x /usr/bin/prometheus-node-exporter ] || need+=(prometheus-node-exporter)
  [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! have_cmd apt-get; then
  echo "Missing system packages: ${need[*]} (install them with your package manager)" >&2
  exit 1
fi
echo "Installing Debian packages: ${need[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
