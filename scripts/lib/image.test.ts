import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bytesOnTop,
  debianSources,
  dockerfileBases,
  dockerfileNodeFlags,
  fullReference,
  manifestLayers,
  projectNodeFlags,
} from './image.ts';

describe('dockerfileNodeFlags', () => {
  it('reads the flags of the project Dockerfile’s CMD', () => {
    const dockerfile = readFileSync(join(import.meta.dirname, '../../Dockerfile'), 'utf8');
    expect(dockerfileNodeFlags(dockerfile)).toEqual(['--enable-source-maps']);
    expect(projectNodeFlags()).toEqual(dockerfileNodeFlags(dockerfile));
  });

  it('reads the last CMD, continued lines, flags with values and none at all', () => {
    const cmd = (line: string) => `FROM node:24\nCMD ["true"]\n${line}\n`;
    expect(dockerfileNodeFlags(cmd('CMD ["sh", "-c", "exec node \\"$APP_BUNDLE\\""]'))).toEqual([]);
    expect(
      dockerfileNodeFlags(cmd('CMD ["sh", "-c", \\\n  "exec node --stack-size=900 -r x \\"$APP_BUNDLE\\""]')),
    ).toEqual(['--stack-size=900', '-r', 'x']);
    expect(() => dockerfileNodeFlags(cmd('CMD ["node", "app.mjs"]'))).toThrow(/does not run/);
  });
});

describe('dockerfileBases', () => {
  it('resolves the project Dockerfile’s FROM with its ARG default', () => {
    const dockerfile = readFileSync(join(import.meta.dirname, '../../Dockerfile'), 'utf8');
    const { args, bases } = dockerfileBases(dockerfile);
    expect(args.NODE_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    expect(bases).toEqual([`docker.io/library/node:${args.NODE_VERSION}-bookworm-slim`]);
  });

  it('leaves out earlier stages and ARGs after the first FROM', () => {
    const { args, bases } = dockerfileBases(
      [
        'ARG BASE="debian:12"',
        'FROM --platform=linux/amd64 $BASE AS one',
        'ARG LATER=x',
        'FROM one',
        'FROM ghcr.io/o/r@sha256:ab AS two',
      ].join('\n'),
    );
    expect(args).toEqual({ BASE: 'debian:12' });
    expect(bases).toEqual(['docker.io/library/debian:12', 'ghcr.io/o/r@sha256:ab']);
  });
});

describe('fullReference', () => {
  it('qualifies short names as Docker does', () => {
    expect(fullReference('node')).toBe('docker.io/library/node:latest');
    expect(fullReference('grafana/grafana:12')).toBe('docker.io/grafana/grafana:12');
    expect(fullReference('localhost/tasks-api:dev')).toBe('localhost/tasks-api:dev');
    expect(fullReference('registry:5000/a/b')).toBe('registry:5000/a/b:latest');
  });
});

describe('debianSources', () => {
  it('takes the release’s suites from deb822 stanzas and one-line entries', () => {
    const deb822 = [
      'Types: deb',
      '# a comment',
      'URIs: http://deb.debian.org/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      '',
      'Types: deb-src',
      'URIs: http://deb.debian.org/debian',
      'Suites: bookworm',
      'Components: main',
      '',
      'Types: deb',
      'URIs: http://deb.debian.org/debian-security',
      'Suites: bookworm-security',
      'Components: main contrib',
    ].join('\n');
    const oneLine = [
      'deb [arch=amd64] https://packages.example.org/apt cloud-sdk-bookworm main',
      'deb http://deb.debian.org/debian trixie main',
      'deb http://deb.debian.org/debian bookworm main',
    ].join('\n');
    expect(debianSources([deb822, oneLine], 'bookworm')).toEqual([
      'deb http://deb.debian.org/debian bookworm main',
      'deb http://deb.debian.org/debian bookworm-updates main',
      'deb http://deb.debian.org/debian-security bookworm-security main contrib',
    ]);
  });
});

describe('manifestLayers and bytesOnTop', () => {
  it('sums the layers and counts only those the base lacks', () => {
    const base = manifestLayers(JSON.stringify({ layers: [{ digest: 'sha256:a', size: 1000 }] }));
    const app = manifestLayers(
      JSON.stringify({
        config: { digest: 'sha256:c', size: 99 },
        layers: [
          { digest: 'sha256:a', size: 1000 },
          { digest: 'sha256:b', size: 24 },
        ],
      }),
    );
    expect(app.total).toBe(1024);
    expect(bytesOnTop(app, base)).toBe(24);
  });
});
