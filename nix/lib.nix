# lib.mkVariant: what a branded variant's flake calls to get Pipulate's shells, apps and checks.
# Pipulate's own outputs are made with it too, so a variant gets exactly what the core has.
#
#   outputs = { self, pipulate, ... }:
#     pipulate.lib.mkVariant { src = self; name = "botifython"; port = 5002; };
#
# The variant's src may hold a pipulate.toml (brand, plugin_dirs...): the apps use it.
{
  nixpkgs, # the core's pinned nixpkgs, the default for variants
  coreSrc, # the Pipulate checkout the package and pyproject.toml come from
}:
let
  # One system: { pkgs, src, name, port?, extraPythonPackages? } -> { devShells, apps, packages, checks }.
  mkVariantFor =
    {
      pkgs,
      src ? coreSrc,
      name ? "pipulate",
      port ? null,
      extraPythonPackages ? ps: [ ],
      # true for a variant that serves the SEO tools (packages/seo): Pipulate and Botifython.
      seo ? false,
      # true when src is a Pipulate checkout: the dev shell puts its working tree first on
      # PYTHONPATH, and its test suite and .nix formatting become checks.
      pipulateFromSource ? false,
    }:
    let
      inherit (pkgs) lib;
      py = import ./python.nix {
        inherit
          pkgs
          lib
          coreSrc
          extraPythonPackages
          ;
        withSeo = seo;
      };
      configFile = if builtins.pathExists "${src}/pipulate.toml" then "${src}/pipulate.toml" else null;
      apps = import ./apps.nix {
        inherit
          pkgs
          lib
          py
          name
          port
          configFile
          ;
      };
      checks = import ./checks.nix {
        inherit pkgs lib py;
        inherit (apps) serve;
        src = coreSrc;
      };
    in
    {
      devShells = import ./shells.nix {
        inherit
          pkgs
          lib
          py
          name
          pipulateFromSource
          ;
      };
      inherit (apps) apps;
      packages = {
        default = apps.serve;
        inherit (py) pipulate;
      };
      # A variant checks its own app (the package imports, /ws answers); the core's test suite
      # and formatting are the core's checks.
      checks = if pipulateFromSource then checks else { inherit (checks) numpy websocket; };
    };

  # Every system: the same arguments, plus nixpkgs and systems to override the core's.
  mkVariant =
    {
      nixpkgs ? defaultNixpkgs,
      systems ? import ./systems.nix,
      ...
    }@args:
    let
      inherit (nixpkgs) lib;
      perSystem = lib.genAttrs systems (
        system:
        mkVariantFor (
          removeAttrs args [
            "nixpkgs"
            "systems"
          ]
          // {
            pkgs = nixpkgs.legacyPackages.${system};
          }
        )
      );
      output = attr: lib.mapAttrs (_system: outputs: outputs.${attr}) perSystem;
    in
    {
      devShells = output "devShells";
      apps = output "apps";
      packages = output "packages";
      checks = output "checks";
      formatter = lib.genAttrs systems (system: nixpkgs.legacyPackages.${system}.nixfmt-tree);
    };
  defaultNixpkgs = nixpkgs;
in
{
  inherit mkVariant mkVariantFor;
}
