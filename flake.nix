{
  description = "Pipulate: a local-first FastHTML web app, with Nix shells and apps for it and its variants";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  # Kept thin: everything lives in nix/*.nix. Pipulate is built as a variant of itself, with
  # the same lib.mkVariant that branded variants call.
  outputs =
    { self, nixpkgs }:
    let
      pipulateLib = import ./nix/lib.nix {
        inherit nixpkgs;
        coreSrc = self;
      };
    in
    pipulateLib.mkVariant {
      src = self;
      name = "pipulate";
      pipulateFromSource = true;
    }
    // {
      lib = pipulateLib;
    };
}
