// Plain-text tables for the terminal: columns padded to their widest cell.
export function formatTable(header: string[], rows: string[][]): string {
  const lines = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...lines.map((line) => (line[col] ?? '').length)));
  return lines
    .map((line) =>
      line
        .map((cell, col) => cell.padEnd(widths[col] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
