// Errors the engine throws at its callers: input it cannot accept, and training cancelled on request.

/** Wrong dimension, NaN or Infinity, an id outside uint32, or parameters out of range. */
export class EngineInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineInputError';
  }
}

/** A training run stopped between iterations because its caller asked it to. */
export class TrainingAbortedError extends Error {
  constructor(message = 'training was cancelled') {
    super(message);
    this.name = 'TrainingAbortedError';
  }
}
