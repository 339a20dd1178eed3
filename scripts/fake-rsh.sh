#!/usr/bin/env bash
# An rsh agent for Open MPI (--mca plm_rsh_agent) that "logs in" to a simulated host on
# this machine: the remote command runs in its own UTS namespace whose host name is the
# target's (so the daemon and its ranks see that name, as on a real host), with a clean
# environment (only what a login shell would have; everything else must come through
# mpirun's -x, as on a cluster). Used by tests/e2e/hosts3.sh.
#   fake-rsh.sh [ssh-style options] HOST COMMAND...
set -eu
while [ $# -gt 0 ]; do
    case "$1" in
        -x | -T | -q | -n | -a) shift ;;                      # ssh flags without a value
        -o | -p | -l | -i) shift 2 ;;                        # ssh flags with a value
        -*) shift ;;
        *) break ;;
    esac
done
host=$1
shift
exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="${HOME:-/root}" \
    LANG=C.UTF-8 unshare --uts /bin/sh -c 'hostname "$1" && shift && exec /bin/sh -c "$*"' \
    fake-rsh "$host" "$@"
