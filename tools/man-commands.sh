#!/bin/sh
# Prints a help2man include file (the [COMMANDS] section) with the --help of
# every oomwatch subcommand, for the man page `make install` builds.
# Usage: tools/man-commands.sh build/oomwatch > build/man-commands.h2m
set -eu
bin=$1
echo "[COMMANDS]"
# The subcommands, in the order `oomwatch --help` lists them.
"$bin" --help | awk '/^Subcommands:/ {on=1; next} on && NF {print $1}' | while read -r cmd; do
  echo ".SS \"oomwatch $cmd\""
  echo ".nf"
  # The program's name as users type it, not the build path; roff: a leading
  # dot or quote would be read as a request, a backslash as an escape.
  "$bin" "$cmd" --help | sed -e 's|^Usage: [^ ]*oomwatch|Usage: oomwatch|' -e 's/\\/\\e/g' \
    -e "s/^[.']/\\\\\&&/"
  echo ".fi"
done
