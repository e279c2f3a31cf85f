# `nix flake check` builds these on a machine with the network (nothing here downloads at
# build time: the sandbox has no network, only loopback).
{
  pkgs,
  lib,
  py, # nix/python.nix's result
  serve, # nix/apps.nix's serve script: what `nix run` starts
  src, # the Pipulate checkout
}:
{
  # The env `nix run` uses: numpy (a compiled extension) and the package import.
  numpy = pkgs.runCommand "pipulate-numpy-import" { } ''
    ${py.appEnv}/bin/python -c 'import numpy, pipulate; print("numpy", numpy.__version__)'
    touch $out
  '';

  # `nix run`'s app answers a WebSocket handshake on /ws (chat and progress need it): the
  # serve script, on a free loopback port, with its data in the build's temporary folder.
  websocket =
    pkgs.runCommand "pipulate-websocket-smoke"
      {
        nativeBuildInputs = [ py.python ];
        __darwinAllowLocalNetworking = true; # the macOS sandbox blocks loopback servers otherwise
      }
      ''
        export HOME="$TMPDIR" PIPULATE_DATA_DIR="$TMPDIR/data"
        python ${./websocket-smoke.py} ${serve}/bin/${serve.name}
        touch $out
      '';

  # The tests that need no network, browser or model. tests/browser needs Chromium and
  # tests/nix needs nix itself (neither is in the sandbox); tests that need the SmolLM2 model
  # or llama.cpp's server skip, since CI is unset here (under CI=true a skip fails). Servers
  # the tests start bind 127.0.0.1, which the sandbox has (on macOS only with
  # __darwinAllowLocalNetworking); git is for the variant tests (variants are git repositories).
  pytest =
    pkgs.runCommand "pipulate-pytest"
      {
        nativeBuildInputs = [
          py.devEnv
          pkgs.git
        ];
        __darwinAllowLocalNetworking = true;
      }
      ''
        cp -r ${src} source
        chmod -R u+w source
        cd source
        export HOME="$TMPDIR"
        unset CI
        python -m pytest -q -p no:cacheprovider --ignore=tests/browser --ignore=tests/nix tests
        touch $out
      '';

  # The .nix files are nixfmt-formatted (`nix fmt` fixes them).
  format =
    let
      nixFiles = builtins.path {
        name = "pipulate-nix-files";
        path = src;
        filter = path: type: type == "directory" || lib.hasSuffix ".nix" (toString path);
      };
    in
    pkgs.runCommand "pipulate-nixfmt-check" { nativeBuildInputs = [ pkgs.nixfmt-tree ]; } ''
      cp -r ${nixFiles} tree
      chmod -R u+w tree
      cd tree
      export HOME="$TMPDIR"
      treefmt --ci --tree-root "$PWD" --walk filesystem
      touch $out
    '';
}
