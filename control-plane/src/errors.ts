import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * Every failure the API reports is an ApiError rendered as `{ "error": { "code", "message" } }`,
 * so clients branch on `code` and never parse prose.
 */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly detail?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function errorBody(code: string, message: string, detail?: Record<string, unknown>) {
  return { error: { code, message, ...(detail ? { detail } : {}) } };
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
export const conflict = (message: string, detail?: Record<string, unknown>) => new ApiError(409, 'conflict', message, detail);
