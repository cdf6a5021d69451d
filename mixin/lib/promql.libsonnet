// PromQL pieces the rules and the dashboard share.
{
  // As strings: jsonnet prints 0.9 as 0.90000000000000002.
  quantiles: [
    { quantile: '0.5', percentile: '50' },
    { quantile: '0.9', percentile: '90' },
    { quantile: '0.99', percentile: '99' },
  ],

  // `a|b|c` for a regex matcher.
  alternatives(values):: std.join('|', values),

  // 'SIGSEGV, SIGABRT or SIGKILL'
  inWords(values)::
    if std.length(values) <= 1 then std.join('', values)
    else std.join(', ', values[:std.length(values) - 1]) + ' or ' + values[std.length(values) - 1],

  // '5m' -> '5 minutes' for descriptions; anything else as it is.
  durationInWords(d)::
    local units = { s: 'second', m: 'minute', h: 'hour', d: 'day' };
    local unit = d[std.length(d) - 1];
    local number = d[:std.length(d) - 1];
    local isNumber = number != '' && [c for c in std.stringChars(number) if !std.member('0123456789', c)] == [];
    if std.objectHas(units, unit) && isNumber
    then number + ' ' + units[unit] + (if number == '1' then '' else 's')
    else d,

  // 'job="procevents"' -> 'job procevents', for prose.
  selectorInWords(selector):: std.strReplace(std.strReplace(std.strReplace(selector, '=~', ' '), '="', ' '), '"', ''),
}
