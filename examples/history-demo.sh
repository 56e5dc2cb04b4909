#!/usr/bin/env bash
# Two scans of the example fleet around a change in its config repo, and what the history says about them.
# The fleet is copied into a temporary git repo (the history records the config repo's commit); nothing here is
# changed. Usage: examples/history-demo.sh   (after npm ci; FLEETGATE=./bin/fleetgate by default)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fleetgate="${FLEETGATE:-$here/../bin/fleetgate}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$here/fleet" "$work/fleet"
cd "$work/fleet"
git init -q && git add -A
git -c user.name=demo -c user.email=demo@example.invalid commit -qm "fleet as it is"
store="$work/history.db"

echo '$ fleetgate scan --fleet fleet.yaml --history history.db --format json --output scan-1.json'
"$fleetgate" scan --fleet fleet.yaml --history "$store" --format json --output scan-1.json

# The change: tenant namespaces on edge clusters may run 40 pods instead of 30.
sed -i "s/pods: '30'/pods: '40'/" config-repo/overlays/cluster-type-edge/quotas.yaml
git -c user.name=demo -c user.email=demo@example.invalid commit -qam "edge: 40 pods per tenant namespace"
# par01 has picked the change up by the next scan; the other edge clusters have not.
sed -i "0,/pods: '30'/s//pods: '40'/" clusters/par01/resourcequotas.yaml

echo '$ fleetgate scan --fleet fleet.yaml --history history.db --format json --output scan-2.json'
"$fleetgate" scan --fleet fleet.yaml --history "$store" --format json --output scan-2.json
echo
echo '$ fleetgate history trend --history history.db'
"$fleetgate" history trend --history "$store" --format pretty
echo '$ fleetgate history diff --history history.db'
"$fleetgate" history diff --history "$store" --format pretty
echo '$ fleetgate history convergence --history history.db --fleet fleet.yaml'
"$fleetgate" history convergence --history "$store" --fleet fleet.yaml --format pretty || echo "(exit $?)"
