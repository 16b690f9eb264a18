#!/bin/sh
# One-shot job (temporalio/admin-tools): the namespace citycert runs in, and the search attributes
# its workflows upsert (workflows/search_attributes.py). Safe to run again: what exists is kept.
# Workers register missing attributes too (runtime/temporal.py); doing it here as well
# means the app needs no operator permission on a shared cluster.
set -eu

: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS is required}"
NAMESPACE="${NAMESPACE:?NAMESPACE is required}"
RETENTION="${RETENTION:-720h}"
# NAME:TYPE pairs; tests/deploy checks them against workflows/search_attributes.py.
SEARCH_ATTRIBUTES="CertPhase:Keyword CertLevel:Keyword CertCohort:Keyword CertValidUntil:Datetime"

attempt=1
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do
  if [ "$attempt" -ge 60 ]; then
    echo "Temporal at $TEMPORAL_ADDRESS is not healthy" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 2
done

if temporal operator namespace describe --namespace "$NAMESPACE" --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
else
  temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" \
    --address "$TEMPORAL_ADDRESS"
  echo "namespace $NAMESPACE created (closed workflows kept $RETENTION)"
fi

# A new namespace takes a moment to reach every frontend; retry the whole list until it is there.
attempt=1
while :; do
  missing=""
  if existing=$(temporal operator search-attribute list --namespace "$NAMESPACE" \
      --address "$TEMPORAL_ADDRESS" 2>/dev/null); then
    for pair in $SEARCH_ATTRIBUTES; do
      name="${pair%%:*}"
      if ! printf '%s\n' "$existing" | grep -qw "$name"; then
        missing="$missing $pair"
      fi
    done
    if [ -z "$missing" ]; then
      echo "search attributes registered: $SEARCH_ATTRIBUTES"
      exit 0
    fi
    for pair in $missing; do
      temporal operator search-attribute create --namespace "$NAMESPACE" \
        --name "${pair%%:*}" --type "${pair#*:}" --address "$TEMPORAL_ADDRESS" || true
    done
  fi
  if [ "$attempt" -ge 30 ]; then
    echo "could not register search attributes:$missing" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 2
done
