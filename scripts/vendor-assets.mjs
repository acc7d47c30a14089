// Copies the browser libraries from node_modules/ (installed by `npm ci` from package-lock.json)
// into web/static/vendor/, which is git-ignored and rebuilt by `make setup`: the pages load
// nothing from a CDN. Run as `npm run vendor` from the repository root.
//
// Each library keeps the major version its callers were written for: npm's `latest` htmx is 4.x
// (a fetch-based rewrite with other defaults) and Rasa 3.6's Socket.IO server speaks Engine.IO
// v4, which socket.io-client 3.x and 4.x speak. A bumped major stops the copy here instead of
// breaking a page at run time.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const modules = join(root, "node_modules");
const vendor = join(root, "web", "static", "vendor");

const LIBRARIES = [
  {
    name: "socket.io-client",
    major: 4,
    files: {
      "dist/socket.io.min.js": "socket.io.min.js",
      "dist/socket.io.min.js.map": "socket.io.min.js.map",
    },
  },
  { name: "htmx.org", major: 2, files: { "dist/htmx.min.js": "htmx.min.js" } },
  { name: "echarts", major: 5, files: { "dist/echarts.min.js": "echarts.min.js" } },
];

rmSync(vendor, { recursive: true, force: true });
mkdirSync(vendor, { recursive: true });
const manifest = {};
for (const lib of LIBRARIES) {
  const pkgDir = join(modules, lib.name);
  const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  const major = Number(pkg.version.split(".")[0]);
  if (major !== lib.major) {
    console.error(`${lib.name} ${pkg.version} installed, but the pages need ${lib.major}.x`);
    process.exit(1);
  }
  for (const [from, to] of Object.entries(lib.files)) {
    copyFileSync(join(pkgDir, from), join(vendor, to));
  }
  const base = lib.name.replace(/\W+/g, "-");
  copyFileSync(join(pkgDir, "LICENSE"), join(vendor, `${base}.LICENSE.txt`));
  if (existsSync(join(pkgDir, "NOTICE"))) {
    copyFileSync(join(pkgDir, "NOTICE"), join(vendor, `${base}.NOTICE.txt`)); // Apache-2.0 §4(d)
  }
  manifest[lib.name] = { version: pkg.version, license: pkg.license, files: Object.values(lib.files) };
}
writeFileSync(join(vendor, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(
  "web/static/vendor: " + Object.entries(manifest).map(([n, m]) => `${n} ${m.version}`).join(", "),
);
