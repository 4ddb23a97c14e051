# Sourced by `make run-scaled` before it starts Procfile.scaled: the scaled profile on one machine,
# for testing what runs on several.
# Two Rasa servers (auth token, PostgreSQL tracker store, Redis lock store), two action servers,
# two gateway replicas (web chat on :8080 and :8081; only the first long-polls Telegram). Every
# process is its own, exactly as on separate machines (README: "Running on several machines").
fail() { printf 'run-scaled: %s\n' "$1" >&2; exit 2; }

: "${ADUAN_DATABASE_URL:=postgresql+psycopg://postgres@127.0.0.1:5432/aduan}"
case "$ADUAN_DATABASE_URL" in
  postgresql*) ;;
  *) fail "the scaled profile needs PostgreSQL (ADUAN_DATABASE_URL=postgresql+psycopg://…): several processes share tickets and Rasa's tracker store" ;;
esac
: "${ADUAN_LOCK_STORE_URL:=redis://127.0.0.1:6379/1}"
: "${ADUAN_RASA_HOST:=127.0.0.1}"
# Rasa's API and our channel require this token (secrets come from the environment; one made up
# for this run when none is given, kept owner-only so the CLI tools of this checkout can use it).
mkdir -p -m 700 var/scaled
if [ -z "${ADUAN_RASA_TOKEN:-}" ]; then
  [ -s var/scaled/rasa-token ] || (umask 077; .venv/bin/python -c "import secrets; print(secrets.token_urlsafe(32))" > var/scaled/rasa-token)
  ADUAN_RASA_TOKEN=$(cat var/scaled/rasa-token)
fi
export ADUAN_DATABASE_URL ADUAN_LOCK_STORE_URL ADUAN_RASA_HOST ADUAN_RASA_TOKEN
export ADUAN_RASA_URL="http://127.0.0.1:5005,http://127.0.0.1:5006"
export ADUAN_ACTION_SERVER_URL="http://127.0.0.1:5055,http://127.0.0.1:5056"

.venv/bin/python - <<'PY' || fail "Redis at ${ADUAN_LOCK_STORE_URL%%\?*} does not answer (Rasa's lock store): start redis-server or set ADUAN_LOCK_STORE_URL"
import os, redis
redis.Redis.from_url(os.environ["ADUAN_LOCK_STORE_URL"], socket_connect_timeout=3).ping()
PY
.venv/bin/aduan db upgrade || fail "the database could not be prepared (see above)"
