import { TesseraError } from '../core/errors.js';

/** A data file is truncated, corrupt, or not the format it claims. */
export class DatasetFormatError extends TesseraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DATASET_FORMAT', message, options);
  }
}

/** A data set's files are not installed where they were looked for; the message says how to get them. */
export class DatasetNotFoundError extends TesseraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DATASET_NOT_FOUND', message, options);
  }
}
