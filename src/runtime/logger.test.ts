import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, withReconcile } from './logger.js';

function capture(): { lines: Array<Record<string, unknown>>; stream: Writable } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()));
      cb();
    },
  });
  return { lines, stream };
}

describe('logger', () => {
  it('takes its level from LOG_LEVEL', () => {
    const saved = process.env['LOG_LEVEL'];
    try {
      process.env['LOG_LEVEL'] = 'WARN';
      assert.equal(createLogger().level, 'warn');
      process.env['LOG_LEVEL'] = 'nonsense';
      assert.equal(createLogger().level, 'info');
    } finally {
      if (saved === undefined) delete process.env['LOG_LEVEL'];
      else process.env['LOG_LEVEL'] = saved;
    }
  });

  it('withReconcile adds the key and a short reconcileID to every line', async () => {
    const { lines, stream } = capture();
    const root = createLogger({ level: 'info' }, stream);
    const { logger, reconcileID } = withReconcile(root, 'ns/tj1');
    logger.info({ job: 'j1' }, 'Created Job');
    await new Promise((r) => setImmediate(r));
    assert.match(reconcileID, /^[0-9a-f]{8}$/);
    assert.deepEqual(lines[0] && { key: lines[0]['key'], reconcileID: lines[0]['reconcileID'], msg: lines[0]['msg'], job: lines[0]['job'] }, {
      key: 'ns/tj1',
      reconcileID,
      msg: 'Created Job',
      job: 'j1',
    });
  });
});
