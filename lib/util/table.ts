/**
 * A text table: columns padded to their widest cell. Numbers are
 * right-aligned and text left-aligned, unless `align` sets a column's
 * alignment (header included), as for columns of formatted numbers.
 */
export type Align = 'left' | 'right';

export function table(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>, align?: readonly Align[]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const right = (ri: number, i: number): boolean => (align?.[i] ? align[i] === 'right' : ri > 0 && typeof rows[ri - 1]![i] === 'number');
  return cells
    .map((r, ri) =>
      r
        .map((c, i) => (right(ri, i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
