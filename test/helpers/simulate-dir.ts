// Replays a directory of alert files to a sink that only counts, in a process of its own: the simulator test
// runs it under a low open-file limit (`ulimit -n`). Usage: simulate-dir.ts <dir>; prints {"sent": N, "bytes": B}.
import { fileReplay, listAlertFiles, runSimulator } from '../../datasim/simulator.ts';
import { createLogger } from '../../src/logger.ts';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: simulate-dir.ts <dir>');
let bytes = 0;
const result = await runSimulator(
  [fileReplay('ztf', 'counted', await listAlertFiles(dir))],
  { rate: 0, count: 0, loop: false },
  {
    send: (_topic, messages) => {
      for (const message of messages) bytes += (message.value as Buffer).length;
      return Promise.resolve();
    },
  },
  createLogger({ level: 'silent' }),
  new AbortController().signal,
);
console.log(JSON.stringify({ sent: result.sent, bytes }));
