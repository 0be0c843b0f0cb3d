/**
 * A bundle's source map, trimmed to what a stack trace of this project
 * needs. `node --enable-source-maps` (the image's CMD) decodes a bundle's
 * whole map the first time a stack is formatted, and esbuild maps every
 * token of every dependency: for getTask.mjs that was 775,854 characters of
 * mappings over 418 sources, about 90 ms of a start (docs/PERFORMANCE.md
 * "Start"). The trimmed map keeps every segment of the project's own
 * sources and, of a dependency's code, only the first segment of each run
 * (a stretch of one generated line from one source): a frame in
 * `node_modules` still names its file, at the line where that stretch
 * starts, instead of the exact line.
 */

/** A source map as esbuild writes it (version 3, no sections). */
export interface SourceMapV3 {
  version: 3;
  sources: string[];
  names: string[];
  mappings: string;
  sourcesContent?: (string | null)[];
  sourceRoot?: string;
  file?: string;
}

/** One mapping: generated column, then source, its line and column, and a name (all absolute, 0-based). */
type Segment = [column: number, source: number, line: number, sourceColumn: number, name?: number];

const digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const digitValue = new Map([...digits].map((digit, value) => [digit, value]));

/** The Base64 VLQ values of one segment's text. */
function decodeValues(text: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of text) {
    const digit = digitValue.get(char);
    if (digit === undefined) throw new Error(`source map: ${JSON.stringify(char)} is not a Base64 VLQ digit`);
    value += (digit & 31) * 2 ** shift;
    if (digit & 32) shift += 5;
    else {
      values.push(value & 1 ? -(value - 1) / 2 : value / 2);
      value = 0;
      shift = 0;
    }
  }
  if (shift !== 0) throw new Error('source map: a VLQ value is cut off');
  return values;
}

function encodeValue(value: number): string {
  let rest = value < 0 ? -value * 2 + 1 : value * 2;
  let text = '';
  do {
    let digit = rest & 31;
    rest = Math.floor(rest / 32);
    if (rest > 0) digit |= 32;
    text += digits[digit];
  } while (rest > 0);
  return text;
}

/** The mappings as absolute segments, one list per generated line; a segment without a source is dropped. */
export function decodeMappings(mappings: string): Segment[][] {
  const state = [0, 0, 0, 0];
  return mappings.split(';').map((line) => {
    let column = 0;
    const segments: Segment[] = [];
    for (const text of line === '' ? [] : line.split(',')) {
      const values = decodeValues(text);
      column += values[0] ?? 0;
      if (values.length < 4) continue;
      for (let i = 0; i < 3; i++) state[i] = (state[i] ?? 0) + (values[i + 1] ?? 0);
      const segment: Segment = [column, state[0] ?? 0, state[1] ?? 0, state[2] ?? 0];
      if (values.length >= 5) {
        state[3] = (state[3] ?? 0) + (values[4] ?? 0);
        segment.push(state[3]);
      }
      segments.push(segment);
    }
    return segments;
  });
}

/** The inverse of decodeMappings. */
export function encodeMappings(lines: readonly (readonly Segment[])[]): string {
  const previous = [0, 0, 0, 0];
  return lines
    .map((segments) => {
      let column = 0;
      return segments
        .map((segment) => {
          const [at, source, line, sourceColumn, name] = segment;
          let text = encodeValue(at - column);
          column = at;
          text += encodeValue(source - (previous[0] ?? 0));
          text += encodeValue(line - (previous[1] ?? 0));
          text += encodeValue(sourceColumn - (previous[2] ?? 0));
          previous.splice(0, 3, source, line, sourceColumn);
          if (name !== undefined) {
            text += encodeValue(name - (previous[3] ?? 0));
            previous[3] = name;
          }
          return text;
        })
        .join(',');
    })
    .join(';');
}

/**
 * The map with every segment of a source `keep` accepts, the first segment
 * of each run of any other source's, and only the sources and names still
 * used. Where a source's run is cut, the run's first segment covers it, so
 * a position inside maps to the same file.
 */
export function trimSourceMap(map: SourceMapV3, keep: (source: string) => boolean): SourceMapV3 {
  const kept = map.sources.map((source) => keep(source));
  const lines = decodeMappings(map.mappings).map((segments) =>
    segments.filter((segment, i) => kept[segment[1]] || segments[i - 1]?.[1] !== segment[1]),
  );
  // Renumber the sources and names that are left, in their first order.
  const sourceIndex = new Map<number, number>();
  const nameIndex = new Map<number, number>();
  const number = (index: Map<number, number>, old: number) => {
    const now = index.get(old) ?? index.size;
    index.set(old, now);
    return now;
  };
  const renumbered = lines.map((segments) =>
    segments.map(([column, source, line, sourceColumn, name]): Segment => {
      const segment: Segment = [column, number(sourceIndex, source), line, sourceColumn];
      if (name !== undefined) segment.push(number(nameIndex, name));
      return segment;
    }),
  );
  const pick = <T>(values: readonly T[] | undefined, index: Map<number, number>) => {
    const picked: T[] = [];
    for (const [old, now] of index) picked[now] = values?.[old] as T;
    return picked;
  };
  const { sourcesContent, ...rest } = map;
  return {
    ...rest,
    sources: pick(map.sources, sourceIndex),
    names: pick(map.names, nameIndex),
    mappings: encodeMappings(renumbered),
    ...(sourcesContent ? { sourcesContent: pick(sourcesContent, sourceIndex) } : {}),
  };
}
