import { SourceMap, type SourceMapPayload } from 'node:module';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { decodeMappings, encodeMappings, type SourceMapV3, trimSourceMap } from './source-map-trim.ts';

/** esbuild's map of a minified bundle of one project file that calls into one dependency file. */
async function bundleMap(): Promise<SourceMapV3> {
  const files: Record<string, string> = {
    'app.ts': [
      "import { parse } from './node_modules/dep/index.js';",
      'export function handler(input: string) {',
      '  const value = parse(input);',
      "  if (value.length > 3) throw new Error('too long');",
      '  return value;',
      '}',
    ].join('\n'),
    'node_modules/dep/index.js': [
      'export function parse(text) {',
      '  const trimmed = text.trim();',
      "  if (trimmed === '') throw new Error('empty');",
      '  return trimmed.split(",");',
      '}',
    ].join('\n'),
  };
  const result = await build({
    entryPoints: ['app.ts'],
    bundle: true,
    minify: true,
    format: 'esm',
    sourcemap: 'external',
    sourcesContent: false,
    write: false,
    outfile: 'out.mjs',
    logLevel: 'silent',
    plugins: [
      {
        name: 'in-memory',
        setup(b) {
          b.onResolve({ filter: /.*/ }, (args) => ({
            path: args.path.replace(/^\.\//, ''),
            namespace: 'memory',
          }));
          b.onLoad({ filter: /.*/, namespace: 'memory' }, (args) => ({
            contents: files[args.path] ?? '',
            loader: args.path.endsWith('.ts') ? 'ts' : 'js',
          }));
        },
      },
    ],
  });
  const map = result.outputFiles.find((file) => file.path.endsWith('.map'));
  if (!map) throw new Error('esbuild wrote no map');
  return JSON.parse(map.text);
}

const isOurs = (source: string) => !source.includes('node_modules/');

describe('source map trimming', () => {
  it('decodes and encodes esbuild mappings back to the same text', async () => {
    const map = await bundleMap();
    expect(map.mappings.length).toBeGreaterThan(20);
    expect(encodeMappings(decodeMappings(map.mappings))).toBe(map.mappings);
  });

  it("maps every position of the project's code as before and a dependency's to its file", async () => {
    const map = await bundleMap();
    const trimmed = trimSourceMap(map, isOurs);
    const load = (m: SourceMapV3) => new SourceMap({ file: '', sourceRoot: '', ...m } as SourceMapPayload);
    const [full, small] = [load(map), load(trimmed)];
    let ours = 0;
    let theirs = 0;
    for (const [line, segments] of decodeMappings(map.mappings).entries())
      for (const [column, source] of segments) {
        const [before, after] = [full.findEntry(line, column), small.findEntry(line, column)];
        if (isOurs(map.sources[source] ?? '')) {
          ours++;
          expect(after).toEqual(before);
        } else {
          theirs++;
          expect('originalSource' in after && after.originalSource).toBe(
            'originalSource' in before && before.originalSource,
          );
        }
      }
    expect(ours).toBeGreaterThan(5);
    expect(theirs).toBeGreaterThan(5);
    // The dependency's runs keep one segment each: fewer segments than before.
    const count = (m: SourceMapV3) => decodeMappings(m.mappings).flat().length;
    expect(count(trimmed)).toBeLessThan(count(map) - theirs + 3);
  });

  it('drops the sources and names no segment uses any more, renumbering the rest', () => {
    // Line 0: ours (source 0) at 0, dependency (source 1, name 1) at 10 and 20; line 1: unused source 2 is never named.
    const map: SourceMapV3 = {
      version: 3,
      sources: ['a.ts', 'node_modules/x/i.js', 'node_modules/y/j.js'],
      names: ['handler', 'inner', 'other'],
      mappings: encodeMappings([
        [
          [0, 0, 0, 0, 0],
          [10, 1, 4, 2, 1],
          [20, 1, 5, 0, 2],
        ],
        [[0, 0, 3, 1]],
      ]),
    };
    const trimmed = trimSourceMap(map, isOurs);
    expect(trimmed.sources).toEqual(['a.ts', 'node_modules/x/i.js']);
    expect(trimmed.names).toEqual(['handler', 'inner']);
    expect(decodeMappings(trimmed.mappings)).toEqual([
      [
        [0, 0, 0, 0, 0],
        [10, 1, 4, 2, 1],
      ],
      [[0, 0, 3, 1]],
    ]);
  });

  it('refuses mappings that are not Base64 VLQ', () => {
    expect(() => decodeMappings('AA!A')).toThrow(/not a Base64 VLQ digit/);
    expect(() => decodeMappings('g')).toThrow(/cut off/);
  });
});
