// Splits a byte stream into lines without building one string of the whole
// stream: chunks of an unfinished line are kept as buffers and joined once, when
// its newline arrives.

export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes seen so far. */
  bytes = 0;

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      const part = chunk.subarray(start, nl);
      const line = this.pendingBytes > 0 ? Buffer.concat([...this.pending, part]) : part;
      this.pending = [];
      this.pendingBytes = 0;
      this.onLine(line.toString('utf8'));
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.pending.push(chunk.subarray(start));
      this.pendingBytes += chunk.length - start;
    }
  }

  /**
   * The stream ended. `complete`: the last line without a newline is a whole line
   * (the log simply did not end with one); false when the stream was cut short, so
   * that a half record is never handed on.
   */
  end(complete: boolean): void {
    if (complete && this.pendingBytes > 0) this.onLine(Buffer.concat(this.pending).toString('utf8'));
    this.pending = [];
    this.pendingBytes = 0;
  }
}
