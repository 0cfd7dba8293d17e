// The table's JS formatters on the cases Python's are tested on (format_cases.json):
//     node format_cases.mjs UPLOADS_TABLE.mjs format_cases.json
// prints {"checked": N, "failures": [...]} and exits 1 if any case fails. Run by
// tests/widgets/test_format_cases.py, which copies uploads_table.js to a .mjs file first.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [moduleFile, casesFile] = process.argv.slice(2);
const { sizeText, ageText, parseAge } = await import(pathToFileURL(moduleFile).href);
const cases = JSON.parse(readFileSync(casesFile, "utf8"));
const failures = [];
let checked = 0;

function check(kind, input, expected, got) {
  checked += 1;
  if (got !== expected) failures.push({ kind, input, expected, got });
}

for (const [n, text] of cases.size) check("size", n, text, sizeText(n));
for (const [seconds, text] of cases.age) check("age", seconds, text, ageText(seconds));
for (const [text, seconds] of cases.parse_age) {
  const filter = parseAge(text);
  // a valid age is "at least that old": the limit passes, a millisecond less does not
  const limit = typeof filter === "function" && filter(seconds) && !filter(seconds - 0.001)
    ? seconds : (filter === undefined ? null : "another limit");
  check("parse_age", text, seconds, filter === undefined ? null : limit);
}
console.log(JSON.stringify({ checked, failures }));
process.exit(failures.length ? 1 : 0);
