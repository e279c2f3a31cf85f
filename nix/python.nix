# The Python side, derived from pyproject.toml so the dependency list lives in one place.
# Each name is looked up in python-packages.json (pyproject name -> nixpkgs attribute); a
# dependency with no entry stops evaluation with a message naming it.
{
  pkgs,
  lib,
  coreSrc, # a checkout of Pipulate: pyproject.toml and pipulate/ come from here
  extraPythonPackages ? ps: [ ], # a variant's additions, e.g. ps: [ ps.pandas ]
}:
let
  python = pkgs.python3;
  ps = python.pkgs;
  pyproject = builtins.fromTOML (builtins.readFile (coreSrc + "/pyproject.toml"));
  mapping = (lib.importJSON ./python-packages.json).packages;

  # "llama-cpp-python[server]==0.3.36" -> "llama-cpp-python" (PEP 503: lower case, runs of
  # "-", "_", "." become "-"), the key python-packages.json uses.
  depName =
    spec:
    let
      bare = builtins.head (builtins.match "[[:space:]]*([A-Za-z0-9._-]+).*" spec);
    in
    lib.toLower (
      lib.concatStringsSep "-" (lib.filter (s: lib.isString s && s != "") (builtins.split "[-_.]+" bare))
    );
  toAttr =
    spec:
    let
      name = depName spec;
    in
    mapping.${name}
      or (throw "nix/python-packages.json has no entry for the Python dependency '${name}'; add its nixpkgs python3.pkgs attribute");
  pkgsFor = specs: map (spec: ps.${toAttr spec}) specs;

  extras = pyproject.project.optional-dependencies;
  runtimeDeps = pkgsFor pyproject.project.dependencies;
  # The test extra (it includes llama-cpp-python, the local-llm extra's only package).
  testDeps = pkgsFor (extras.test ++ extras.local-llm);

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
    dependencies = runtimeDeps;
    # pyproject pins exact versions for pip users; nixpkgs ships its own. Without this the
    # runtime-deps check fails the build whenever nixpkgs has, say, another fastlite.
    pythonRelaxDeps = true;
    # No pythonImportsCheck: the dev shell builds this package on entry, and a half-edited
    # working tree must not stop the shell from opening. checks.numpy imports it instead.
    meta.description = pyproject.project.description;
  };
in
{
  inherit python pipulate;
  # What `nix run` serves with: the package and a variant's additions.
  appEnv = python.withPackages (p: [ pipulate ] ++ extraPythonPackages p);
  # The dev shell and the test check: dependencies, test tools and the package (tests start
  # `python -m pipulate` in other folders; in a checkout the dev shell's PYTHONPATH puts the
  # working tree first).
  devEnv = python.withPackages (p: runtimeDeps ++ testDeps ++ [ pipulate ] ++ extraPythonPackages p);
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
