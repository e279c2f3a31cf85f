# The development shells. Hooks only print, make .venv, or pip-install into it: none pulls
# from git, resets files or touches SSH keys.
{
  pkgs,
  lib,
  py, # nix/python.nix's result
  name,
  pipulateFromSource, # true in a Pipulate checkout: its working tree goes first on PYTHONPATH
}:
let
  inherit (pkgs.stdenv.hostPlatform) isLinux;

  # pip's numpy (and most other) manylinux wheels need libstdc++ and zlib, which Nix's Python
  # cannot find on any Linux, WSL included ("libstdc++.so.6: cannot open shared object file").
  # An exported LD_LIBRARY_PATH would fix Python but leak into every program started from the
  # shell (editors, git, browsers), which then load Nix's libraries against the host's glibc.
  # Instead a .pth file in the venv preloads them by absolute path, only in the venv's Python
  # processes: once a library is loaded, the dynamic loader reuses it for the wheel's
  # "libstdc++.so.6" dependency.
  loaderLibs = [
    "${pkgs.stdenv.cc.cc.lib}/lib/libstdc++.so.6"
    "${pkgs.zlib}/lib/libz.so.1"
  ];
  # One line of plain statements: site.py exec()s it in a function, where a comprehension
  # would not see `ctypes` (before Python 3.12). A library gone after garbage collection is
  # skipped, not an error at every start.
  pthLine =
    "import ctypes, os"
    + lib.concatMapStrings (
      p: "; os.path.exists('${p}') and ctypes.CDLL('${p}', mode=ctypes.RTLD_GLOBAL)"
    ) loaderLibs;

  # Sets `root` to the nearest folder at or above $PWD with a pyproject.toml, or returns 1.
  findRoot = ''
    __pipulate_root() {
      root="$PWD"
      while [ ! -f "$root/pyproject.toml" ]; do
        [ -n "$root" ] || return 1
        root="''${root%/*}"
      done
    }
  '';

  # Tests and `--live` start `python -m pipulate` in other folders: PYTHONPATH makes them run
  # the working tree, not the copy built into the environment when the shell was entered.
  sourceHook = ''
    ${findRoot}
    if __pipulate_root && [ -f "$root/pipulate/__init__.py" ]; then
      export PYTHONPATH="$root''${PYTHONPATH:+:$PYTHONPATH}"
    fi
    unset -f __pipulate_root
    unset root
  '';

  venvHook = ''
    # mkShell sets SOURCE_DATE_EPOCH to 1980 (315532800); pip's wheel builds fail on it.
    unset SOURCE_DATE_EPOCH
    # A PYTHONPATH from the caller (or another Nix shell) would put other packages before the
    # venv's and mix them into what pip installs.
    unset PYTHONPATH
    ${findRoot}
    __pipulate_venv() {
      local root
      if ! __pipulate_root; then
        echo "${name} venv shell: no pyproject.toml here or above; run it from the project folder" >&2
        return 0
      fi
      local venv="''${PIPULATE_VENV:-$root/.venv}"
      local python=${lib.escapeShellArg py.python.interpreter}
      if [ ! -x "$venv/bin/python" ]; then
        echo "${name} venv shell: creating $venv with Nix's Python" >&2
        "$python" -m venv "$venv" || return 0
        # Remember which interpreter made it: only such a venv gets Nix's libraries preloaded.
        printf '%s\n' "$python" >"$venv/.nix-python"
      fi
      local made_by=""
      [ ! -f "$venv/.nix-python" ] || made_by="$(<"$venv/.nix-python")"
      if [ -n "$made_by" ] && [ "$made_by" != "$python" ]; then
        echo "${name} venv shell: $venv was made by an older Nix Python; to refresh it: rm -rf $venv, then re-enter" >&2
      fi
      ${lib.optionalString isLinux ''
        # Only for a venv of this very interpreter: these libraries match its glibc.
        if [ "$made_by" = "$python" ]; then
          local site
          site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
          printf '%s\n' ${lib.escapeShellArg pthLine} >"$site/_nix_loader_libs.pth"
        fi
      ''}
      # Install once, and again only when pyproject.toml changes (the stamp holds its hash).
      local digest
      digest="$("$venv/bin/python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$root/pyproject.toml")"
      if [ ! -f "$venv/.installed-nix" ] || [ "$(<"$venv/.installed-nix")" != "$digest" ]; then
        echo "${name} venv shell: pip install -e $root (first entry, or pyproject.toml changed)" >&2
        if (cd "$root" && "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e .); then
          printf '%s\n' "$digest" >"$venv/.installed-nix"
        else
          echo "${name} venv shell: pip install failed (offline?); re-enter the shell to retry" >&2
        fi
      fi
      # shellcheck source=/dev/null
      source "$venv/bin/activate"
    }
    __pipulate_venv
    unset -f __pipulate_venv __pipulate_root
  '';

  # To stderr, so `nix develop -c CMD` output stays CMD's own.
  banner = lines: "\nprintf '%s\\n' ${lib.escapeShellArgs lines} >&2\n";
in
{
  # The app's Python environment built by Nix: entering needs no network and writes nothing.
  default = pkgs.mkShell {
    name = "${name}-dev";
    packages = [
      py.devEnv
      pkgs.sqlite
      pkgs.git
      pkgs.ollama
    ];
    shellHook = lib.optionalString pipulateFromSource sourceHook + banner [
      "${name} dev shell (Python and packages from Nix; nothing was installed or changed)"
      "  python -m pipulate serve    serve http://127.0.0.1:5001 (add --live to reload on edits)"
      "  python -m pytest -q         run the tests (browser/model tests skip without Chromium or the model)"
      "  python -m pipulate doctor   check the setup"
      "  ollama serve                a local model server (then: ollama pull llama3.2)"
    ];
  };

  # For pip/uv users: a .venv made with Nix's interpreter; packages come from PyPI.
  venv = pkgs.mkShell {
    name = "${name}-venv";
    packages = [
      py.python
      pkgs.uv
      pkgs.sqlite
      pkgs.git
    ];
    # uv must use this venv's Python, never download one (those do not run on NixOS).
    UV_PYTHON_DOWNLOADS = "never";
    shellHook =
      venvHook
      + banner [
        "${name} venv shell (.venv from Nix's Python; pip or uv manage its packages)"
        "  pipulate serve                serve http://127.0.0.1:5001"
        "  pip install -e '.[test]'      add the test tools (or: uv pip install -e '.[test]')"
        "  python -m pytest -q           run the tests"
      ];
  };

  # Darwinix: JupyterLab with numpy and the pipulate package importable.
  darwinix = pkgs.mkShell {
    name = "darwinix";
    packages = [
      py.notebookEnv
      pkgs.git
    ];
    shellHook = lib.optionalString pipulateFromSource sourceHook + banner [
      "Darwinix shell (JupyterLab, numpy and pipulate from Nix)"
      "  jupyter lab --ip=127.0.0.1 --no-browser"
      "It listens on 127.0.0.1 only and prints a URL with a fresh token: open that URL"
      "(on WSL in the Windows browser, or: wslview URL; on macOS: open URL)."
    ];
  };
}
