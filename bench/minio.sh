# Sourced by the bench scripts that need an S3 server (bench/scale.sh,
# bench/merge-s3.sh), from the repository's root.
#
# minio_up: unless IAMLENS_MINIO_ENDPOINT names a server, starts the MinIO
# that scripts/test.sh installs (.cache/bin/minio) on a free 127.0.0.1 port
# and exports IAMLENS_MINIO_*; then sets ep to the endpoint and exports the
# credentials and settings the AWS SDK (and so iamlens) reads.
# minio_down, for the caller's EXIT trap: stops the MinIO minio_up started,
# and removes its data.
minio_pid=
minio_data=

minio_up() {
  if [[ -z "${IAMLENS_MINIO_ENDPOINT:-}" ]]; then
    local bin=$PWD/.cache/bin port
    [[ -x $bin/minio ]] || { echo "no MinIO: run scripts/test.sh once (it installs .cache/bin/minio)" >&2; exit 1; }
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    minio_data=$(mktemp -d)
    export MINIO_ROOT_USER=iamlens-bench MINIO_ROOT_PASSWORD=iamlens-bench-secret
    "$bin/minio" server --quiet --address "127.0.0.1:$port" --console-address "127.0.0.1:0" "$minio_data" > "$minio_data.log" 2>&1 &
    minio_pid=$!
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/minio/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done
    export IAMLENS_MINIO_ENDPOINT=http://127.0.0.1:$port IAMLENS_MINIO_ACCESS_KEY=$MINIO_ROOT_USER IAMLENS_MINIO_SECRET_KEY=$MINIO_ROOT_PASSWORD
  fi
  ep=$IAMLENS_MINIO_ENDPOINT
  export AWS_ACCESS_KEY_ID=$IAMLENS_MINIO_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$IAMLENS_MINIO_SECRET_KEY AWS_REGION=us-east-1
  export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
}

minio_down() {
  if [[ -n $minio_pid ]]; then
    kill "$minio_pid" 2>/dev/null || true
    wait "$minio_pid" 2>/dev/null || true
  fi
  if [[ -n $minio_data ]]; then
    rm -rf "$minio_data" "$minio_data.log"
  fi
}
