// The sealed index configuration round-trips and opens only for its own index under its own key.
import { describe, expect, it } from 'vitest';
import { IndexCipher, SealIntegrityError, generateDataKey } from '../../../src/crypto/index.js';
import { configAad } from '../../../src/service/records/associated-data.js';
import { openIndexConfig, sealIndexConfig } from '../../../src/service/records/index-config-record.js';

describe('index config record', () => {
  const cipher = new IndexCipher(generateDataKey());
  const config = { dimension: 384, metric: 'cosine' as const, type: 'ivf_flat' as const, nLists: null, pqSubvectors: null, pqBits: null, textSearch: false, textFields: [], textLanguage: null, committed: false };

  it('round-trips, including an unset nLists', () => {
    expect(openIndexConfig(cipher, 'docs', sealIndexConfig(cipher, 'docs', config))).toEqual(config);
    expect(openIndexConfig(cipher, 'docs', sealIndexConfig(cipher, 'docs', { ...config, nLists: 64 }))).toEqual({ ...config, nLists: 64 });
  });

  it('round-trips the flag that the index has a commitment; a record from before commitments opens without it', () => {
    expect(openIndexConfig(cipher, 'docs', sealIndexConfig(cipher, 'docs', { ...config, committed: true })).committed).toBe(true);
    const older = { format: 1, index: 'docs', dimension: 8, metric: 'euclidean', type: 'ivf_flat', nLists: 4, textSearch: false };
    expect(openIndexConfig(cipher, 'docs', cipher.seal(Buffer.from(JSON.stringify(older)), configAad('docs'))).committed).toBe(false);
  });

  it('round-trips the text search settings', () => {
    const text = { ...config, textSearch: true, textFields: ['title', 'author.name'], textLanguage: 'french' as const };
    expect(openIndexConfig(cipher, 'docs', sealIndexConfig(cipher, 'docs', text))).toEqual(text);
  });

  it('opens a record written before text search existed as an index without it', () => {
    const older = { format: 1, index: 'docs', dimension: 8, metric: 'euclidean', type: 'ivf_flat', nLists: 4 };
    const sealed = cipher.seal(Buffer.from(JSON.stringify(older)), configAad('docs'));
    expect(openIndexConfig(cipher, 'docs', sealed)).toEqual({ ...config, dimension: 8, metric: 'euclidean', nLists: 4 });
  });

  it('round-trips an IVF_PQ shape', () => {
    const pq = { ...config, type: 'ivf_pq' as const, pqSubvectors: 48, pqBits: 6 };
    expect(openIndexConfig(cipher, 'docs', sealIndexConfig(cipher, 'docs', pq))).toEqual(pq);
  });

  it('refuses a record moved to another index or opened with another data key', () => {
    const sealed = sealIndexConfig(cipher, 'docs', config);
    expect(() => openIndexConfig(cipher, 'other', sealed)).toThrow(SealIntegrityError);
    expect(() => openIndexConfig(new IndexCipher(generateDataKey()), 'docs', sealed)).toThrow(SealIntegrityError);
  });
});
