# The few nixpkgs lib functions Pipulate's flake uses, with nixpkgs' semantics. A function
# missing here is an evaluation error: add it (copying nixpkgs' behaviour) when the flake needs it.
let
  inherit (builtins)
    concatStringsSep
    filter
    isString
    listToAttrs
    mapAttrs
    match
    replaceStrings
    stringLength
    substring
    ;
  hasPrefix = prefix: str: substring 0 (stringLength prefix) str == prefix;
  hasSuffix =
    suffix: str:
    let
      n = stringLength str;
      k = stringLength suffix;
    in
    n >= k && substring (n - k) k str == suffix;
  escapeShellArg =
    arg:
    let
      string = toString arg;
    in
    if match "[[:alnum:],._+:@%/-]+" string == null then
      "'${replaceStrings [ "'" ] [ "'\\''" ] string}'"
    else
      string;
  chars = s: builtins.genList (i: substring i 1 s) (stringLength s);
in
{
  inherit
    concatStringsSep
    filter
    isString
    mapAttrs
    hasPrefix
    hasSuffix
    escapeShellArg
    ;
  filterAttrs =
    pred: set:
    listToAttrs (
      map (name: {
        inherit name;
        value = set.${name};
      }) (filter (name: pred name set.${name}) (builtins.attrNames set))
    );
  nameValuePair = name: value: { inherit name value; };
  "mapAttrs'" = f: set: listToAttrs (map (name: f name set.${name}) (builtins.attrNames set));
  optionalAttrs = cond: set: if cond then set else { };
  recursiveUpdate =
    lhs: rhs:
    lhs
    // mapAttrs (
      name: value:
      if builtins.isAttrs value && builtins.isAttrs (lhs.${name} or null) && !(value ? outPath) then
        (import ./lib.nix).recursiveUpdate lhs.${name} value
      else
        value
    ) rhs;
  genAttrs = names: f: listToAttrs (map (name: { inherit name; value = f name; }) names);
  toLower = replaceStrings (chars "ABCDEFGHIJKLMNOPQRSTUVWXYZ") (chars "abcdefghijklmnopqrstuvwxyz");
  importJSON = path: builtins.fromJSON (builtins.readFile path);
  removePrefix =
    prefix: str: if hasPrefix prefix str then substring (stringLength prefix) (-1) str else str;
  optionals = cond: elems: if cond then elems else [ ];
  optionalString = cond: string: if cond then string else "";
  concatMapStrings = f: list: builtins.concatStringsSep "" (map f list);
  escapeShellArgs = list: concatStringsSep " " (map escapeShellArg list);
}
