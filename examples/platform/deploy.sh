#!/usr/bin/env bash
# Uploads the two customers into the "customers" dispatch namespace and writes their routes.
set -euo pipefail
cd "$(dirname "$0")"
URL=${KILN_URL:-http://127.0.0.1:8787}
TOKEN=${KILN_ADMIN_TOKEN:-dev-token}
KILN=${KILN:-kiln}
"$KILN" deploy customers/alice --dispatch-namespace customers --url "$URL" --token "$TOKEN"
"$KILN" deploy customers/bob --dispatch-namespace customers --url "$URL" --token "$TOKEN"
curl -fsS -X PUT -H 'x-platform-key: dev-key' "$URL/__routes/alice" -d '{"script":"alice-site","plan":"pro"}'; echo
curl -fsS -X PUT -H 'x-platform-key: dev-key' "$URL/__routes/bob" -d '{"script":"bob-blog","plan":"free"}'; echo
