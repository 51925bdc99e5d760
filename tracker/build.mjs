// Builds the tracker and the snippet, minified with terser, into a folder
// (default: the collector's static folder, which serves /t.js). The output is
// deterministic, so a test rebuilds from source and compares byte for byte.
import { minify } from "terser";
import { gzipSync } from "node:zlib";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] || join(here, "..", "collector", "static"));
mkdirSync(out, { recursive: true });

for (const [src, name] of [["tracker.js", "t.js"], ["ecommerce.js", "e.js"], ["snippet.js", "snippet.js"]]) {
  const code = readFileSync(join(here, "src", src), "utf8");
  const result = await minify(code, {
    ecma: 2020,
    compress: { passes: 3 },
    mangle: true,
    format: { comments: false },
  });
  writeFileSync(join(out, name), result.code + "\n");
  const bytes = Buffer.from(result.code + "\n");
  console.log(`${name}: ${bytes.length} bytes, ${gzipSync(bytes, { level: 9 }).length} gzipped`);
}
