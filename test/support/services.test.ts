import { afterEach, describe, expect, it, vi } from 'vitest';

// The helper reads the environment when it is loaded, so each case loads a fresh copy.
async function loadWith(env: Record<string, string>): Promise<typeof import('./services.js')> {
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  vi.resetModules();
  return import('./services.js');
}

const NOWHERE = { CIPHERDEX_TEST_POSTGRES_URL: 'postgres://nobody@127.0.0.1:1/test', CIPHERDEX_TEST_REDIS_URL: 'redis://127.0.0.1:1' };

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('service probes', () => {
  it('report an unreachable service as unavailable, with the reason, outside CI', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const services = await loadWith({ ...NOWHERE, CI: '' });
    const postgres = await services.probePostgres();
    expect(postgres).toMatchObject({ available: false, url: NOWHERE.CIPHERDEX_TEST_POSTGRES_URL });
    expect(postgres.reason).toMatch(/ECONNREFUSED/);
    expect((await services.probeRedis()).available).toBe(false);
    expect(warn.mock.calls.map((call) => String(call[0])).join('\n')).toMatch(/\[skip\] PostgreSQL is unreachable[\s\S]*\[skip\] Redis is unreachable/);
  });

  it('fail instead of skipping when CI=true', async () => {
    const services = await loadWith({ ...NOWHERE, CI: 'true' });
    await expect(services.probePostgres()).rejects.toThrow(/PostgreSQL is unreachable.*CI=true requires it/);
    await expect(services.probeRedis()).rejects.toThrow(/Redis is unreachable.*CI=true requires it/);
  });

  it('refuse to hand out a test schema when PostgreSQL is unavailable', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const services = await loadWith({ ...NOWHERE, CI: '' });
    await expect(services.createPostgresTestSchema('x')).rejects.toThrow(/unavailable/);
  });
});
