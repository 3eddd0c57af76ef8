#!/usr/bin/env bash
# Installs nat64-gateway and nat64-receiver system-wide from this checkout (run tools/setup/setup.sh
# first), or removes them again:
#
#   tools/setup/install.sh                  build, then install (again: replaces the programs, keeps configs)
#   tools/setup/install.sh --uninstall      remove what install put in place; configs and data stay
#   tools/setup/install.sh --uninstall --purge   also remove /etc/nat64-handoff, the database and the logs
#
# What goes where (DESTDIR, PREFIX and BINDIR move it, e.g. into a staging root for a package):
#   $PREFIX/{gateway,receiver}         a self-contained copy of each app (pnpm deploy --prod)
#   $BINDIR/nat64-{gateway,receiver}   links to their entry points
#   /etc/systemd/system/               nat64-gateway.service, nat64-receiver.service
#   /etc/sysusers.d/, /etc/tmpfiles.d/ the users they run as, their directories
#   /etc/logrotate.d/nat64-receiver    rotation of the connection log (the receiver reopens it on SIGHUP)
#   /etc/nat64-handoff/                gateway.json, receiver.json from the examples, unless already there
#
# Installing into the running system (no DESTDIR) also creates the users and directories and
# reloads systemd; it enables and starts nothing.
set -euo pipefail
umask 022
cd "$(dirname "$0")/../.."

DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/opt/nat64-handoff}
BINDIR=${BINDIR:-/usr/local/bin}
APPS=(gateway receiver)
CONFIG_DIR=/etc/nat64-handoff
# Directories that hold what the daemons write; only --purge removes them.
DATA_DIRS=(/var/lib/nat64-receiver /var/log/nat64-receiver)

uninstall=false
purge=false
for argument in "$@"; do
  case "$argument" in
    --uninstall) uninstall=true ;;
    --purge) purge=true ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "install: unknown argument $argument (see --help)" >&2; exit 64 ;;
  esac
done
if $purge && ! $uninstall; then
  echo "install: --purge goes with --uninstall" >&2
  exit 64
fi

# The files install owns, as "source destination mode" (destinations without DESTDIR).
installed_files() {
  local app
  for app in "${APPS[@]}"; do
    echo "apps/$app/contrib/nat64-$app.service /etc/systemd/system/nat64-$app.service 0644"
    echo "apps/$app/contrib/nat64-$app.sysusers /etc/sysusers.d/nat64-$app.conf 0644"
    echo "apps/$app/contrib/nat64-$app.tmpfiles /etc/tmpfiles.d/nat64-$app.conf 0644"
  done
  echo "apps/receiver/contrib/nat64-receiver.logrotate /etc/logrotate.d/nat64-receiver 0644"
}

live_system() {
  [ -z "$DESTDIR" ]
}

systemd_running() {
  live_system && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1
}

# The units name /opt/nat64-handoff and /usr/local/bin; an install elsewhere rewrites them.
place_file() {
  local source=$1 destination=$DESTDIR$2 mode=$3
  install -d -m 0755 "$(dirname "$destination")"
  sed -e "s#/opt/nat64-handoff#$PREFIX#g" -e "s#/usr/local/bin#$BINDIR#g" "$source" >"$destination.new"
  chmod "$mode" "$destination.new"
  mv -f "$destination.new" "$destination"
}

deploy_app() {
  local app=$1 target=$DESTDIR$PREFIX/$app
  local staging=$DESTDIR$PREFIX/.$app.new
  rm -rf "$staging"
  # A copy of the app with its production dependencies (workspace packages injected as real
  # directories, native addons as built here), relocatable, with nothing pointing back into the checkout.
  pnpm --config.inject-workspace-packages=true --config.package-import-method=copy --filter "@nat64/$app" deploy --prod --prefer-offline --reporter=append-only "$staging" >/dev/null
  chmod 0755 "$staging/dist/main.js"
  # What only building and testing need: sources, tests, build caches.
  local package
  for package in "$staging" "$staging"/node_modules/.pnpm/@nat64+*/node_modules/@nat64/*; do
    rm -rf "$package"/{src,test,bench,.turbo,tsconfig.json,tsconfig.tsbuildinfo,pnpm-lock.yaml}
  done
  # Of a native addon's build, only the addon itself is loaded (not its objects and static libraries).
  find "$staging/node_modules" -path '*/build/Release/*' ! -name '*.node' -prune -exec rm -rf {} +
  rm -rf "$target.old"
  if [ -e "$target" ]; then mv "$target" "$target.old"; fi
  mv "$staging" "$target"
  rm -rf "$target.old"
  local link=$DESTDIR$BINDIR/nat64-$app
  install -d -m 0755 "$(dirname "$link")"
  # Relative, so that it holds inside DESTDIR and in the final root alike.
  ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$target/dist/main.js")" "$link"
}

place_config() {
  local app=$1 destination=$DESTDIR$CONFIG_DIR/$1.json
  install -d -m 0755 "$DESTDIR$CONFIG_DIR"
  if [ -e "$destination" ]; then
    echo "install: keeping $CONFIG_DIR/$app.json"
    return
  fi
  install -m 0640 "apps/$app/contrib/$app.example.json" "$destination"
  # The daemon reads it as its own group; the user exists once sysusers has run (live system only).
  if live_system; then chgrp "nat64-$app" "$destination"; fi
}

do_install() {
  local node_major
  node_major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$node_major" -lt 20 ]; then
    echo "install: Node.js 20 or newer is needed (found $(node --version))" >&2
    exit 69
  fi
  pnpm run --silent build >/dev/null
  local app source destination mode
  for app in "${APPS[@]}"; do deploy_app "$app"; done
  while read -r source destination mode; do place_file "$source" "$destination" "$mode"; done < <(installed_files)
  if live_system; then
    for app in "${APPS[@]}"; do
      systemd-sysusers "/etc/sysusers.d/nat64-$app.conf"
      systemd-tmpfiles --create "/etc/tmpfiles.d/nat64-$app.conf"
    done
  fi
  for app in "${APPS[@]}"; do place_config "$app"; done
  if systemd_running; then systemctl daemon-reload; fi
  echo "install: nat64-gateway and nat64-receiver $(node -p "require('./apps/gateway/package.json').version") in $DESTDIR$PREFIX, commands in $DESTDIR$BINDIR"
  echo "install: edit $CONFIG_DIR/gateway.json or receiver.json, then: systemctl enable --now nat64-gateway (or nat64-receiver)"
}

do_uninstall() {
  local app source destination mode
  if systemd_running; then
    for app in "${APPS[@]}"; do systemctl disable --now "nat64-$app.service" 2>/dev/null || true; done
  fi
  while read -r source destination mode; do rm -f "$DESTDIR$destination"; done < <(installed_files)
  for app in "${APPS[@]}"; do
    local link=$DESTDIR$BINDIR/nat64-$app
    if [ -L "$link" ]; then rm -f "$link"; fi
    rm -rf "$DESTDIR$PREFIX/$app" "$DESTDIR$PREFIX/.$app.new" "$DESTDIR$PREFIX/$app.old"
  done
  rmdir "$DESTDIR$PREFIX" 2>/dev/null || true
  if systemd_running; then systemctl daemon-reload; fi
  if $purge; then
    rm -rf "$DESTDIR$CONFIG_DIR"
    local dir
    for dir in "${DATA_DIRS[@]}"; do rm -rf "$DESTDIR$dir"; done
    # The users stay, as with Debian packages: files they own elsewhere must not pass to a new user.
    echo "install: removed nat64-gateway, nat64-receiver, their configuration and data (the users nat64-gateway and nat64-receiver stay)"
  else
    echo "install: removed nat64-gateway and nat64-receiver (kept $CONFIG_DIR, ${DATA_DIRS[*]}; --purge removes them)"
  fi
}

if $uninstall; then do_uninstall; else do_install; fi
