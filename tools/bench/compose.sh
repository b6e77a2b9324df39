#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Composer benchmarks (issue 2), printed as ratios measured in the same run:
#
#  1. Compose N messages (default 1,000) with a 100 KB attachment and
#     serialise each one:
#       farceur  the library in a loop (bind variables, expand the template,
#                compose, re-parse check, write), build/compose-bench
#       gmime    the same message built with GMime alone (compose-bench gmime)
#       python   Python's email package (EmailMessage, policy.default, as_bytes)
#     Each runs ROUNDS times (default 5), alternating; the best round counts.
#     CPU time (user + system) is the main figure: the machine is shared and
#     wall time swings with the neighbours' load; wall time is shown too.
#     Targets: farceur within 1.3x of gmime, at least 8x python.
#     Also (when valgrind is installed) instructions per message under
#     callgrind, a figure the neighbours' load cannot move.
#  2. Peak RSS (/usr/bin/time -v) of `farceur compose` with a 1 GB attachment
#     (a sparse file) written to /dev/null, next to the bare GMime program.
#     Target: under 32 MB.
#
#   tools/bench/compose.sh [BUILDDIR]      env: N, ROUNDS, BIG (size for truncate)
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${1:-build}
N=${N:-1000}
ROUNDS=${ROUNDS:-5}
BIG=${BIG:-1G}
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" >/dev/null
farceur="$build/src/cli/farceur"
bench="$build/compose-bench"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c 102400 /dev/urandom >"$tmp/flyer.pdf"
cat >"$tmp/bench.tmpl" <<'EOF'
Subject: Hello {{recipient.first_name}} {{group.index}}
Attach: flyer.pdf

Dear {{recipients.names}},

you won a prize: see the attachment.

-- 
{{sender.first_name}}
EOF

cat >"$tmp/bench.py" <<'EOF'
import sys, time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
n, path = int(sys.argv[1]), sys.argv[2]
body = "Dear Bob Durand,\n\nyou won a prize: see the attachment.\n\n-- \nAlice\n"
def one(i):
    msg = EmailMessage()
    msg["From"] = "Alice <alice@example.com>"
    msg["To"] = "Bob Durand <bob@example.org>"
    msg["Subject"] = f"Hello Bob {i}"
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="example.com")
    msg.set_content(body)
    with open(path, "rb") as f:
        msg.add_attachment(f.read(), maintype="application", subtype="pdf", filename="flyer.pdf")
    return msg.as_bytes()
one(0)
wall, cpu = time.monotonic(), time.process_time()
for i in range(n):
    one(i)
print(f"python {n} {time.monotonic() - wall:.3f} {time.process_time() - cpu:.3f}")
EOF

echo "== compose $N messages with a 100 KB attachment, best of $ROUNDS rounds"
results="$tmp/results"
: >"$results"
for ((r = 1; r <= ROUNDS; r++)); do
  "$bench" farceur "$N" "$tmp/bench.tmpl" >>"$results"
  "$bench" gmime "$N" "$tmp/flyer.pdf" >>"$results"
  /usr/bin/python3 "$tmp/bench.py" "$N" "$tmp/flyer.pdf" >>"$results"
done
/usr/bin/python3 - "$results" <<'EOF'
import sys
best = {}
for line in open(sys.argv[1]):
    mode, n, wall, cpu = line.split()
    n, wall, cpu = int(n), float(wall), float(cpu)
    old = best.get(mode, (n, wall, cpu))
    best[mode] = (n, min(old[1], wall), min(old[2], cpu))
print(f"{'':8} {'msg/s (cpu)':>12} {'msg/s (wall)':>13}")
for mode in ("farceur", "gmime", "python"):
    n, wall, cpu = best[mode]
    print(f"{mode:8} {n / cpu:12.0f} {n / wall:13.0f}")
rate = {m: (best[m][0] / best[m][2], best[m][0] / best[m][1]) for m in best}
print(f"farceur time / gmime time : {rate['gmime'][0] / rate['farceur'][0]:.2f}x cpu, "
      f"{rate['gmime'][1] / rate['farceur'][1]:.2f}x wall   (target <= 1.3x)")
print(f"farceur speed / python    : {rate['farceur'][0] / rate['python'][0]:.1f}x cpu, "
      f"{rate['farceur'][1] / rate['python'][1]:.1f}x wall   (target >= 8x)")
print(f"gmime speed / python      : {rate['gmime'][0] / rate['python'][0]:.1f}x cpu")
EOF

# Instructions per message under callgrind (user space only, but
# independent of the machine's load): the difference between a 300- and a
# 100-message run, so start-up costs cancel out.
if command -v valgrind >/dev/null; then
  echo "== instructions per message (callgrind, user space)"
  ir() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
      awk '/Collected/ { print $4 }'
  }
  f1=$(ir "$bench" farceur 100 "$tmp/bench.tmpl")
  f3=$(ir "$bench" farceur 300 "$tmp/bench.tmpl")
  g1=$(ir "$bench" gmime 100 "$tmp/flyer.pdf")
  g3=$(ir "$bench" gmime 300 "$tmp/flyer.pdf")
  awk -v f1="$f1" -v f3="$f3" -v g1="$g1" -v g3="$g3" 'BEGIN {
    f = (f3 - f1) / 200; g = (g3 - g1) / 200
    printf "farceur %.0f, gmime %.0f instructions/message: %.2fx\n", f, g, f / g }'
fi

echo "== peak RSS composing a message with a $BIG attachment (sparse file) to /dev/null"
truncate -s "$BIG" "$tmp/big.bin"
printf 'Subject: big one\nAttach: big.bin\n\nHere is the big file.\n' >"$tmp/big.tmpl"
rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ { print $2 }'; }
fk=$(rss "$farceur" compose "$tmp/big.tmpl" --from a@example.org --to b@example.org -o /dev/null)
gk=$(rss "$bench" gmime 0 "$tmp/big.bin")
echo "farceur compose : $((fk / 1024)) MB peak RSS ($fk KB)   (target < 32 MB)"
echo "gmime alone     : $((gk / 1024)) MB peak RSS ($gk KB)"
