/**
 * Keyset ("seek") pagination: the next page starts strictly after the last row's sort key, so a
 * page costs an index range scan whatever its depth (never OFFSET), and rows inserted meanwhile
 * neither repeat nor shift later pages.
 */
export interface SortColumn {
  /** SQL expression, e.g. `f.max_activation`. */
  expr: string;
  dir: 'ASC' | 'DESC';
}

/** `ORDER BY` clause for the columns (the last ones must make the order total). */
export function orderByClause(cols: readonly SortColumn[]): string {
  return cols.map((c) => `${c.expr} ${c.dir}`).join(', ');
}

/**
 * `WHERE` fragment selecting the rows after `after` (one value per column) in that order; pushes
 * the values onto `params` and refers to them by number. Returns `TRUE` without a cursor.
 */
export function keysetCondition(cols: readonly SortColumn[], after: readonly unknown[] | null, params: unknown[]): string {
  if (!after) return 'TRUE';
  const refs = after.map((v) => {
    params.push(v);
    return `$${params.length}`;
  });
  const ors: string[] = [];
  for (let i = 0; i < cols.length; i++) {
    const eqs = cols.slice(0, i).map((c, j) => `${c.expr} = ${refs[j]}`);
    eqs.push(`${cols[i].expr} ${cols[i].dir === 'DESC' ? '<' : '>'} ${refs[i]}`);
    ors.push(`(${eqs.join(' AND ')})`);
  }
  return `(${ors.join(' OR ')})`;
}

/** Push a value onto `params` and return its `$n` reference. */
export function param(params: unknown[], value: unknown): string {
  params.push(value);
  return `$${params.length}`;
}
