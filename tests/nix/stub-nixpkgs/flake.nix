# A tiny stand-in for nixpkgs, so tests/nix can evaluate Pipulate's flake offline:
#   nix flake check --no-build --override-input nixpkgs path:$PWD/tests/nix/stub-nixpkgs
# It has only what the flake uses, under nixpkgs' real names; any other name is an
# evaluation error, as a typo would be with the real nixpkgs.
{
  description = "Stand-in nixpkgs for Pipulate's flake tests";

  outputs =
    { self }:
    let
      lib = import ./lib.nix;
    in
    {
      inherit lib;
      legacyPackages = lib.genAttrs [
        "x86_64-linux"
        "aarch64-linux"
        "aarch64-darwin"
        "x86_64-darwin"
      ] (system: import ./packages.nix { inherit lib system; });
    };
}
