// An operation whose result the model cannot tell from what the trace records (a random
// choice the kernel made that left no trace). Replay turns it into an error naming the op.

export class Undecidable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Undecidable';
  }
}
