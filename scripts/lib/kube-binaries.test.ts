import { describe, expect, it } from 'vitest';
import { builtAsPinned, kubeBinaries, kubeBinaryNames, kubernetesLdflags } from './kube-binaries.ts';

const binary = (name: string) => kubeBinaries.find((b) => b.name === name) as (typeof kubeBinaries)[number];

/** `go version -m` of a binary built from a wrapper module, trimmed to the lines that matter. */
const buildInfo = (path: string, module: string, version: string, as = 'mod') =>
  [
    'kube-apiserver: go1.26.8',
    `\tpath\t${path}`,
    `\t${as}\t${module}\t${version}\th1:A2VDEiObzkYqFTKhSsn0ZEb0RlLEXpHWj93gi2HqEwE=`,
    '\tdep\tgithub.com/go-logr/logr\tv1.4.3\th1:x',
    '\tbuild\t-trimpath=true',
  ].join('\n');

describe('the control plane binaries', () => {
  it('has one build for each name', () => {
    expect(kubeBinaries.map((b) => b.name)).toEqual([...kubeBinaryNames]);
  });

  it('stamps the Kubernetes version as a release build does, in both copies of the version variables', () => {
    const flags = kubernetesLdflags('1.37.2').split(' ');
    expect(flags.slice(0, 2)).toEqual(['-s', '-w']);
    for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'])
      for (const stamp of ['gitVersion=v1.37.2', 'gitMajor=1', 'gitMinor=37', 'gitTreeState=clean'])
        expect(flags).toContain(`${pkg}.${stamp}`);
    // Each assignment follows its own -X.
    expect(flags.filter((f) => f === '-X')).toHaveLength(10);
    expect(flags.filter((f) => f.includes('='))).toHaveLength(10);
  });

  it.each(['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'])(
    '%s is built with the stamp and checked by its --version',
    (name) => {
      expect(binary(name).ldflags).toBe(kubernetesLdflags());
      expect(binary(name).reports?.includes).toBe('Kubernetes v1.37.2');
    },
  );

  it.each([
    [
      'the pinned build',
      buildInfo('k8s.io/kubernetes/cmd/kube-apiserver', 'k8s.io/kubernetes', 'v1.37.2'),
      true,
    ],
    [
      'the module as a dependency',
      buildInfo('k8s.io/kubernetes/cmd/kube-apiserver', 'k8s.io/kubernetes', 'v1.37.2', 'dep'),
      true,
    ],
    [
      'another version',
      buildInfo('k8s.io/kubernetes/cmd/kube-apiserver', 'k8s.io/kubernetes', 'v1.36.3'),
      false,
    ],
    [
      'another command',
      buildInfo('k8s.io/kubernetes/cmd/kube-scheduler', 'k8s.io/kubernetes', 'v1.37.2'),
      false,
    ],
    [
      'a local checkout',
      buildInfo('k8s.io/kubernetes/cmd/kube-apiserver', 'k8s.io/kubernetes', '(devel)'),
      false,
    ],
    ['no build info (not a Go binary)', '', false],
  ])('builtAsPinned: %s → %s', (_, info, expected) => {
    expect(builtAsPinned(info, binary('kube-apiserver'))).toBe(expected);
  });

  it('checks etcd, kwok and KEDA against their own modules', () => {
    expect(
      builtAsPinned(
        buildInfo('go.etcd.io/etcd/server/v3', 'go.etcd.io/etcd/server/v3', 'v3.7.3'),
        binary('etcd'),
      ),
    ).toBe(true);
    expect(
      builtAsPinned(
        buildInfo('github.com/kedacore/keda/v2/cmd/operator', 'github.com/kedacore/keda/v2', 'v2.21.0'),
        binary('keda-adapter'),
      ),
    ).toBe(false);
    expect(binary('keda-operator').ldflags).toContain('keda/v2/version.Version=2.21.0');
  });
});
