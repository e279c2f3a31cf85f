# The packages Pipulate's flake uses, for one system.
# PROMISE: every attribute name here, at the top level and in python3.pkgs, is a real nixpkgs
# attribute: the names (and the Python packages' versions) come from nix/nixpkgs-inventory.json,
# the committed inventory of the pinned nixpkgs, and nothing else is exposed. A name the flake
# uses that the inventory lacks is an evaluation error, as it would be with the real nixpkgs.
{ lib, system }:
let
  # The stand-in is evaluated as a subfolder of the repository (git+file:...?dir=tests/nix/stub-nixpkgs).
  inventory = (lib.importJSON ../../../nix/nixpkgs-inventory.json).attributes;
  pythonPrefix = "python3Packages.";
  inventoryPython = lib.mapAttrs' (
    attr: entry: lib.nameValuePair (lib.removePrefix pythonPrefix attr) entry
  ) (lib.filterAttrs (attr: _: lib.hasPrefix pythonPrefix attr) inventory);
  inventoryTop = lib.filterAttrs (attr: _: !(lib.hasPrefix pythonPrefix attr)) inventory;
  isLinux = lib.hasSuffix "-linux" system;
  isDarwin = lib.hasSuffix "-darwin" system;
  binPath = pkgs: lib.concatStringsSep ":" (map (p: "${p}/bin") pkgs);

  # Built by the host's /bin/bash with no PATH (Nix sets none): only bash builtins and
  # absolute paths. Building needs --option sandbox false. The script ends in a builtin: when
  # bash execs a coreutils command last, that command closes its stderr before exiting, and
  # Nix 2.8 then kills the build ("failed due to signal 9").
  drv =
    name: script: attrs:
    derivation (
      {
        inherit name system;
        builder = "/bin/bash";
        args = [
          "-c"
          "${script}\n:"
        ];
      }
      // attrs
    );

  # bin/NAME runs the host's NAME found on PATH at run time, skipping /nix/store (so a wrapper
  # never runs another wrapper). Tests choose the host tools by what they put on PATH.
  wrapper = ''
    #!/bin/bash
    # stub-nixpkgs: run the host's @BIN@, the first one on PATH outside /nix/store.
    IFS=: read -ra dirs <<<"$PATH"
    for dir in "''${dirs[@]}"; do
      case "$dir" in /nix/store/* | "") continue ;; esac
      if [ -f "$dir/@BIN@" ] && [ -x "$dir/@BIN@" ]; then exec "$dir/@BIN@" "$@"; fi
    done
    echo "stub-nixpkgs: no @BIN@ on PATH outside /nix/store" >&2
    exit 127
  '';
  tool =
    name: bins: attrs:
    drv name ''
      /bin/mkdir -p "$out/bin"
      for bin in $bins; do
        printf '%s' "''${wrapper//@BIN@/$bin}" >"$out/bin/$bin"
        /bin/chmod +x "$out/bin/$bin"
      done
    '' ({ inherit wrapper bins; } // attrs);

  # lib/FILE links to the host's library (found at build time), for the venv shell's preload.
  hostLib =
    name: file:
    drv name ''
      /bin/mkdir -p "$out/lib"
      for f in /usr/lib/*-linux-gnu/${file} /usr/lib64/${file} /lib64/${file} /usr/lib/${file}; do
        if [ -e "$f" ]; then /bin/ln -s "$f" "$out/lib/${file}"; break; fi
      done
    '' { };

  # A Python package of the inventory: a derivation named like nixpkgs' (python3.13-NAME-VERSION).
  stubPythonPackage =
    name: entry:
    drv "python3.13-${name}-${entry.version}" "/bin/mkdir $out" {
      pname = name;
      inherit (entry) version;
    };
  pythonPackages =
    lib.mapAttrs stubPythonPackage (removeAttrs inventoryPython [ "buildPythonPackage" ])
    // lib.optionalAttrs (inventoryPython ? buildPythonPackage) {
      buildPythonPackage =
        {
          pname,
          version,
          src,
          dependencies ? [ ],
          build-system ? [ ],
          ...
        }@args:
        # nixpkgs wants pyproject = true (or a format) to be explicit.
        assert args ? pyproject || throw "stub-nixpkgs: buildPythonPackage needs pyproject = true";
        drv "python3.13-${pname}-${version}" "/bin/mkdir $out" {
          inherit src dependencies pname version;
          buildSystem = build-system;
          relaxDeps = args.pythonRelaxDeps or [ ];
        };
    };
  pythonBase = tool "python3-3.13-stub" [ "python" "python3" ] { };
  python3 = pythonBase // {
    pkgs = pythonPackages;
    interpreter = "${pythonBase}/bin/python3";
    withPackages =
      f: tool "python3-3.13-env" [ "python" "python3" ] { packages = f pythonPackages; };
  };
  everything = {
    inherit lib python3;

    mkShell =
      {
        packages ? [ ],
        buildInputs ? [ ],
        nativeBuildInputs ? [ ],
        ...
      }@attrs:
      drv (attrs.name or "nix-shell") "echo 'mkShell: for nix develop, not for building' >&2; exit 1" (
        removeAttrs attrs [
          "packages"
          "buildInputs"
          "nativeBuildInputs"
        ]
        // {
          PATH = binPath (packages ++ buildInputs ++ nativeBuildInputs);
          outputs = [ "out" ]; # nix develop's get-env.sh writes the environment to each output
        }
      );

    writeShellApplication =
      {
        name,
        text,
        runtimeInputs ? [ ],
        meta ? { },
        ...
      }:
      drv name ''
        /bin/mkdir -p "$out/bin"
        printf '%s' "$script" >"$out/bin/$name"
        /bin/chmod +x "$out/bin/$name"
      '' {
        script = ''
          #!/bin/bash
          set -o errexit -o nounset -o pipefail
          export PATH="${binPath runtimeInputs}:$PATH"
        ''
        + text;
      }
      // {
        meta = meta // {
          mainProgram = name;
        };
      };

    runCommand =
      name: env: script:
      drv name script (
        removeAttrs env [
          "nativeBuildInputs"
          "buildInputs"
        ]
        // {
          PATH = binPath ((env.nativeBuildInputs or [ ]) ++ (env.buildInputs or [ ]));
        }
      );

    stdenv = {
      hostPlatform = { inherit system isLinux isDarwin; };
      # nixpkgs has this on Darwin too (clang's), but Pipulate must use it only on Linux.
      cc.cc.lib =
        if isLinux then
          hostLib "gcc-lib-stub" "libstdc++.so.6"
        else
          throw "stub-nixpkgs: stdenv.cc.cc.lib is meant for Linux only here";
    };
    zlib = hostLib "zlib-stub" "libz.so.1";

    bashInteractive = tool "bash-interactive-stub" [ "bash" ] { }; # nix develop's shell
    coreutils = tool "coreutils-stub" [ "mkdir" ] { };
    git = tool "git-stub" [ "git" ] { };
    nixfmt-tree = tool "nixfmt-tree-stub" [ "treefmt" ] { };
    ollama = tool "ollama-stub" [ "ollama" ] { };
    sqlite = tool "sqlite-stub" [ "sqlite3" ] { };
    uv = tool "uv-stub" [ "uv" ] { };
    cmake = tool "cmake-stub" [ "cmake" ] { };
    ninja = tool "ninja-stub" [ "ninja" ] { };
    python3Packages = pythonPackages;

    # Nothing is downloaded: the archive stands in as an empty folder that records its URL and hash.
    fetchurl =
      {
        url,
        hash,
        ...
      }:
      drv (baseNameOf url) "/bin/mkdir $out" { inherit url hash; };
  };
in
# Only what the inventory lists (lib is the stand-in's own library, not a package).
{ inherit lib; } // builtins.intersectAttrs inventoryTop everything
