import { inputsKey } from '../../lib/kernel/cache';

describe('inputsKey', () => {
  const patches = [
    { name: '0001-a.patch', text: 'one' },
    { name: '0002-b.patch', text: 'two' },
  ];

  it('is stable for the same inputs', () => {
    expect(inputsKey(['6.12.117', ...patches])).toBe(inputsKey(['6.12.117', ...patches]));
    expect(inputsKey(['x'])).toMatch(/^[0-9a-f]{16}$/);
  });

  it('changes with the source version, a patch body, a patch name or the order', () => {
    const base = inputsKey(['6.12.117', ...patches]);
    expect(inputsKey(['6.12.115', ...patches])).not.toBe(base);
    expect(inputsKey(['6.12.117', patches[0]!, { name: '0002-b.patch', text: 'two!' }])).not.toBe(base);
    expect(inputsKey(['6.12.117', patches[0]!, { name: '0003-b.patch', text: 'two' }])).not.toBe(base);
    expect(inputsKey(['6.12.117', patches[1]!, patches[0]!])).not.toBe(base);
  });

  it('does not confuse boundaries between parts', () => {
    expect(inputsKey(['ab', 'c'])).not.toBe(inputsKey(['a', 'bc']));
    expect(inputsKey([{ name: 'a', text: 'bc' }])).not.toBe(inputsKey([{ name: 'ab', text: 'c' }]));
  });
});
