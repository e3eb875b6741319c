// Index grants end to end over real HTTP and WebSockets: a table of every permission against every
// index-scoped operation (each answers its success or PermissionDeniedError), revocation ending an
// open trainingStatus subscription, expiry, a grant opening an index evicted by a restart, and no
// token or wrap key in the logs or, in usable form, in the store.
import { hkdfSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGrantToken } from '../../src/crypto/index.js';
import { collect, newIndexKey, startTestServer, type TestServer } from '../server/harness.js';

type Data = Record<string, { __typename: string; required?: string[]; token?: string; id?: string } & Record<string, unknown>>;
const gql = (text: string) => parse(text) as TypedDocumentNode<Data, Record<string, unknown>>;

const PERMISSIONS = ['READ', 'WRITE', 'TRAIN', 'OBSERVE', 'ADMIN'] as const;
type Permission = (typeof PERMISSIONS)[number];

const CREATE_GRANT = gql(`mutation ($index: String!, $key: IndexKey!, $permissions: [Permission!]!, $expiresAt: DateTime, $label: String) {
  createIndexGrant(index: $index, key: $key, permissions: $permissions, expiresAt: $expiresAt, label: $label) {
    __typename ... on IndexGrant { id token permissions } ... on Error { code message }
  } }`);

/** Each operation: its document, and the permissions (besides ADMIN) that allow it. */
const OPERATIONS: Array<{ name: string; allowedBy: Permission[]; document: TypedDocumentNode<Data, Record<string, unknown>>; variables?: Record<string, unknown> }> = [
  { name: 'index', allowedBy: ['READ', 'OBSERVE'], document: gql('query ($index: String!, $key: IndexKey!) { r: index(name: $index, key: $key) { __typename ... on PermissionDeniedError { required } } }') },
  { name: 'search', allowedBy: ['READ'], document: gql('query ($index: String!, $key: IndexKey!) { r: search(index: $index, key: $key, vector: [0, 0, 0, 0], topK: 1) { __typename ... on PermissionDeniedError { required } } }') },
  { name: 'searchBatch', allowedBy: ['READ'], document: gql('query ($index: String!, $key: IndexKey!) { r: searchBatch(index: $index, key: $key, vectors: [[0, 0, 0, 0]], topK: 1) { __typename ... on PermissionDeniedError { required } } }') },
  { name: 'items', allowedBy: ['READ'], document: gql('query ($index: String!, $key: IndexKey!) { r: items(index: $index, key: $key, ids: ["item-1"]) { __typename ... on PermissionDeniedError { required } } }') },
  { name: 'itemIds', allowedBy: ['READ'], document: gql('query ($index: String!, $key: IndexKey!) { r: itemIds(index: $index, key: $key) { __typename ... on PermissionDeniedError { required } } }') },
  { name: 'browse', allowedBy: ['READ'], document: gql('query ($index: String!, $key: IndexKey!) { r: browse(index: $index, key: $key, first: 2) { __typename ... on PermissionDeniedError { required } } }') },
  { name: 'count', allowedBy: ['READ'], document: gql('query ($index: String!, $key: IndexKey!) { r: count(index: $index, key: $key) { __typename ... on PermissionDeniedError { required } } }') },
  { name: 'upsert', allowedBy: ['WRITE'], document: gql('mutation ($index: String!, $key: IndexKey!) { r: upsert(index: $index, key: $key, items: [{ id: "w", vector: [1, 2, 3, 4] }]) { __typename ... on PermissionDeniedError { required } } }') },
  { name: 'updateItems', allowedBy: ['WRITE'], document: gql('mutation ($index: String!, $key: IndexKey!) { r: updateItems(index: $index, key: $key, ids: ["item-2"], contents: "changed") { __typename ... on PermissionDeniedError { required } } }') },
  { name: 'deleteItems', allowedBy: ['WRITE'], document: gql('mutation ($index: String!, $key: IndexKey!) { r: deleteItems(index: $index, key: $key, ids: ["absent"]) { __typename ... on PermissionDeniedError { required } } }') },
  { name: 'trainIndex', allowedBy: ['TRAIN'], document: gql('mutation ($index: String!, $key: IndexKey!) { r: trainIndex(index: $index, key: $key, nLists: 2, wait: true) { __typename ... on PermissionDeniedError { required } } }') },
  { name: 'cancelTraining', allowedBy: ['TRAIN'], document: gql('mutation ($index: String!, $key: IndexKey!) { r: cancelTraining(index: $index, key: $key) { __typename ... on PermissionDeniedError { required } } }') },
  { name: 'trainingRuns', allowedBy: ['OBSERVE'], document: gql('query ($index: String!, $key: IndexKey!) { r: trainingRuns(index: $index, key: $key) { __typename ... on PermissionDeniedError { required } } }') },
  { name: 'trainingRun', allowedBy: ['OBSERVE'], document: gql('query ($index: String!, $key: IndexKey!) { r: trainingRun(index: $index, key: $key, runId: "no-such-run") { __typename ... on PermissionDeniedError { required } } }') },
  { name: 'indexGrants', allowedBy: [], document: gql('query ($index: String!, $key: IndexKey!) { r: indexGrants(index: $index, key: $key) { __typename ... on PermissionDeniedError { required } } }') },
  { name: 'createIndexGrant', allowedBy: [], document: gql('mutation ($index: String!, $key: IndexKey!) { r: createIndexGrant(index: $index, key: $key, permissions: [READ]) { __typename ... on PermissionDeniedError { required } } }') },
  { name: 'revokeIndexGrant', allowedBy: [], document: gql('mutation ($index: String!, $key: IndexKey!) { r: revokeIndexGrant(index: $index, key: $key, grantId: "00000000000000000000000000000000") { __typename ... on PermissionDeniedError { required } } }') },
  // A real rotation: grants wrap the data key under their own keys, so deleteIndex below still works.
  { name: 'rotateIndexKey', allowedBy: [], document: gql(`mutation ($index: String!, $key: IndexKey!) { r: rotateIndexKey(name: $index, key: $key, newKey: "${newIndexKey()}") { __typename ... on PermissionDeniedError { required } } }`) },
  { name: 'deleteIndex', allowedBy: [], document: gql('mutation ($index: String!, $key: IndexKey!) { r: deleteIndex(name: $index, key: $key) { __typename ... on PermissionDeniedError { required } } }') },
];

const SUBSCRIPTIONS: Array<{ name: string; allowedBy: Permission[]; document: TypedDocumentNode<Data, Record<string, unknown>> }> = [
  { name: 'trainingStatus', allowedBy: ['OBSERVE'], document: gql('subscription ($index: String!, $key: IndexKey!) { r: trainingStatus(index: $index, key: $key) { __typename ... on PermissionDeniedError { required } ... on InvalidIndexKeyError { code } } }') },
  { name: 'indexStats', allowedBy: ['OBSERVE'], document: gql('subscription ($index: String!, $key: IndexKey!) { r: indexStats(index: $index, key: $key) { __typename ... on PermissionDeniedError { required } } }') },
];

const UPSERT = gql('mutation ($index: String!, $key: IndexKey!, $items: [ItemInput!]!) { r: upsert(index: $index, key: $key, items: $items) { __typename } }');
const CREATE = gql('mutation ($index: String!, $key: IndexKey!) { r: createIndex(name: $index, key: $key, dimension: 4) { __typename } }');
const REVOKE = gql('mutation ($index: String!, $key: IndexKey!, $grantId: ID!) { r: revokeIndexGrant(index: $index, key: $key, grantId: $grantId) { __typename ... on Error { code } } }');
const TRAIN = gql('mutation ($index: String!, $key: IndexKey!) { r: trainIndex(index: $index, key: $key, nLists: 2) { __typename } }');
const DESCRIBE = gql('query ($index: String!, $key: IndexKey!) { r: index(name: $index, key: $key) { __typename ... on Index { vectorCount } } }');

let server: TestServer;
const key = newIndexKey();

async function createIndex(index: string): Promise<void> {
  expect((await server.request(CREATE, { index, key })).body.data?.r.__typename).toBe('Index');
  const items = Array.from({ length: 12 }, (_, i) => ({ id: `item-${i}`, vector: [i, i % 3, 1, -i] }));
  expect((await server.request(UPSERT, { index, key, items })).body.data?.r.__typename).toBe('UpsertSuccess');
}

async function grant(index: string, permissions: Permission[], extra: Record<string, unknown> = {}): Promise<{ id: string; token: string }> {
  const answer = await server.request(CREATE_GRANT, { index, key, permissions, ...extra });
  const result = answer.body.data?.createIndexGrant as { __typename: string; id: string; token: string };
  expect(result.__typename).toBe('IndexGrant');
  return result;
}

beforeAll(async () => {
  server = await startTestServer({ env: { LOG_LEVEL: 'debug' } });
});

afterAll(async () => {
  await server.close();
});

describe('each permission against each operation', () => {
  for (const permission of PERMISSIONS) {
    it(`${permission}: over HTTP and WebSockets, exactly the operations of ${permission} answer something other than PermissionDeniedError`, async () => {
      const index = `table-${permission.toLowerCase()}`;
      await createIndex(index);
      const { token } = await grant(index, [permission]);
      // Subscriptions first: deleteIndex, the last operation, ends the index.
      const client = server.wsClient();
      for (const subscription of SUBSCRIPTIONS) {
        const [first] = await collect(client, subscription.document, { index, key: token }, () => true);
        const typename = first.data?.r.__typename;
        if (permission === 'ADMIN' || subscription.allowedBy.includes(permission)) expect(typename, subscription.name).not.toMatch(/Error$/);
        else expect(first.data?.r, subscription.name).toEqual({ __typename: 'PermissionDeniedError', required: [...subscription.allowedBy, 'ADMIN'] });
      }
      for (const operation of OPERATIONS) {
        const answer = await server.request(operation.document, { index, key: token });
        expect(answer.status, operation.name).toBe(200);
        const result = answer.body.data?.r;
        const allowed = permission === 'ADMIN' || operation.allowedBy.includes(permission);
        if (allowed) {
          expect(result?.__typename, `${permission} ${operation.name}`).not.toBe('PermissionDeniedError');
          expect(result?.__typename, `${permission} ${operation.name}`).not.toBe('InvalidIndexKeyError');
        } else {
          expect(result, `${permission} ${operation.name}`).toEqual({ __typename: 'PermissionDeniedError', required: [...operation.allowedBy, 'ADMIN'] });
        }
      }
    });
  }

  it('the index key answers every operation', async () => {
    await createIndex('table-key');
    // Rotation would retire `key` before deleteIndex; the grants' table above rotates for real.
    for (const operation of OPERATIONS.filter(({ name }) => name !== 'rotateIndexKey')) {
      const result = (await server.request(operation.document, { index: 'table-key', key })).body.data?.r;
      expect(result?.__typename, operation.name).not.toMatch(/^(PermissionDeniedError|InvalidIndexKeyError)$/);
    }
  });
});

it('revocation ends an open trainingStatus subscription with the error at its next event, and the next request', async () => {
  await createIndex('revoked');
  const observer = await grant('revoked', ['OBSERVE']);
  const client = server.wsClient();
  const seen: string[] = [];
  const ended = collect(client, SUBSCRIPTIONS[0].document, { index: 'revoked', key: observer.token }, (result, all) => {
    seen.push(String(result.data?.r.__typename));
    return all.length > 1;
  });
  await expect.poll(() => seen.length).toBe(1);
  expect((await server.request(REVOKE, { index: 'revoked', key, grantId: observer.id })).body.data?.r.__typename).toBe('IndexGrant');
  expect((await server.request(TRAIN, { index: 'revoked', key })).body.data?.r.__typename).toBe('TrainingRun');
  const results = await ended;
  expect(results.at(-1)?.data?.r).toEqual({ __typename: 'InvalidIndexKeyError', code: 'INVALID_INDEX_KEY' });
  expect((await server.request(DESCRIBE, { index: 'revoked', key: observer.token })).body.data?.r.__typename).toBe('InvalidIndexKeyError');
});

it('an expired grant opens nothing', async () => {
  await createIndex('expiring');
  const expiresAt = new Date(Date.now() + 500);
  const reader = await grant('expiring', ['READ'], { expiresAt: expiresAt.toISOString() });
  expect((await server.request(DESCRIBE, { index: 'expiring', key: reader.token })).body.data?.r).toEqual({ __typename: 'Index', vectorCount: 12 });
  while (Date.now() <= expiresAt.getTime()) await new Promise((resolve) => setTimeout(resolve, 50));
  expect((await server.request(DESCRIBE, { index: 'expiring', key: reader.token })).body.data?.r.__typename).toBe('InvalidIndexKeyError');
});

it('a malformed grant token is a request error that echoes nothing', async () => {
  const answer = await server.request(DESCRIBE, { index: 'expiring', key: 'cdxg_secret-looking-text' });
  expect(answer.status).toBe(400);
  expect(JSON.stringify(answer.body)).not.toContain('secret-looking-text');
});

it('a grant opens an index evicted by a restart; neither token nor wrap key is in the logs or the store', async () => {
  await createIndex('restarted');
  const reader = await grant('restarted', ['READ'], { label: 'reader' });
  await server.request(DESCRIBE, { index: 'restarted', key: reader.token });
  const logs = [...server.logs];
  const dataDir = server.dataDir;
  await server.close({ keepData: true });
  server = await startTestServer({ dataDir, env: { LOG_LEVEL: 'debug' } });
  const answer = await server.request(DESCRIBE, { index: 'restarted', key: reader.token });
  expect(answer.body.data?.r).toEqual({ __typename: 'Index', vectorCount: 12 });
  const { secret } = parseGrantToken(reader.token);
  const wrapKey = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'cipherdex/grant-wrap/v1', 32));
  // The secret as the token spells it. Not the text after the token's last '_': base64url has '_' in
  // its alphabet, so about half of all secrets hold one, and that text was then a tail of the secret
  // as short as one character, which the logs or the store's bytes held by chance (2-3% of runs).
  const secretText = secret.toString('base64url');
  expect(reader.token.endsWith(`_${secretText}`) && secretText.length === 43).toBe(true);
  const allLogs = [...logs, ...server.logs].join('\n');
  expect(allLogs.length).toBeGreaterThan(0);
  for (const form of [reader.token, secretText, secret.toString('base64'), secret.toString('hex'), wrapKey.toString('base64'), wrapKey.toString('hex')]) {
    expect(allLogs).not.toContain(form);
  }
  const stored = Buffer.concat(readdirSync(dataDir).map((name) => readFileSync(join(dataDir, name))));
  for (const form of [Buffer.from(reader.token), Buffer.from(secretText), secret, wrapKey]) expect(stored.includes(form)).toBe(false);
});
