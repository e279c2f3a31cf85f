# `nix run` targets. Each is a small script around the Nix-built environment, so it works from
# any folder: data goes to the user's data directory, not to ./data.
{
  pkgs,
  lib,
  py, # nix/python.nix's result
  name,
  port ? null, # the brand's port; PIPULATE_PORT still wins
  configFile ? null, # a variant's pipulate.toml; PIPULATE_CONFIG still wins
}:
let
  python = "${py.appEnv}/bin/python";
  # XDG on Linux (WSL too), Application Support on macOS. PIPULATE_DATA_DIR overrides.
  defaultDataDir =
    if pkgs.stdenv.hostPlatform.isDarwin then
      ''"$HOME/Library/Application Support/${name}"''
    else
      ''"''${XDG_DATA_HOME:-$HOME/.local/share}/${name}"'';
  preamble = ''
    data_dir="''${PIPULATE_DATA_DIR:-${defaultDataDir}}"
    ${lib.optionalString (port != null) ''export PIPULATE_PORT="''${PIPULATE_PORT:-${toString port}}"''}
    ${lib.optionalString (configFile != null) ''export PIPULATE_CONFIG="''${PIPULATE_CONFIG:-${configFile}}"''}
  '';
  script =
    scriptName: text:
    pkgs.writeShellApplication {
      name = scriptName;
      runtimeInputs = [ pkgs.coreutils ];
      text = preamble + text;
    };

  # Binds 127.0.0.1 (pipulate's default); options after `--` go to `pipulate serve`.
  serve = script "${name}-serve" ''
    exec ${python} -m pipulate serve --data-dir "$data_dir" "$@"
  '';

  ollama = script "${name}-ollama" ''
    export OLLAMA_HOST="''${OLLAMA_HOST:-127.0.0.1:11434}"
    export OLLAMA_MODELS="''${OLLAMA_MODELS:-$data_dir/ollama/models}"
    mkdir -p "$OLLAMA_MODELS"
    exec ${pkgs.ollama}/bin/ollama serve "$@"
  '';

  # Starts Ollama only when none answers, and stops only what it started (by PID, on exit,
  # Ctrl-C included: a background job of a script ignores SIGINT, so the trap must kill it).
  # Like the ollama app, it respects a user's OLLAMA_HOST (host, host:port or a URL): that is
  # where it looks for an Ollama, where it starts one, and what the app's chat talks to.
  up = script "${name}-up" ''
    export OLLAMA_HOST="''${OLLAMA_HOST:-127.0.0.1:11434}"
    export OLLAMA_MODELS="''${OLLAMA_MODELS:-$data_dir/ollama/models}"
    ollama_answers() { # $1: seconds to keep trying
      ${python} - "$1" <<'PY'
    import os, sys, time, urllib.parse, urllib.request
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    host = os.environ["OLLAMA_HOST"].strip().rstrip("/")
    if "://" not in host:
        host = "http://" + host
    if urllib.parse.urlsplit(host).port is None:  # no port: Ollama's default
        host += ":11434"
    deadline = time.monotonic() + float(sys.argv[1])
    while True:
        try:
            opener.open(host + "/api/version", timeout=1).close()
            sys.exit(0)
        except Exception:
            if time.monotonic() >= deadline:
                sys.exit(1)
            time.sleep(0.3)
    PY
    }
    ollama_pid=""
    stop_ollama() {
      if [ -n "$ollama_pid" ]; then
        kill "$ollama_pid" 2>/dev/null || true
        wait "$ollama_pid" 2>/dev/null || true
      fi
    }
    trap stop_ollama EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    if ollama_answers 0; then
      echo "${name}: using the Ollama that answers at $OLLAMA_HOST" >&2
    else
      mkdir -p "$data_dir" "$OLLAMA_MODELS"
      echo "${name}: starting Ollama on $OLLAMA_HOST (log: $data_dir/ollama.log)" >&2
      ${pkgs.ollama}/bin/ollama serve >"$data_dir/ollama.log" 2>&1 &
      ollama_pid=$!
      ollama_answers 20 || echo "${name}: Ollama did not answer within 20 s; starting the app anyway" >&2
    fi
    ${serve}/bin/${name}-serve "$@"
  '';

  doctor = script "${name}-doctor" ''
    export PIPULATE_DATA_DIR="$data_dir"
    exec ${python} -m pipulate doctor "$@"
  '';

  app = drv: description: {
    type = "app";
    program = "${drv}/bin/${drv.name}";
    meta.description = description;
  };
in
{
  inherit serve;
  apps = {
    default = app serve "Serve ${name} on 127.0.0.1 with its data in the user's data directory";
    ollama = app ollama "Run Ollama on 127.0.0.1:11434 with its models in ${name}'s data directory";
    up = app up "Start Ollama unless one answers at $OLLAMA_HOST (default 127.0.0.1:11434), then serve ${name}; stop what it started on exit";
    doctor = app doctor "Check ${name}'s setup (python -m pipulate doctor)";
  };
}
