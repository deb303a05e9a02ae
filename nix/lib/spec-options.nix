# Option declarations generated from the spec's JSON Schema (`xoa schema`, committed as nix/spec-schema.json),
# so every spec field has a NixOS option with the same name, default and description, and the spec JSON the
# module writes is read back from those options by the same walk. The TypeScript schema stays the one source
# of truth: the CLI validates the JSON again when the module renders config.toml (at build time).
{ lib }:
let
  inherit (lib) mkOption types;

  # A property whose value is itself a group of options (a nested object with known keys).
  isGroup = s: (s.type or null) == "object" && s ? properties;

  intType =
    s:
    if s ? minimum && s ? maximum then
      types.ints.between s.minimum s.maximum
    else if s ? minimum then
      types.addCheck types.int (n: n >= s.minimum)
    else
      types.int;

  typeOf =
    path: s:
    if s ? enum then
      types.enum s.enum
    # A value of several forms, e.g. an env value: a string or `{ file = "/run/secrets/x"; }` (secretFileRef).
    else if s ? anyOf then
      types.oneOf (map (typeOf path) s.anyOf)
    # A union of shapes told apart by a field (xoState.remotes: one per remote type): free-form here, the CLI
    # validates it.
    else if s ? oneOf then
      types.anything
    else if s.type == "boolean" then
      types.bool
    else if s.type == "integer" then
      intType s
    else if s.type == "string" then
      types.str
    else if s.type == "array" then
      types.listOf (typeOf path s.items)
    else if isGroup s then
      types.submodule { options = optionsOf path s // requiredOf path s; }
    else if s.type == "object" && (s.additionalProperties or { }) != { } then
      types.attrsOf (typeOf path s.additionalProperties)
    else if s.type == "object" then
      types.attrsOf types.anything
    else
      throw "nix/lib/spec-options.nix: no Nix type for ${lib.concatStringsSep "." path} (${builtins.toJSON s})";

  # Optional spec fields (no default in the schema) become nullable options defaulting to null; nulls are
  # dropped again when the spec is written, so the CLI sees the field as absent.
  optionOf =
    path: s:
    if isGroup s then
      optionsOf path s
    else
      mkOption (
        {
          type = if s ? default then typeOf path s else types.nullOr (typeOf path s);
          default = s.default or null;
          description = s.description or "Spec field `${lib.concatStringsSep "." path}`.";
        }
        // lib.optionalAttrs (s ? enum) { example = lib.last s.enum; }
      );

  optionsOf = path: s: lib.mapAttrs (name: p: optionOf (path ++ [ name ]) p) s.properties;

  # Inside a value (a map's entry), a required field without a default must be given: no null default.
  requiredOf =
    path: s:
    lib.genAttrs (lib.filter (n: !(s.properties.${n} ? default)) (s.required or [ ])) (
      name:
      mkOption {
        type = typeOf (path ++ [ name ]) s.properties.${name};
        description = s.properties.${name}.description or "Spec field `${lib.concatStringsSep "." (path ++ [ name ])}`.";
      }
    );

  # The spec value of a group: walk the schema, read each field from the option values, drop nulls.
  valuesOf =
    s: v:
    lib.filterAttrs (_: x: x != null) (
      lib.mapAttrs (name: p: if isGroup p then valuesOf p v.${name} else v.${name}) s.properties
    );
in
{
  inherit
    isGroup
    optionsOf
    typeOf
    valuesOf
    ;

  schema = lib.importJSON ../spec-schema.json;
}
