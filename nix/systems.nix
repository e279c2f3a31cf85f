# The systems every output is defined for. `nix flake check` evaluates all of them, so a
# package missing on one platform shows up before a user on that platform finds it.
[
  "x86_64-linux"
  "aarch64-linux"
  "aarch64-darwin"
  "x86_64-darwin"
]
