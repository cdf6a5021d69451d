// A block-style YAML writer for the rendered rule files: std.manifestYamlDoc writes every string on one
// line (the long descriptions would break yamllint's line length) and sorts keys (`expr` after
// `annotations`). Here keys keep a reading order, long strings fold (>-), multi-line ones stay literal
// (|), and plain scalars are used wherever YAML reads them back as the same string.
// Lines up to `width` (yamllint allows 160); longer strings fold into lines of at most `foldWidth`.
local width = 150;
local foldWidth = 110;
local keyOrder = [
  'apiVersion',
  'kind',
  'metadata',
  'spec',
  'name',
  'namespace',
  'interval',
  'rules',
  'record',
  'alert',
  'expr',
  'for',
  'labels',
  'annotations',
  'runbook_url',
  'summary',
  'description',
];
local orderedKeys(object) =
  local keys = std.objectFields(object);
  [k for k in keyOrder if std.member(keys, k)] + [k for k in keys if !std.member(keyOrder, k)];

local spaces(n) = std.repeat(' ', n);
local quoted(s) = std.escapeStringJson(s);
// (std.findSubstr takes milliseconds per call in jsonnet 0.18, std.strReplace microseconds.)
local contains(s, part) = std.strReplace(s, part, '') != s;

// Character sets as objects: std.member on a string is slow in jsonnet 0.18 (seconds per file).
local charSet(chars) = { [c]: true for c in std.stringChars(chars) };
local indicators = charSet('-?:,[]{}#&*!|>\'"%@`. \t');
local numberChars = charSet('0123456789.+-_:eE');
local reserved = { [w]: true for w in ['true', 'false', 'yes', 'no', 'on', 'off', 'null', 'y', 'n', '~'] };

// YAML reads a plain scalar back as this very string (and as a string, not a number, bool or null).
local isPlain(s) =
  local last = s[std.length(s) - 1];
  local scalarLike = std.objectHas(reserved, std.asciiLower(s))
                     || [c for c in std.stringChars(s) if !std.objectHas(numberChars, c)] == [];
  !std.objectHas(indicators, s[0]) && last != ' ' && last != ':' && !scalarLike
  && !contains(s, ': ') && !contains(s, ' #') && !contains(s, '\t') && !contains(s, '\n');

// Words of one line each at most `room` long: a folded block reads them back joined by single spaces.
local fold(words, room) =
  std.foldl(
    function(lines, word)
      local last = if lines == [] then null else lines[std.length(lines) - 1];
      if last != null && std.length(last) + 1 + std.length(word) <= room
      then lines[:std.length(lines) - 1] + [last + ' ' + word]
      else lines + [word],
    words,
    []
  );

local scalarLines(prefix, value, indent) =
  if std.isString(value) then
    local s = value;
    local body = std.rstripChars(s, '\n');
    local words = std.split(s, ' ');
    if s == '' then [prefix + "''"]
    else if contains(body, '\n') || body != s then
      // Literal block: exact lines; `|` keeps one trailing newline, `|-` none.
      if s[0] == ' ' || std.length(s) - std.length(body) > 1 then [prefix + quoted(s)]
      else [prefix + (if body == s then '|-' else '|')] + [
        if line == '' then '' else spaces(indent) + line
        for line in std.split(body, '\n')
      ]
    else if isPlain(s) && std.length(prefix) + std.length(s) <= width then [prefix + s]
    else if std.length(prefix) + std.length(quoted(s)) <= width || std.member(words, '') || s[0] == ' '
    then [prefix + quoted(s)]
    else [prefix + '>-'] + [spaces(indent) + line for line in fold(words, foldWidth - indent)]
  else if std.isObject(value) then [prefix + '{}']
  else if std.isArray(value) then [prefix + '[]']
  else if value == null then [prefix + 'null']
  else [prefix + std.toString(value)];

local nonEmpty(v) = (std.isObject(v) || std.isArray(v)) && std.length(v) > 0;

// One `local` so that the two can call each other.
local
  objectLines(object, indent) = std.flattenArrays([
    local v = object[k];
    local head = spaces(indent) + (if isPlain(k) then k else quoted(k)) + ':';
    if std.isObject(v) && nonEmpty(v) then [head] + objectLines(v, indent + 2)
    else if std.isArray(v) && nonEmpty(v) then [head] + arrayLines(v, indent + 2)
    else scalarLines(head + ' ', v, indent + 2)
    for k in orderedKeys(object)
  ]),
  arrayLines(array, indent) = std.flattenArrays([
    if std.isObject(item) && nonEmpty(item) then
      local lines = objectLines(item, indent + 2);
      [spaces(indent) + '- ' + lines[0][indent + 2:]] + lines[1:]
    else if std.isArray(item) && nonEmpty(item) then [spaces(indent) + '-'] + arrayLines(item, indent + 2)
    else scalarLines(spaces(indent) + '- ', item, indent + 2)
    for item in array
  ]);

{
  // The document's text, newline-terminated; `value` must be an object.
  manifest(value):: std.join('\n', objectLines(value, 0)) + '\n',
}
