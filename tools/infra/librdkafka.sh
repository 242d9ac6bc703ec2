#!/usr/bin/env bash
# `npm run setup:librdkafka`: installs and builds the optional second Kafka client,
# @confluentinc/kafka-javascript (librdkafka), for KAFKA_CLIENT=confluent.
#
# npm (11) leaves an optional dependency with an install script out of `npm install`/`npm ci` unless that
# script is approved, and its script would fetch a prebuilt binary from the internet. So: install the
# package without scripts, at the version package-lock.json pins, then build librdkafka from the sources it
# ships (about 2 minutes on 2 cores; needs a C/C++ toolchain, make and python3), linking the system's
# OpenSSL, zlib and friends, against the installed Node.js headers (/usr, or npm_config_nodedir).
set -euo pipefail
cd "$(dirname "$0")/../.."
pkg=@confluentinc/kafka-javascript
# The version package-lock.json pins, else the range package.json names.
version=$(node -p "(require('./package-lock.json').packages['node_modules/$pkg'] || {}).version || require('./package.json').optionalDependencies['$pkg']")
echo "installing $pkg@$version (no scripts)…"
npm install --no-save --no-audit --no-fund --ignore-scripts "$pkg@$version"
echo "building librdkafka from source…"
CKJS_LINKING=dynamic npm_config_nodedir="${npm_config_nodedir:-/usr}" npm rebuild "$pkg"
node -e "console.log('built: librdkafka', require('$pkg').librdkafkaVersion)"
