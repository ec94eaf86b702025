// Writing query clauses (docs/query.md) from values the user clicks.

// quote writes a value as a phrase: quoted and unquoted values mean the
// same, and a phrase needs no other escaping than \ and ".
export function quote(v) {
  return '"' + String(v).replace(/[\\"]/g, (c) => '\\' + c) + '"';
}

// fieldName quotes a field name that holds characters the syntax uses.
export function fieldName(f) {
  return /^[A-Za-z0-9_@.\-]+$/.test(f) ? f : quote(f);
}

export function clause(field, value, negate = false) {
  const c = `${fieldName(field)}:${quote(value)}`;
  return negate ? `NOT ${c}` : c;
}

// addClause ANDs a clause to a query, in parentheses when the query has an
// OR at its top (a OR b AND c would bind the clause to b alone).
export function addClause(q, c) {
  q = (q || '').trim();
  if (!q || q === '*') return c;
  if (q.includes(c)) return q;
  const needsParens = /\sOR\s|\|\|/.test(q);
  return `${needsParens ? `(${q})` : q} AND ${c}`;
}

// pivotField is the related.* field that finds everything about a value
// of field: an address, a user or a host; '' when there is none.
export function pivotField(field) {
  if (/(^|\.)ips?$/.test(field)) return 'related.ip';
  if (/(^|\.)user\.name$/.test(field) || field === 'related.user') return 'related.user';
  if (/^(host\.(name|hostname)|related\.hosts)$/.test(field) || /(^|\.)hostname$/.test(field)) return 'related.hosts';
  return '';
}
