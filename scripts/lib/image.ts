/**
 * What scripts/image.ts and the bench read from text: the Dockerfile's base
 * image and its CMD's Node.js flags, the host's Debian sources for
 * mmdebstrap, an image's layer sizes from its manifest.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DockerfileBase {
  /** The `ARG`s before the first `FROM`, with their defaults: what a `FROM` may name. */
  args: Record<string, string>;
  /** Every image a `FROM` names (not an earlier stage), as a registry resolves it: `docker.io/library/node:24…`. */
  bases: string[];
}

/** The images the Dockerfile builds on, each as the full reference a pull would resolve it to. */
export function dockerfileBases(dockerfile: string): DockerfileBase {
  const args: Record<string, string> = {};
  const bases: string[] = [];
  const stages = new Set<string>();
  let seenFrom = false;
  // A backslash at a line's end continues it.
  for (const line of dockerfile.replace(/\\\n/g, ' ').split('\n')) {
    const words = line.trim().split(/\s+/);
    const instruction = words[0]?.toUpperCase();
    if (instruction === 'ARG' && !seenFrom) {
      const [name, value] = (words[1] ?? '').split('=', 2);
      if (name && value !== undefined) args[name] = value.replace(/^"(.*)"$/, '$1');
    } else if (instruction === 'FROM') {
      seenFrom = true;
      const image = words.slice(1).find((word) => !word.startsWith('--'));
      if (!image) continue;
      const named = image.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string, b: string) => args[a ?? b] ?? '');
      const as = words.findIndex((word) => word.toUpperCase() === 'AS');
      if (!stages.has(named)) {
        const full = fullReference(named);
        if (!bases.includes(full)) bases.push(full);
      }
      if (as > 0 && words[as + 1]) stages.add(words[as + 1] as string);
    }
  }
  return { args, bases };
}

/**
 * The flags the image's `CMD` starts Node.js with (`exec node <flags>
 * "$APP_BUNDLE"`): what the bench starts the bundles with, so that it
 * measures what a pod runs.
 */
export function dockerfileNodeFlags(dockerfile: string): string[] {
  const cmd = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .findLast((line) => /^\s*CMD\s/i.test(line));
  const flags = cmd?.match(/exec node((?:\s+[^\s"\\]+)*)\s+\\?"\$APP_BUNDLE/)?.[1];
  if (flags === undefined)
    throw new Error(`the Dockerfile's CMD does not run \`exec node … "$APP_BUNDLE"\`: ${cmd}`);
  return flags.trim().split(/\s+/).filter(Boolean);
}

/** The project Dockerfile's CMD flags: how the bench starts what the image runs. */
export function projectNodeFlags(): string[] {
  return dockerfileNodeFlags(readFileSync(join(import.meta.dirname, '../../Dockerfile'), 'utf8'));
}

/** `node:24` → `docker.io/library/node:24`, as Docker resolves a short name; a tag of `latest` when none. */
export function fullReference(image: string): string {
  const [first, ...rest] = image.split('/');
  const hasRegistry = rest.length > 0 && (/[.:]/.test(first as string) || first === 'localhost');
  const path = hasRegistry ? rest.join('/') : image;
  const registry = hasRegistry ? first : 'docker.io';
  const repository = !hasRegistry && !path.includes('/') ? `library/${path}` : path;
  const last = repository.split('/').at(-1) as string;
  const tagged = last.includes(':') || last.includes('@') ? repository : `${repository}:latest`;
  return `${registry}/${tagged}`;
}

/**
 * The host's apt sources for one Debian release and its -updates and
 * -security suites, as one-line `deb` entries (what mmdebstrap takes as its
 * mirrors): from `sources.list`-style lines and deb822 `.sources` stanzas.
 * `deb-src` entries and other releases are left out.
 */
export function debianSources(files: readonly string[], release: string): string[] {
  const entries: string[] = [];
  const add = (uri: string, suite: string, components: string[]) => {
    if (suite !== release && !suite.startsWith(`${release}-`)) return;
    const entry = `deb ${uri} ${suite} ${components.join(' ')}`;
    if (!entries.includes(entry)) entries.push(entry);
  };
  for (const text of files) {
    // A comment line is no blank line: it does not end a deb822 stanza.
    const lines = text
      .split('\n')
      .filter((line) => !line.trimStart().startsWith('#'))
      .map((line) => line.replace(/#.*/, '').trim());
    if (lines.some((line) => /^Types:/i.test(line))) {
      for (const stanza of lines.join('\n').split(/\n\s*\n/)) {
        const field = (name: string) =>
          stanza
            .match(new RegExp(`^${name}:\\s*(.*)$`, 'im'))?.[1]
            ?.trim()
            .split(/\s+/) ?? [];
        if (!field('Types').includes('deb') || /^Enabled:\s*no/im.test(stanza)) continue;
        for (const uri of field('URIs'))
          for (const suite of field('Suites')) add(uri, suite, field('Components'));
      }
    } else {
      for (const line of lines) {
        // deb [options] uri suite component...
        const match = line.match(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.+)$/);
        if (match) add(match[1] as string, match[2] as string, (match[3] as string).split(/\s+/));
      }
    }
  }
  return entries;
}

export interface ImageLayers {
  /** The layers' sizes as the manifest gives them (vfs stores them as uncompressed tars). */
  layers: Array<{ digest: string; size: number }>;
  total: number;
}

/** An image's layers and their sum from its manifest (`buildah inspect --format '{{.Manifest}}'`). */
export function manifestLayers(manifest: string): ImageLayers {
  const parsed = JSON.parse(manifest) as { layers?: Array<{ digest: string; size: number }> };
  const layers = (parsed.layers ?? []).map(({ digest, size }) => ({ digest, size }));
  return { layers, total: layers.reduce((sum, layer) => sum + layer.size, 0) };
}

/** The bytes an image adds to its base: its layers that the base does not have. */
export function bytesOnTop(image: ImageLayers, base: ImageLayers): number {
  const inBase = new Set(base.layers.map((layer) => layer.digest));
  return image.layers
    .filter((layer) => !inBase.has(layer.digest))
    .reduce((sum, layer) => sum + layer.size, 0);
}

export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
