#!/usr/bin/env bash
# Peak RSS of the relay under 20 notifications of 1.9 MB at once to a hanging
# channel: the relay as built from BASE (default a5ebd6f^, before the
# in-flight bound) and from the working tree (bench/relaymem). Flags after
# the optional BASE go to relaymem. Results go in BENCHMARKS.md.
source "$(dirname "$0")/lib.sh"
relay_versus relaymem 'a5ebd6f^' "$@"
