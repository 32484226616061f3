/** Malformed input (a trace, a device file, a CLI argument): the message names the field. */
export class InputError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'InputError';
  }
}
