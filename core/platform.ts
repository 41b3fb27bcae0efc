/** Where the runtime finds itself; both checks are read at call time so tests can stub the globals. */

/** Cloudflare Workers: no GPU, no run-time wasm compilation, 128 MB per isolate. */
export const inWorkers = (): boolean => typeof navigator !== 'undefined' && navigator.userAgent === 'Cloudflare-Workers';

/** Node itself; Workers with nodejs_compat report a Node version too but have neither its disk nor addons. */
export const inNode = (): boolean => typeof process !== 'undefined' && !!process.versions?.node && !inWorkers();
