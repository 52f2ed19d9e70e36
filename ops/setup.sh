#!/usr/bin/env bash
# Installs what the project needs and the machine lacks; does nothing when all is there.
# Needs: Swift (on the machine image), librdkafka-dev (2.0.x), PostgreSQL server binaries, curl, and
# for the browser tests headless Chromium (and chromedriver) with a Chinese font; promtool for the alert rules.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

missing=()
pkg-config --exists rdkafka 2>/dev/null || missing+=(librdkafka-dev)
command -v pkg-config >/dev/null || missing+=(pkg-config)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v psql >/dev/null || missing+=(postgresql-client)
command -v curl >/dev/null || missing+=(curl)
command -v chromium >/dev/null || missing+=(chromium)
# The workbench's browser tests drive Chromium through WebDriver.
command -v chromedriver >/dev/null || missing+=(chromium-driver)
dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || missing+=(fonts-wqy-microhei)
# promtool (in Debian's prometheus package) checks the alert rules; the server is not started.
command -v promtool >/dev/null || missing+=(prometheus)
# libfaketime runs the suite as if today were another day (TEST_TODAY, see ops/test.sh).
dpkg -s faketime >/dev/null 2>&1 || missing+=(faketime)
# A real SMTP server for the tests of e-mailed notices (ops/test/smtp-sink.py).
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || missing+=(python3-aiosmtpd)
# pdftotext reads back the documents the browser tests print to PDF.
command -v pdftotext >/dev/null || missing+=(poppler-utils)

if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # No package's service may start here (prometheus would); policy-rc.d refuses them.
  policy=/usr/sbin/policy-rc.d
  [ -e "$policy" ] || { printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null; $sudo chmod +x "$policy"; trap '$sudo rm -f "$policy"' EXIT; }
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || die "Swift is not installed (expected on the machine image)"
say "set-up complete: librdkafka $(pkg-config --modversion rdkafka), $(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
