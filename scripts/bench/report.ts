import type { Section } from './section.ts';

/** The `p`th percentile of ascending `sorted` values (nearest rank); NaN when there are none. */
export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

/** A figure for a table cell: `-` when there is none. */
export const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits);

/** A Markdown table, its columns padded so that it reads as well in a terminal as rendered. */
export function markdownTable(section: Pick<Section, 'columns' | 'rows'>): string {
  const escaped = (cell: string) => cell.replaceAll('|', '\\|');
  const rows = [section.columns, ...section.rows].map((row) => row.map(escaped));
  const widths = section.columns.map((_, i) => Math.max(3, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => `| ${widths.map((w, i) => (row[i] ?? '').padEnd(w)).join(' | ')} |`;
  const [head = [], ...body] = rows;
  return [line(head), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...body.map(line)].join('\n');
}

/** A section as Markdown: its title as a heading, the table, then its notes as a list. */
export function formatSection(section: Section, heading = '###'): string {
  const notes = (section.notes ?? []).map((note) => `- ${note}`);
  return [
    `${heading} ${section.title}`,
    '',
    markdownTable(section),
    ...(notes.length ? ['', ...notes] : []),
  ].join('\n');
}

export const beginMarker = (profile: string) => `<!-- bench:begin ${profile} -->`;
export const endMarker = '<!-- bench:end -->';

/** What docs/PERFORMANCE.md starts with when it does not exist yet; edit it freely, the bench keeps it. */
export const defaultPreamble = `# Performance

\`npm run bench\` (scripts/bench.ts) measures the API against its floor on
each profile and rewrites the blocks between the \`bench:begin\` and
\`bench:end\` markers below, one per profile, leaving everything else in this
file as it is. Each block says where, when and how it was measured.
`;

/**
 * The document with the block of each of `blocks`' profiles replaced by its
 * new content (the markers kept), or appended at the end when the document
 * has no block of that profile yet; text outside the markers stays as it is.
 */
export function mergeBlocks(document: string, blocks: ReadonlyMap<string, string>): string {
  let merged = document;
  for (const [profile, content] of blocks) {
    const block = `${beginMarker(profile)}\n${content.trim()}\n${endMarker}`;
    const begin = merged.indexOf(beginMarker(profile));
    if (begin === -1) {
      merged = `${merged.trimEnd()}\n\n${block}\n`;
      continue;
    }
    const end = merged.indexOf(endMarker, begin);
    if (end === -1) throw new Error(`${beginMarker(profile)} has no ${endMarker} after it`);
    merged = merged.slice(0, begin) + block + merged.slice(end + endMarker.length);
  }
  return merged;
}
