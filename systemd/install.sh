#!/usr/bin/env bash
# Install (or update) the smilebooth service on a Raspberry Pi or a Jetson. Idempotent: run
# it again after `git pull` to apply a new version; an operator's config, environment file
# and password are never overwritten.
# Run from the checkout as root:  sudo systemd/install.sh
# The checkout is expected at /opt/smilebooth with its .venv set up (see the README).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root (sudo $0)"; exit 1; }
[ "$(pwd)" = /opt/smilebooth ] || { echo "the checkout must be /opt/smilebooth (is $(pwd))"; exit 1; }
[ -x .venv/bin/smilebooth ] || { echo "set up .venv first (README: install)"; exit 1; }
id smilebooth >/dev/null 2>&1 || useradd --system --user-group --home /var/lib/smilebooth --shell /usr/sbin/nologin smilebooth
# Photos are 0640 in a 0750 folder, group smilebooth: `usermod -aG smilebooth <you>` to read
# them (scp/rsync), as the README shows. Existing ones from an older UMask=0077 are opened up.
[ -d /var/lib/smilebooth/captures ] && chmod -R g+rX /var/lib/smilebooth/captures
install -d -m 0755 /etc/smilebooth
[ -f /etc/smilebooth/config.yaml ] || install -m 0644 config.yaml /etc/smilebooth/config.yaml
[ -f /etc/smilebooth/smilebooth.env ] || install -m 0644 systemd/smilebooth.env.example /etc/smilebooth/smilebooth.env
# Read by systemd (root) and handed to the service as a credential; empty = no password.
[ -f /etc/smilebooth/mqtt_password ] || install -m 0600 /dev/null /etc/smilebooth/mqtt_password
# The web page's action token, the same way; empty = the page has no actions.
[ -f /etc/smilebooth/web_token ] || install -m 0600 /dev/null /etc/smilebooth/web_token
install -m 0644 systemd/smilebooth.service /etc/systemd/system/smilebooth.service
# The same check as the unit's ExecStartPre, with the same per-device environment.
( set -a; . /etc/smilebooth/smilebooth.env; set +a
  .venv/bin/smilebooth validate-config /etc/smilebooth/config.yaml )
systemctl daemon-reload
systemctl enable smilebooth.service
systemctl restart smilebooth.service  # starts it, or applies an update
systemctl --no-pager status smilebooth.service || true
