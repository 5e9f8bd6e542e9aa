/**
 * The load generator for one HTTP family, in a process of its own: `node family-child.mjs
 * <family> <settings JSON> <pin: 0|1>`. Progress goes to stderr; the result is printed as JSON
 * on the last line of stdout.
 */
import { runClosedFamily } from './closed-family.mjs';
import { httpFamilies } from './families.mjs';
import { runOverloadFamily } from './overload-family.mjs';
import { pinSelf } from './server-process.mjs';

const [id, settingsJson, pinFlag] = process.argv.slice(2);
const family = httpFamilies.find((f) => f.id === id);
if (family === undefined) throw new Error(`no HTTP family ${id}`);
const settings = JSON.parse(settingsJson);
const pin = pinFlag === '1';
if (pin) pinSelf();
const log = (line) => process.stderr.write(`${line}\n`);

const result =
  family.kind === 'overload'
    ? await runOverloadFamily(settings.overload, pin, log)
    : { rows: await runClosedFamily(family, settings.closed, pin, log) };
process.stdout.write(`${JSON.stringify(result)}\n`);
