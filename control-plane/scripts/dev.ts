import { applyMigrations, ensureSigningKey, seedAdminKey, startDev } from './local.js';

/** `npm run cp:dev`: signing key, migrations, a seeded admin key (printed once), then wrangler dev. */
const port = Number(process.env.PORT ?? 8787);
ensureSigningKey();
applyMigrations();
const admin = await seedAdminKey();
if (admin) {
  console.log('\n  Seeded admin API key (shown only this once; only its hash is stored):\n');
  console.log(`    export TESSERA_URL=http://127.0.0.1:${port}`);
  console.log(`    export TESSERA_KEY=${admin}\n`);
} else {
  console.log('\n  An admin key was seeded on an earlier start (its plaintext was printed then).');
  console.log('  Delete control-plane/.wrangler/state to start over with a fresh one.\n');
}
const child = startDev({ port });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
