// The error a promise rejects with, for tests that inspect typed errors; a promise that
// resolves fails the test.

export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}
