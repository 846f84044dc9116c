// Checks the licences of the dashboard's npm packages; the build runs it after `npm ci`.
// Reads package-lock.json's "packages" (every installed package, transitive ones included), takes each package's
// licence from its installed package.json (the lock's copy as a fallback) and refuses any licence outside the list.
// No dependencies: plain Node.
import { readFileSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const ALLOWED = new Set(["MIT", "ISC", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0", "0BSD"]);

const root = dirname(fileURLToPath(import.meta.url));

function fail(message) {
  console.error(`check-licenses: ${message}`);
  process.exit(1);
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    fail(`cannot read ${path}: ${err.message}`);
  }
}

// A package.json's licence: an SPDX string, or the old forms {type: "MIT"} and licenses: [{type}] (read as "OR").
function licenseOf(pkg) {
  if (!pkg) return "";
  const lic = pkg.license;
  if (typeof lic === "string") return lic.trim();
  if (lic && typeof lic.type === "string") return lic.type.trim();
  if (Array.isArray(pkg.licenses)) {
    return pkg.licenses.map((l) => (typeof l === "string" ? l : l && l.type) || "").filter(Boolean).join(" OR ");
  }
  return "";
}

// Accepts one allowed identifier, or a simple "A OR B" expression (optionally in parentheses) with one side allowed.
// Anything with AND, WITH or nested parentheses is refused: it needs a person to read it.
function isAllowed(expression) {
  let expr = expression.trim();
  if (expr.startsWith("(") && expr.endsWith(")")) expr = expr.slice(1, -1).trim();
  if (/[()]/.test(expr) || /\s(AND|WITH)\s/i.test(expr)) return false;
  return expr.split(/\s+OR\s+/i).some((id) => ALLOWED.has(id.trim()));
}

function main() {
  const lockPath = join(root, "package-lock.json");
  if (!existsSync(lockPath)) fail(`no package-lock.json in ${root}`);
  const lock = readJson(lockPath);
  if (!lock.packages || typeof lock.packages !== "object") {
    fail("package-lock.json has no \"packages\" (lockfileVersion 2 or 3 is needed)");
  }

  const problems = [];
  let checked = 0;
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === "") continue; // the dashboard itself
    // Links (workspaces) point at a folder of this repository; their own entry is listed separately.
    if (entry.link) continue;
    // Optional packages for another platform are not installed by npm ci; nothing of theirs is shipped.
    const manifestPath = join(root, path, "package.json");
    const installed = existsSync(manifestPath);
    if (!installed && entry.optional) continue;

    const name = entry.name || path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
    const version = entry.version || "?";
    if (!installed) {
      problems.push(`${name}@${version} is in package-lock.json but not installed at ${path} (run npm ci)`);
      continue;
    }
    const license = licenseOf(readJson(manifestPath)) || licenseOf(entry);
    console.log(`${name}@${version} ${license || "(none)"}`);
    checked++;
    if (!license) problems.push(`${name}@${version} declares no licence`);
    else if (!isAllowed(license)) problems.push(`${name}@${version} has licence "${license}", which is not allowed`);
  }

  if (problems.length > 0) {
    for (const p of problems) console.error(`check-licenses: ${p}`);
    fail(`${problems.length} problem(s); allowed licences: ${[...ALLOWED].join(", ")}`);
  }
  console.log(`check-licenses: ${checked} package(s), all licences allowed`);
}

main();
