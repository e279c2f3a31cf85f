"""Tests of the Nix flake (flake.nix, nix/*.nix), evaluated offline against tests/nix/stub-nixpkgs."""
