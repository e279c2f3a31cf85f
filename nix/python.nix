# The Python side, derived from pyproject.toml so the dependency list lives in one place.
#
# A requirement ("uvicorn[standard]>=0.30") becomes packages in two steps:
# - its name: a package this flake builds itself from PyPI (python-overrides.json: the
#   version-sensitive ones, at exactly pyproject.toml's pins, and what those need that nixpkgs
#   at the pin cannot provide), else the nixpkgs python3.pkgs attribute python-packages.json
#   names for it;
# - each of its extras: the packages that extra brings (python-packages.json "extras"). An extra
#   with no entry stops evaluation, so none is ever dropped silently.
# A name with no entry stops evaluation with a message naming it.
{
  pkgs,
  lib,
  coreSrc, # a checkout of Pipulate: pyproject.toml and pipulate/ come from here
  extraPythonPackages ? ps: [ ], # a variant's additions, e.g. ps: [ ps.pandas ]
  withSeo ? false, # the SEO tools (packages/seo) in what `nix run` serves: the Pipulate and Botifython variants
}:
let
  python = pkgs.python3;
  ps = python.pkgs;
  pyproject = builtins.fromTOML (builtins.readFile (coreSrc + "/pyproject.toml"));
  names = lib.importJSON ./python-packages.json;
  fromPyPI = (lib.importJSON ./python-overrides.json).packages;

  # builtins.split's pieces that are text and not empty.
  words = pattern: text: lib.filter (s: lib.isString s && s != "") (builtins.split pattern text);
  # PEP 503: lower case, runs of "-", "_", "." become "-".
  normalize = name: lib.toLower (lib.concatStringsSep "-" (words "[-_.]+" name));
  # "llama-cpp-python[server]==0.3.36" -> { name = "llama-cpp-python"; extras = [ "server" ]; }
  parse =
    spec:
    let
      m = builtins.match "[[:space:]]*([A-Za-z0-9._-]+)[[:space:]]*(\\[([^]]*)])?.*" spec;
      extras = builtins.elemAt m 2;
    in
    {
      name = normalize (builtins.elemAt m 0);
      extras =
        if extras == null then [ ] else map normalize (words "[[:space:],]+" extras);
    };

  unknown =
    name:
    if names.unavailable ? ${name} then
      "the Python dependency '${name}' is not in nixpkgs: ${names.unavailable.${name}}"
    else
      "nix/python-packages.json has no entry for the Python dependency '${name}'; "
      + "add its nixpkgs python3.pkgs attribute";
  attrOf = name: names.packages.${name} or (throw (unknown name));
  package = name: ours.${name} or ps.${attrOf name};
  extraPackages =
    name: extra:
    let
      key = "${name}[${extra}]";
      missing =
        "nix/python-packages.json has no entry in \"extras\" for '${key}'; "
        + "list the packages that extra brings";
    in
    map package (names.extras.${key} or (throw missing));
  # One requirement -> its package and the packages of its extras.
  resolve =
    spec:
    let
      requirement = parse spec;
    in
    [ (package requirement.name) ]
    ++ builtins.concatMap (extraPackages requirement.name) requirement.extras;
  resolveAll = builtins.concatMap resolve;

  # What a package's sdist needs besides its metadata (python-overrides.json "patch").
  patches = {
    # setup.py imports pkg_resources (gone from setuptools 81) only to compare versions.
    setup-py-without-pkg-resources = {
      postPatch = ''
        substituteInPlace setup.py --replace-fail \
          "from pkg_resources import parse_version" \
          "from packaging.version import parse as parse_version"
      '';
    };
    # pyproject.toml pins its build tools exactly (croniter: hatchling==1.30.1, packaging==26.2...),
    # which nixpkgs' build checks: keep the names, build with nixpkgs' versions.
    unpinned-build-system = {
      postPatch = ''
        sed -i -E '/^\[build-system\]/,/^\[/ s/"([A-Za-z0-9._-]+)==[^"]*"/"\1"/' pyproject.toml
        if sed -n '/^\[build-system\]/,/^\[/p' pyproject.toml | grep -q '=='; then
          echo "unpinned-build-system: pyproject.toml still pins a build requirement" >&2
          exit 1
        fi
      '';
    };
    # llama.cpp is vendored in the sdist: build it portable (no -march=native), without git.
    llama-cpp = {
      nativeBuildInputs = [
        pkgs.cmake
        pkgs.ninja
      ];
      dontUseCmakeConfigure = true;
      env.CMAKE_ARGS = "-DGGML_NATIVE=OFF -DGGML_BUILD_NUMBER=1 -DLLAVA_BUILD=OFF";
      enableParallelBuilding = true;
    };
  };

  # The version-sensitive packages, built at exactly their pyproject.toml versions from PyPI's
  # source archives (and croniter, which dbos needs newer than nixpkgs has). Nothing of nixpkgs
  # that the environments hold depends on them, so they replace nothing there.
  ours = builtins.mapAttrs (
    name: entry:
    ps.buildPythonPackage (
      lib.recursiveUpdate {
        pname = name;
        inherit (entry) version;
        pyproject = true;
        src = pkgs.fetchurl { inherit (entry) url hash; };
        build-system = map (attr: ps.${attr}) entry.build-system;
        dependencies = resolveAll entry.dependencies;
        # Only named requirements, each with its reason in python-overrides.json.
        pythonRelaxDeps = builtins.attrNames (entry.relaxDeps or { });
        # The sdist's version, not a git describe (httpx2 and httpcore2 use uv-dynamic-versioning).
        env.UV_DYNAMIC_VERSIONING_BYPASS = entry.version;
        # Their test suites need the network or files the sdists leave out; the import check,
        # pip's dependency check and Pipulate's own tests (checks.pytest) run instead.
        doCheck = false;
        pythonImportsCheck = entry.importsCheck;
        meta.description = "${name} ${entry.version}, built from its PyPI sdist (Pipulate's pin)";
      } (patches.${entry.patch or "none"} or { })
    )
  ) fromPyPI;

  extras = pyproject.project.optional-dependencies;
  runtimeDeps = resolveAll pyproject.project.dependencies;
  # The test extra (it includes llama-cpp-python, the local-llm extra's only package).
  testDeps = resolveAll (extras.test ++ extras.local-llm);

  # Only what the package needs to build, so editing tests or docs does not rebuild it.
  packageSrc = builtins.path {
    name = "pipulate-source";
    path = coreSrc;
    filter =
      path: _type:
      let
        rel = lib.removePrefix (toString coreSrc + "/") (toString path);
      in
      builtins.elem rel [
        "pyproject.toml"
        "README.md"
        "pipulate"
      ]
      || lib.hasPrefix "pipulate/" rel;
  };

  pipulate = ps.buildPythonPackage {
    pname = pyproject.project.name;
    inherit (pyproject.project) version;
    pyproject = true;
    src = packageSrc;
    build-system = [ ps.setuptools ];
    # Every pin is met as written (no pythonRelaxDeps): the pinned packages are built above.
    dependencies = runtimeDeps;
    # No pythonImportsCheck: the dev shell builds this package on entry, and a half-edited
    # working tree must not stop the shell from opening. checks.numpy imports it instead.
    meta.description = pyproject.project.description;
  };
  # The SEO tools: a plugin package of this repository with its own pyproject.toml; its
  # dependencies resolve like the core's, and "pipulate-core" is the package built above.
  seoProject = (builtins.fromTOML (builtins.readFile (coreSrc + "/packages/seo/pyproject.toml"))).project;
  seo = ps.buildPythonPackage {
    pname = seoProject.name;
    inherit (seoProject) version;
    pyproject = true;
    src = builtins.path {
      name = "pipulate-seo-source";
      path = coreSrc + "/packages/seo";
    };
    build-system = [ ps.setuptools ];
    dependencies = [ pipulate ] ++ resolveAll (
      lib.filter (spec: (parse spec).name != "pipulate-core") seoProject.dependencies
    );
    meta.description = seoProject.description;
  };
  seoIf = lib.optionals withSeo [ seo ];
in
{
  inherit python pipulate seo;
  # For the tests: the packages built from PyPI, and how a requirement resolves.
  fromPyPI = ours;
  inherit resolve;
  # What `nix run` serves with: the package and a variant's additions.
  appEnv = python.withPackages (p: [ pipulate ] ++ seoIf ++ extraPythonPackages p);
  # The dev shell and the test check: dependencies, test tools and the package (tests start
  # `python -m pipulate` in other folders; in a checkout the dev shell's PYTHONPATH puts the
  # working tree first).
  devEnv = python.withPackages (
    p: runtimeDeps ++ testDeps ++ [ pipulate seo ] ++ extraPythonPackages p
  );
  # Darwinix: JupyterLab next to numpy and the package.
  notebookEnv = python.withPackages (
    p:
    [
      pipulate
      p.numpy
      p.jupyterlab
    ]
    ++ extraPythonPackages p
  );
}
