import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('has secure, documented defaults', () => {
    const config = loadConfig({});
    expect(config.port).toBe(4000);
    expect(config.dbType).toBe('sqlite');
    expect(config.apiKeys).toEqual([]);
    expect(config.retrainThreshold).toBe(10_000);
    expect(config.autoTrainEnabled).toBe(true);
  });

  it('reads every documented variable', () => {
    const config = loadConfig({
      PORT: '5000',
      CIPHERDEX_API_KEY: 'a, b',
      CIPHERDEX_DB_TYPE: 'postgres',
      CIPHERDEX_CONNECTION_STRING: 'postgres://x',
      RETRAIN_THRESHOLD: '50',
      AUTO_TRAIN_DISABLED: 'true',
    });
    expect(config).toMatchObject({ port: 5000, apiKeys: ['a', 'b'], dbType: 'postgres', retrainThreshold: 50, autoTrainEnabled: false });
  });

  it('rejects nonsense instead of guessing', () => {
    expect(() => loadConfig({ RETRAIN_THRESHOLD: 'ten' })).toThrow(/RETRAIN_THRESHOLD/);
    expect(() => loadConfig({ CIPHERDEX_DB_TYPE: 'postgres' })).toThrow(/CONNECTION_STRING/);
    expect(() => loadConfig({ AUTO_TRAIN_DISABLED: 'maybe' })).toThrow(/AUTO_TRAIN_DISABLED/);
  });
});
