#!/usr/bin/env bash
# make demo-migrate: a whole tenant-to-tenant migration between two local
# sandbox tenants, no Auth0 account needed. Seeds 5,000 users (profiles,
# metadata, verified and blocked flags, bcrypt password hashes; half with
# ids of their own) into the source, two of them into the target already,
# plus one user of the target's own; the source writes Auth0 support's
# password-hash export of its users (--hash-export). Then a0bulk migrate
# moves them with their hashes (--hashes) and prints the proof.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${A0BULK_BIN:-bin/a0bulk}
out=out
mkdir -p "$out"
work=$(mktemp -d)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
users=5000
conn=Username-Password-Authentication

# bcrypt at cost 10, as Auth0 keeps them: Demo-Passw0rd! and Another-Passw0rd?
hash1='$2b$10$xWfiEheCxw0IHu9dRgTu1u.L4A0HfQBCyd0Kz7us7Rwr1.UFVgW1u'
hash2='$2b$10$Hp9zRGxY5yqLhCLLtivMMe0c46mrLg8jLqM0sxn4xnV.cRYpser2y'
awk -v n="$users" -v h1="$hash1" -v h2="$hash2" 'BEGIN {
  split("Ana Ben Chloé Diego Eun-ji Farah Gustav Hiro Inès Jonas", given, " ")
  split("Silva Müller Kim Dubois Novak Patel Obrien Moreau Li Kowalski", family, " ")
  for (i = 0; i < n; i++) {
    g = given[i % 10 + 1]; f = family[int(i / 10) % 10 + 1]
    id = (i % 2 == 0) ? sprintf("auth0|%024x", i + 1) : sprintf("auth0|legacy-%d", i)
    printf "{\"user_id\":\"%s\",\"email\":\"user%d@example.com\",\"email_verified\":%s,\"given_name\":\"%s\",\"family_name\":\"%s\",\"name\":\"%s %s\",\"blocked\":%s,\"user_metadata\":{\"locale\":\"%s\",\"n\":%d},\"app_metadata\":{\"plan\":\"%s\"},\"password_hash\":\"%s\"}\n",
      id, i, (i % 3 ? "true" : "false"), g, f, g, f, (i % 97 ? "false" : "true"),
      (i % 2 ? "en-GB" : "fr-FR"), i, (i % 5 ? "free" : "gold"), (i % 2 ? h2 : h1)
  }
}' >"$work/source-users.ndjson"
head -2 "$work/source-users.ndjson" >"$work/target-users.ndjson"
echo '{"email":"already.here@example.com","given_name":"Already"}' >>"$work/target-users.ndjson"

start_sandbox() { # NAME [flags...]
  local name=$1; shift
  # stdout elsewhere: $(…) would wait for the sandbox to close it.
  "$bin" sandbox --addr 127.0.0.1:0 --addr-file "$work/$name.addr" --job-delay 1s "$@" >/dev/null 2>"$work/$name.log" &
  echo $!
}
hashes="$out/demo-migrate-$stamp.hashes.ndjson"
source_pid=$(start_sandbox source --users "$work/source-users.ndjson" --hash-export "$hashes")
target_pid=$(start_sandbox target --users "$work/target-users.ndjson" --seed 2)
# On failure the sandboxes' logs are kept in out/ for a look.
trap 'status=$?; kill "$source_pid" "$target_pid" 2>/dev/null || true; wait "$source_pid" "$target_pid" 2>/dev/null || true
      if [ "$status" != 0 ]; then cp "$work/source.log" "$out/demo-migrate-source.log" 2>/dev/null || true
        cp "$work/target.log" "$out/demo-migrate-target.log" 2>/dev/null || true; fi
      rm -rf "$work"' EXIT
for name in source target; do
  for _ in $(seq 200); do [ -s "$work/$name.addr" ] && break; sleep 0.05; done
  [ -s "$work/$name.addr" ] || { echo "demo-migrate: the $name sandbox did not start:"; cat "$work/$name.log"; exit 1; }
done

# Each tenant has its own credentials: the _FROM and _TO variables.
export AUTH0_DOMAIN_FROM=$(cat "$work/source.addr") AUTH0_CLIENT_ID_FROM=demo-source AUTH0_CLIENT_SECRET_FROM=demo-source-secret
export AUTH0_DOMAIN_TO=$(cat "$work/target.addr") AUTH0_CLIENT_ID_TO=demo-target AUTH0_CLIENT_SECRET_TO=demo-target-secret
report="$out/demo-migrate-$stamp.ndjson"
echo "demo-migrate: source tenant http://$AUTH0_DOMAIN_FROM ($users users), target http://$AUTH0_DOMAIN_TO (3 users)"
grep -h 'password hashes' "$work/source.log" || true
echo "\$ a0bulk migrate --from-connection $conn --to-connection $conn --hashes $hashes --report $report"
code=0
"$bin" migrate --from-connection "$conn" --to-connection "$conn" --hashes "$hashes" --report "$report" --no-progress || code=$?
echo
echo "Beside the report: $report.source.ndjson (the source's export, read by any resume)"
echo "and $report.migrate.ndjson (the journal: export job, file sha256, proof)."
echo "The import report has one final line per exported user, naming its line in the export file:"
grep -m1 '"status":"created"' "$report"
echo "…the users who were in the target already:"
grep -m2 '"status":"skipped"' "$report"
echo "The source's password-hash export, in Auth0 support's format, is $hashes"
echo "(joined into the import by user id; its first line, the hash itself left out:)"
head -n 1 "$hashes" | sed -E 's/"passwordHash":"[^"]*"/"passwordHash":"…"/' | head -c 300; echo "…"
case $code in
  0) echo "demo-migrate: done." ;;
  *) echo "demo-migrate: a0bulk exited $code"; exit "$code" ;;
esac
