#!/usr/bin/env node
// Runs Shopify's theme-check on a theme app extension, the way `shopify app build`
// does (config `theme-check:theme-app-extension`), and prints the result as JSON.
//
//   node tools/theme-check/run.mjs extensions/parley-chat
//
// Exit status: 0 when no offense has error severity, 1 when one does, 2 when the
// checker could not run (bad directory, a required check missing from the config).
//
// Offline on purpose: theme-check normally fetches the newest Liquid docs and JSON
// schemas from raw.githubusercontent.com and caches them in the user's cache folder.
// Tests never call the internet, so the docs bundled with the pinned package are
// used instead, which also makes a run depend only on package-lock.json.
import { createRequire } from 'node:module';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { ThemeLiquidDocsManager } = require('@shopify/theme-check-docs-updater');
const { themeCheckRun, Severity } = require('@shopify/theme-check-node');

const CONFIG = 'theme-check:theme-app-extension';
// The checks Shopify runs at deploy that matter most for an app embed; if a future
// theme-check renames or drops one, fail loudly instead of silently passing.
const REQUIRED_CHECKS = [
  'AppBlockValidTags',
  'AppBlockMissingSchema',
  'AssetSizeAppBlockJavaScript',
  'AssetSizeAppBlockCSS',
];

// loadResource/loadSchema read the downloaded copies (after trying to download them);
// when they throw, the manager falls back to the data shipped inside the package.
ThemeLiquidDocsManager.prototype.loadResource = async function offlineOnly(name) {
  throw new Error(`offline: using the bundled ${name}`);
};
ThemeLiquidDocsManager.prototype.loadSchema = async function offlineOnly(uri) {
  throw new Error(`offline: using the bundled ${uri}`);
};

const severityName = Object.fromEntries(Object.entries(Severity).map(([name, value]) => [value, name.toLowerCase()]));

function fail(message) {
  process.stdout.write(JSON.stringify({ error: message }, null, 2) + '\n');
  process.exit(2);
}

const arg = process.argv[2];
if (!arg) fail('usage: node run.mjs <extension directory>');
const root = path.resolve(process.cwd(), arg);
if (!existsSync(root) || !statSync(root).isDirectory()) fail(`not a directory: ${root}`);

const { config, offenses } = await themeCheckRun(root, CONFIG);

const active = config.checks.map((check) => check.meta.code);
const missing = REQUIRED_CHECKS.filter((code) => !active.includes(code) || config.settings[code]?.enabled === false);
if (missing.length) fail(`required checks are not active: ${missing.join(', ')}`);

const rootPath = fileURLToPath(config.rootUri);
const report = offenses.map((offense) => ({
  check: offense.check,
  severity: severityName[offense.severity] ?? String(offense.severity),
  file: path.relative(rootPath, fileURLToPath(offense.uri)),
  line: offense.start.line + 1,
  column: offense.start.character + 1,
  message: offense.message,
}));
const errors = report.filter((offense) => offense.severity === 'error').length;

process.stdout.write(
  JSON.stringify(
    {
      root: rootPath,
      config: CONFIG,
      checks: [...new Set(active)].sort(),
      errors,
      offenses: report,
    },
    null,
    2,
  ) + '\n',
);
process.exit(errors ? 1 : 0);
