import { buildApp } from './app.js';

export { RateLimiter } from './rate-limit.js';

export default buildApp();
