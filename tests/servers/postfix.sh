#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A private Postfix instance for the tests and benchmarks, on 127.0.0.1 only.
#
#   tests/servers/postfix.sh start BASEDIR [PORT]   prints the port it listens on
#   tests/servers/postfix.sh stop BASEDIR
#
# Everything lives under BASEDIR: conf/ (main.cf, master.cf), queue/, data/,
# log/maillog, and mail/inbox/ -- one Maildir that receives the mail of every
# recipient in every domain (virtual delivery, static map).  Runs as root
# (Postfix's master must), touches nothing of the system's mail setup except
# one line in /etc/postfix/main.cf: alternate_config_directories must list a
# private config directory before "postfix -c DIR" accepts it; the entry is
# added under a lock and removed again by "stop".
#
# With POSTFIX_SASL_USER and POSTFIX_SASL_PASSWORD set, it offers AUTH
# (PLAIN, LOGIN, CRAM-MD5) through Cyrus SASL, against a private sasldb
# (BASEDIR/conf/sasl/) holding that one user in realm farceur.test.
#
# With POSTFIX_RELAYHOST=HOST:PORT set, it delivers nothing itself: every
# message is relayed to that server (relayhost = [HOST]:PORT), with
# STARTTLS when offered (smtp_tls_security_level = may).
#
# POSTFIX_MAIN_CF="NAME=VALUE ..." adds settings of the test's own to
# main.cf (smtpd_recipient_limit=2, say).
#
# Exit status: 0 ok; 69 when Postfix cannot run here (not root, package
# missing), with the reason on stderr; 70 when it does not come up (the tail
# of its log is shown).
set -euo pipefail

die () { echo "postfix.sh: $2" >&2; exit "$1"; }

main_cf=/etc/postfix/main.cf
lock=/etc/postfix/.farceur-tests.lock

# Adds (+) or removes (-) $2 in the default main.cf's alternate_config_directories.
edit_alternates () {
  local op=$1 dir=$2
  (
    flock 9
    touch "$main_cf"
    local cur
    cur=$(postconf -h -c /etc/postfix alternate_config_directories 2>/dev/null || true)
    local -a keep=()
    for d in ${cur//,/ }; do [ "$d" != "$dir" ] && keep+=("$d"); done
    [ "$op" = + ] && keep+=("$dir")
    postconf -c /etc/postfix -e "alternate_config_directories = ${keep[*]:-}"
    grep -q '^compatibility_level' "$main_cf" || postconf -c /etc/postfix -e compatibility_level=3.6
  ) 9>"$lock"
}

free_port () {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

write_config () {
  local base=$1 port=$2 conf=$1/conf
  cp /etc/postfix/master.cf "$conf/master.cf"
  touch "$conf/main.cf"
  echo '/./ OK' >"$conf/domains"
  postconf -c "$conf" -e \
    compatibility_level=3.6 \
    "queue_directory=$base/queue" \
    "data_directory=$base/data" \
    mail_owner=postfix setgid_group=postdrop \
    myhostname=postfix.farceur.test mydomain=farceur.test mydestination= \
    inet_interfaces=127.0.0.1 inet_protocols=ipv4 mynetworks=127.0.0.0/8 \
    alias_maps= alias_database= local_recipient_maps= relayhost= \
    smtp_dns_support_level=disabled \
    "virtual_mailbox_domains=regexp:$conf/domains" \
    "virtual_mailbox_base=$base/mail" \
    virtual_mailbox_maps=static:inbox/ \
    "virtual_uid_maps=static:$(id -u postfix)" \
    "virtual_gid_maps=static:$(id -g postfix)" \
    "maillog_file=$base/log/maillog" \
    "maillog_file_prefixes=$base" \
    smtputf8_enable=yes smtpd_banner='$myhostname ESMTP farceur-test'
  # No chroot (the private queue holds no copy of /etc), and the SMTP
  # listener moves to loopback:PORT.
  postconf -c "$conf" -M -X smtp/inet
  postconf -c "$conf" -M "127.0.0.1:$port/inet=127.0.0.1:$port inet n - n - - smtpd"
  postconf -c "$conf" -F '*/*/chroot = n'
}

# Cyrus SASL for smtpd: its own config path and user database under BASEDIR.
write_sasl () {
  # Debian's smtpd reads $config_directory/sasl/smtpd.conf
  local base=$1 conf=$1/conf sasl=$1/conf/sasl
  command -v saslpasswd2 >/dev/null \
    || die 69 "cannot offer AUTH: Debian package 'sasl2-bin' missing (tools/setup installs it)"
  mkdir -p "$sasl"
  cat >"$sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN CRAM-MD5
sasldb_path: $sasl/sasldb2
EOF
  printf '%s' "$POSTFIX_SASL_PASSWORD" \
    | saslpasswd2 -p -c -f "$sasl/sasldb2" -u farceur.test "$POSTFIX_SASL_USER"
  chown -R postfix:postfix "$sasl"
  chmod 600 "$sasl/sasldb2"
  postconf -c "$conf" -e \
    smtpd_sasl_auth_enable=yes smtpd_sasl_type=cyrus smtpd_sasl_path=smtpd \
    "cyrus_sasl_config_path=$sasl" smtpd_sasl_local_domain=farceur.test \
    smtpd_sasl_security_options=noanonymous
}

# Everything goes to POSTFIX_RELAYHOST; nothing is local.
write_relay () {
  local conf=$1/conf host=${POSTFIX_RELAYHOST%:*} port=${POSTFIX_RELAYHOST##*:}
  postconf -c "$conf" -e \
    "relayhost=[$host]:$port" virtual_mailbox_domains= virtual_mailbox_maps= \
    smtp_tls_security_level=may "smtp_tls_CApath=" "smtp_tls_loglevel=1"
}

wait_ready () {
  local port=$1 base=$2
  for _ in $(seq 1 100); do
    if exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
      local greeting=''
      read -r -t 5 greeting <&3 || true
      printf 'QUIT\r\n' >&3 || true
      exec 3<&- 3>&-
      [[ $greeting == 220* ]] && return 0
    fi
    sleep 0.1
  done
  tail -n 20 "$base/log/maillog" >&2 2>/dev/null || true
  die 70 "postfix in '$base' did not answer on 127.0.0.1:$port"
}

start () {
  local base port
  [ "$(id -u)" -eq 0 ] || die 69 "cannot run a private Postfix: not root"
  command -v postfix >/dev/null || [ -x /usr/sbin/postfix ] \
    || die 69 "cannot run a private Postfix: Debian package 'postfix' missing (tools/setup installs it)"
  mkdir -p "$1"
  base=$(cd "$1" && pwd)
  port=${2:-$(free_port)}
  mkdir -p "$base"/{conf,queue,data,log,mail}
  chmod 755 "$base"
  chown postfix:postfix "$base/data" "$base/mail"
  write_config "$base" "$port"
  if [ -n "${POSTFIX_SASL_USER:-}" ]; then write_sasl "$base"; fi
  if [ -n "${POSTFIX_RELAYHOST:-}" ]; then write_relay "$base"; fi
  # shellcheck disable=SC2086 # one NAME=VALUE a word
  if [ -n "${POSTFIX_MAIN_CF:-}" ]; then postconf -c "$base/conf" -e $POSTFIX_MAIN_CF; fi
  edit_alternates + "$base/conf"
  postfix -c "$base/conf" start >&2 2>&1 || die 70 "postfix start failed (see $base/log/maillog)"
  wait_ready "$port" "$base"
  echo "$port" >"$base/port"
  echo "$port"
}

stop () {
  local base
  base=$(cd "$1" && pwd)
  postfix -c "$base/conf" stop >/dev/null 2>&1 || true
  # master exits asynchronously; wait for its pid file to go away.
  for _ in $(seq 1 50); do
    [ -e "$base/queue/pid/master.pid" ] && kill -0 "$(tr -d ' ' <"$base/queue/pid/master.pid")" 2>/dev/null \
      || break
    sleep 0.1
  done
  edit_alternates - "$base/conf"
}

case ${1:-} in
  start) [ $# -ge 2 ] || die 64 "usage: postfix.sh start BASEDIR [PORT]"; start "$2" "${3:-}" ;;
  stop) [ $# -eq 2 ] || die 64 "usage: postfix.sh stop BASEDIR"; stop "$2" ;;
  *) die 64 "usage: postfix.sh start BASEDIR [PORT] | stop BASEDIR" ;;
esac
