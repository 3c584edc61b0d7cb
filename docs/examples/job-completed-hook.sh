#!/bin/sh
# Runner job-completed hook: remove leases whose owner died (a runner that was killed, a
# host that rebooted) or whose TTL passed. Live leases are never touched.
#
# Install: copy to /opt/portlease/job-completed.sh (chmod 755), put the portlease
# repository's dist/ at /opt/portlease/dist, and add to each runner's .env file:
#   ACTIONS_RUNNER_HOOK_JOB_COMPLETED=/opt/portlease/job-completed.sh
# Set PORTLEASE_REGISTRY there too if the registry is not /tmp/portlease.
#
# A hook failure never fails the job: report and exit 0.
node /opt/portlease/dist/cli/index.js gc || echo "portlease gc failed (exit $?); leases are reclaimed at the next allocation anyway"
exit 0
