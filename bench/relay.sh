#!/usr/bin/env bash
# CPU per notification of 10 alerts: the relay as built from BASE (default
# a9516cf, before issue 11) and from the working tree, side by side in one
# run (bench/relaycpu). Flags after the optional BASE go to relaycpu, e.g.
# bench/relay.sh a9516cf -rounds 20. Results go in BENCHMARKS.md.
source "$(dirname "$0")/lib.sh"
relay_versus relaycpu a9516cf "$@"
