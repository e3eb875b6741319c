// `npm run bench [-- <section>...] [-- <flags>]`: runs the named benchmark sections, or all of
// them. Each section parses its own flags (`npm run bench -- engine --help`).
import { parseApplyArgs, runApplyBench } from './apply.js';
import { parseEngineArgs, runEngineBench } from './engine.js';
import { parseDataArgs, runDataBench } from './item-queries.js';
import { parseLoadArgs, runLoad } from './load.js';
import { parseMetricsArgs, runMetricsBench } from './metrics-overhead.js';
import { parseOpenArgs, runOpenBench } from './open.js';
import { parseReplicasArgs, runReplicasBench } from './replicas.js';
import { parseSelectionArgs, runSelectionBench } from './selection.js';
import { parseServiceArgs, runServiceBench } from './service.js';
import { parseStoreWritesArgs, runStoreWritesBench } from './store-writes.js';
import { parseTextArgs, runTextBench } from './text.js';
import { parseTiersArgs, runTiersBench } from './tiers.js';

type Section = (args: string[]) => Promise<void>;

/** Sections by name, in the order `npm run bench` runs them. Other layers add theirs here. */
const SECTIONS: Record<string, Section> = {
  engine: (args) => runEngineBench(parseEngineArgs(args)),
  apply: (args) => runApplyBench(parseApplyArgs(args)),
  service: async (args) => void (await runServiceBench(parseServiceArgs(args))),
  writes: (args) => runStoreWritesBench(parseStoreWritesArgs(args)),
  load: async (args) => void (await runLoad(parseLoadArgs(args))),
  replicas: async (args) => void (await runReplicasBench(parseReplicasArgs(args))),
  metrics: async (args) => void (await runMetricsBench(parseMetricsArgs(args))),
  selection: async (args) => void (await runSelectionBench(parseSelectionArgs(args))),
  text: (args) => runTextBench(parseTextArgs(args)),
  data: (args) => runDataBench(parseDataArgs(args)),
  tiers: (args) => runTiersBench(parseTiersArgs(args)),
  open: (args) => runOpenBench(parseOpenArgs(args)),
};

async function main(argv: string[]): Promise<void> {
  const named = argv.filter((arg) => arg in SECTIONS);
  const flags = argv.filter((arg) => !(arg in SECTIONS));
  const unknown = flags.filter((arg) => !arg.startsWith('-') && !/^\d/.test(arg));
  if (unknown.length > 0) throw new Error(`unknown bench section(s): ${unknown.join(', ')}; known: ${Object.keys(SECTIONS).join(', ')}`);
  for (const name of named.length > 0 ? named : Object.keys(SECTIONS)) {
    await SECTIONS[name](flags);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
