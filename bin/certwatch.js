#!/usr/bin/env -S node --optimize-for-size
// Entry for `npx certwatch`, `npm start` and `npm run check`. The shebang (and the npm scripts,
// which call node themselves) pass --optimize-for-size: V8 then keeps the heap near its live
// size, which holds a 100,000-target run or `check -f` under 300 MB (README "Scheduled runs";
// Node refuses the flag in NODE_OPTIONS). Plain JavaScript on purpose: it
// must run on any Node.js to say clearly when the runtime is too old, before a TypeScript
// source is loaded. From Node.js 22.18 on (24 LTS is what the project ships with through the
// npm package `node`), the runtime strips the types of src/**/*.ts itself: no loader, no build.
//
//   certwatch check [options] <target...>   probe once and print (see docs/cli.md)
//   certwatch bot                          run the chat bot (what `npm start` runs)
//   certwatch --version                    certwatch's version and the runtime's
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `certwatch: this is Node.js ${process.versions.node} (${process.execPath}); certwatch needs Node.js 22.18 or newer, 24 LTS recommended.\n` +
      '  In a checkout, `npm ci` installs Node.js 24 into node_modules and `npm start`, `npm test` and `npx certwatch` use it.\n' +
      '  Elsewhere, install Node.js 24 LTS (https://nodejs.org/) and run certwatch with it.\n',
  );
  process.exit(3);
}

// Node caches the compiled (and type-stripped) sources between runs: a CLI that monitoring
// systems start every few minutes pays the TypeScript compile once (bench/startup-bench.ts).
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();

if (process.argv[2] === 'bot') {
  process.argv.splice(2, 1);
  const { runBotProcess } = await import('../src/main.ts');
  await runBotProcess();
} else {
  const { runAsProcess } = await import('../src/cli/main.ts');
  await runAsProcess();
}
