# Sourced by integration tests: `source "$CANONRY_SOURCE_DIR/scripts/services/env.sh" postgres kafka`
# exports the KEY=VALUE lines each named service wrote when its ctest fixture started it.
for _service in "$@"; do
  _env="${CANONRY_SERVICES_DIR:?run through ctest, which sets CANONRY_SERVICES_DIR}/$_service/env"
  if [ ! -f "$_env" ]; then
    echo "integration: service $_service is not running ($_env missing)" >&2
    return 1
  fi
  set -a
  source "$_env"
  set +a
done
unset _service _env
