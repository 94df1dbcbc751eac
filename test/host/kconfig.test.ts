import { checkKconfig, formatMismatches, parseKconfig } from '../../lib/kernel/config';

describe('parseKconfig', () => {
  it('reads set, unset, string and numeric options and ignores comments', () => {
    const v = parseKconfig(
      ['# Automatically generated', 'CONFIG_A=y', '# CONFIG_B is not set', 'CONFIG_C="-gcma"', 'CONFIG_D=64', '', '# a comment'].join('\n'),
    );
    expect([...v]).toEqual([
      ['CONFIG_A', 'y'],
      ['CONFIG_B', 'n'],
      ['CONFIG_C', '"-gcma"'],
      ['CONFIG_D', '64'],
    ]);
  });
});

describe('checkKconfig', () => {
  const resolved = parseKconfig('CONFIG_A=y\nCONFIG_C="-gcma"\n# CONFIG_B is not set\n');

  it('accepts a config that holds every requested value', () => {
    const fragments = [{ name: 'base.config', text: 'CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C="-gcma"\n' }];
    expect(checkKconfig(fragments, resolved)).toEqual([]);
  });

  it('names each option olddefconfig dropped or changed', () => {
    const fragments = [{ name: 'base.config', text: 'CONFIG_A=m\nCONFIG_MISSING=y\nCONFIG_B=y\n' }];
    const m = checkKconfig(fragments, resolved);
    expect(m.map((x) => x.option)).toEqual(['CONFIG_A', 'CONFIG_MISSING', 'CONFIG_B']);
    expect(m[1]).toEqual({ option: 'CONFIG_MISSING', wanted: 'y', got: 'n', fragment: 'base.config' });
    expect(formatMismatches(m)).toContain('CONFIG_MISSING: base.config wants y, .config has n');
  });

  it('treats an option absent from .config as n, and later fragments override earlier ones', () => {
    const fragments = [
      { name: 'base.config', text: 'CONFIG_X=y\n' },
      { name: 'debug.config', text: '# CONFIG_X is not set\n' },
    ];
    expect(checkKconfig(fragments, parseKconfig(''))).toEqual([]);
  });
});
