import { chooseAccel } from '../../lib/vm/accel';

describe('chooseAccel', () => {
  const saved = process.env['GCMA_ACCEL'];
  afterEach(() => {
    if (saved === undefined) delete process.env['GCMA_ACCEL'];
    else process.env['GCMA_ACCEL'] = saved;
  });

  it('takes an explicit request without probing', async () => {
    await expect(chooseAccel('/nonexistent/bzImage', 'tcg')).resolves.toBe('tcg');
    await expect(chooseAccel('/nonexistent/bzImage', 'kvm')).resolves.toBe('kvm');
  });

  it('honours GCMA_ACCEL and rejects nonsense in it', async () => {
    process.env['GCMA_ACCEL'] = 'tcg';
    await expect(chooseAccel('/nonexistent/bzImage')).resolves.toBe('tcg');
    process.env['GCMA_ACCEL'] = 'hvf';
    await expect(chooseAccel('/nonexistent/bzImage')).rejects.toThrow(/GCMA_ACCEL/);
  });

  // The probe gives KVM 10 s to print a banner: more than jest's default timeout.
  it('falls back to TCG when KVM cannot boot the image', async () => {
    delete process.env['GCMA_ACCEL'];
    await expect(chooseAccel('/nonexistent/bzImage')).resolves.toBe('tcg');
  }, 30_000);
});
