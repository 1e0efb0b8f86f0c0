export interface Figure {
  name: string;
  value: string;
  /** The floor server's figure, where one applies. */
  floor?: string;
  ratio?: number;
  /** What `ratio` divides; default: the service's figure over the floor's. */
  ratioLabel?: string;
  target: string;
  met: boolean;
}

/** The figures as a plain-text table on stdout. */
export function printTable(figures: Figure[]): void {
  const header = ['What', 'Measured', 'Floor', 'Ratio', 'Target', 'Met'];
  const lines = figures.map((f) => [
    f.name,
    f.value,
    f.floor ?? '',
    f.ratio === undefined ? '' : `${f.ratio.toFixed(2)}${f.ratioLabel ? ` (${f.ratioLabel})` : ''}`,
    f.target,
    f.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  process.stdout.write([row(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(row), ''].join('\n'));
}
