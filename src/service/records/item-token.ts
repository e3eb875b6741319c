// The token domain of item records: an item's token is cipher.token(ITEM_TOKEN_DOMAIN, id).
// One constant shared by the main thread, the sealing workers and the benchmarks.

export const ITEM_TOKEN_DOMAIN = 'item';
