// The published page in Debian's Chromium: it loads the shipped network, a drawn stroke is classified, the bars are a
// probability distribution, Clear resets them, and the page works at phone width with the keyboard.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { serve } from "./serve.mjs";
import { gunzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

const root = process.env.KERNELS_WEB_ROOT ?? "../../src/Kernels.Web/bin/Release/net10.0/publish/wwwroot";
let server, browser, url;

before(async () => {
    server = await serve(root);
    url = `http://127.0.0.1:${server.address().port}/`;
    browser = await chromium.launch({
        executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
        args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"],
    });
});

after(async () => {
    await browser?.close();
    server?.close();
});

async function ready(page) {
    await page.goto(url);
    await page.waitForFunction(() => document.querySelector("#status")?.textContent.startsWith("Ready"), null, { timeout: 120_000 });
}

async function draw(page, points) {
    const box = await page.locator("canvas").boundingBox();
    const at = ([x, y]) => [box.x + x * box.width, box.y + y * box.height];
    await page.mouse.move(...at(points[0]));
    await page.mouse.down();
    for (const p of points.slice(1)) await page.mouse.move(...at(p), { steps: 8 });
    await page.mouse.up();
    await page.waitForFunction(() => document.querySelector("#status")?.textContent.startsWith("It looks like"), null, { timeout: 30_000 });
}

const probabilities = page => page.$$eval(".bars .bar", bars => bars.map(b => Number(b.getAttribute("aria-valuenow"))));

test("a vertical stroke is a 1, and the bars are a distribution", async () => {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", e => errors.push(e.message));
    await ready(page);
    assert.match(await page.locator("#status").textContent(), /97\.\d ?% on its test digits/);
    assert.equal(await page.locator("#simd").textContent(), "Vector128");
    await draw(page, [[0.5, 0.15], [0.5, 0.85]]);
    const p = await probabilities(page);
    assert.equal(p.length, 10);
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 0.02, `probabilities ${p} do not sum to 1`);
    assert.equal(p.indexOf(Math.max(...p)), 1, `a vertical stroke gave ${p}`);
    assert.match(await page.locator("#status").textContent(), /It looks like a 1/);
    assert.deepEqual(errors, []);
    await page.close();
});

test("a closed loop is a 0; Clear resets the bars; the button is reachable by keyboard", async () => {
    const page = await browser.newPage();
    await ready(page);
    const loop = Array.from({ length: 25 }, (_, i) => [0.5 + 0.22 * Math.sin(2 * Math.PI * i / 24), 0.5 - 0.32 * Math.cos(2 * Math.PI * i / 24)]);
    await draw(page, loop);
    const p = await probabilities(page);
    assert.equal(p.indexOf(Math.max(...p)), 0, `a loop gave ${p}`);
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.textContent), "Clear");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.querySelector("#status").textContent.startsWith("Cleared"));
    assert.deepEqual(await probabilities(page), Array(10).fill(0));
    await page.close();
});

test("at phone width the drawing pad fits the screen", async () => {
    const page = await browser.newPage({ viewport: { width: 360, height: 740 }, hasTouch: true, isMobile: true });
    await ready(page);
    const box = await page.locator("canvas").boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 360, `canvas at ${box.x}..${box.x + box.width}`);
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360), "the page scrolls sideways");
    await page.close();
});

// Speed in the browser: recorded (docs/web.md), never asserted as a time; the ratios to the oracle are checked to
// be real numbers so a probe that stopped running would fail.
test("kernel timings inside Chromium", async () => {
    const page = await browser.newPage();
    await ready(page);
    const t = await page.evaluate(async () => {
        const call = (name, ...args) => DotNet.invokeMethodAsync("Kernels.Web", name, ...args);
        return {
            gemm128: await call("Gemm", 128, false, 5), gemm128Reference: await call("Gemm", 128, true, 3),
            gemm256: await call("Gemm", 256, false, 5), gemm256Reference: await call("Gemm", 256, true, 1),
            conv: await call("Conv", 4, 16, 28, 16, 3, false, 5), convReference: await call("Conv", 4, 16, 28, 16, 3, true, 3),
            step10: await call("TrainingStep", 10, 3),
        };
    });
    const gflops = (flops, ms) => (flops / (ms * 1e6)).toFixed(3);
    const convFlops = 2 * 4 * 16 * 28 * 28 * 16 * 9;
    console.log(`# in Chromium: SGEMM 128^3 ${t.gemm128.toFixed(2)} ms (${gflops(2 * 128 ** 3, t.gemm128)} GFLOP/s), ` +
        `oracle ${t.gemm128Reference.toFixed(2)} ms (${(t.gemm128Reference / t.gemm128).toFixed(1)}x); ` +
        `SGEMM 256^3 ${t.gemm256.toFixed(2)} ms (${gflops(2 * 256 ** 3, t.gemm256)} GFLOP/s), oracle ${t.gemm256Reference.toFixed(1)} ms ` +
        `(${(t.gemm256Reference / t.gemm256).toFixed(1)}x); ` +
        `conv (4,16,28,28) 16 3x3 ${t.conv.toFixed(2)} ms (${gflops(convFlops, t.conv)} GFLOP/s), oracle ${t.convReference.toFixed(2)} ms ` +
        `(${(t.convReference / t.conv).toFixed(1)}x); ThreeLayerConvNet training step, batch 10: ${t.step10.toFixed(0)} ms`);
    for (const v of Object.values(t)) assert.ok(Number.isFinite(v) && v > 0, JSON.stringify(t));
    // Formulations for the interpreter, after the runs above warmed the jiterpreter: the library's packed GEMM
    // against a plain i-k-j loop and the same loop with Vector128 written out.
    const f = await page.evaluate(async () => {
        const call = (name, ...args) => DotNet.invokeMethodAsync("Kernels.Web", name, ...args);
        return { library: await call("Gemm", 128, false, 5), plain: await call("GemmFormulation", 128, 1, 3), vector: await call("GemmFormulation", 128, 2, 5) };
    });
    console.log(`# GEMM 128^3 formulations in Chromium: library ${gflops(2 * 128 ** 3, f.library)}, plain loop ${gflops(2 * 128 ** 3, f.plain)}, ` +
        `Vector128 loop ${gflops(2 * 128 ** 3, f.vector)} GFLOP/s`);
    for (const v of Object.values(f)) assert.ok(Number.isFinite(v) && v > 0, JSON.stringify(f));
    await page.close();
});

test("Train here trains in the tab, then classifies with the new network; Cancel stops it", async () => {
    const page = await browser.newPage();
    await ready(page);
    await page.selectOption("select >> nth=0", "500");
    const started = Date.now();
    await page.click("#train");
    await page.waitForFunction(() => document.querySelector("#train-status").textContent.startsWith("Trained on 500 digits"), null, { timeout: 120_000 });
    const status = await page.locator("#train-status").textContent();
    const accuracy = Number(status.match(/validation accuracy ([\d.]+) ?%/)[1]);
    console.log(`# trained 500 digits, 1 epoch, in ${Date.now() - started} ms: ${status}`);
    assert.ok(accuracy > 60, status);
    assert.equal(await page.locator("svg.curve polyline").count(), 1);
    assert.equal(await page.locator("progress").getAttribute("value"), "1.000");
    await draw(page, [[0.5, 0.15], [0.5, 0.85]]);
    assert.match(await page.locator("#status").textContent(), /It looks like a \d/);

    await page.selectOption("select >> nth=0", "4000");
    await page.click("#train");
    // Let a few batches run: the loss shown falls (the curve's label gives its first and last values), then cancel.
    await page.waitForFunction(() => /step (1[0-9]|[2-9][0-9])/.test(document.querySelector("#train-status").textContent), null, { timeout: 60_000 });
    const [first, latest] = (await page.locator("svg.curve").getAttribute("aria-label")).match(/from ([\d.]+) to ([\d.]+)/).slice(1).map(Number);
    assert.ok(latest < first, `the loss went from ${first} to ${latest}`);
    await page.click("#cancel");
    await page.waitForFunction(() => document.querySelector("#train-status").textContent.startsWith("Cancelled after"), null, { timeout: 30_000 });
    assert.equal(await page.locator("#train").isEnabled(), true);
    await page.close();
});

/** Test-split digits (9000 on) of the main job's data: 28x28 bytes each, and their labels. */
function digits(indices) {
    const images = gunzipSync(readFileSync("../../src/Kernels.Demo/Data/digits-images-idx3-ubyte.gz"));
    const labels = gunzipSync(readFileSync("../../src/Kernels.Demo/Data/digits-labels-idx1-ubyte.gz"));
    return indices.map(i => ({ index: i, label: labels[8 + i], pixels: images.subarray(16 + 784 * i, 16 + 784 * (i + 1)) }));
}

test("three test digits drawn with pointer events: the page predicts what the desktop model predicts for its pixels", async () => {
    const page = await browser.newPage();
    await ready(page);
    const box = await page.locator("canvas").boundingBox();
    const cell = box.width / 28;
    const drawn = [];
    for (const d of digits([9000, 9001, 9002])) {
        await page.click("button:text('Clear')");
        // Each run of bright pixels in a row becomes one horizontal stroke; the page classifies after every stroke.
        for (let y = 0; y < 28; y++)
            for (let x = 0; x < 28; x++) {
                if (d.pixels[28 * y + x] < 128) continue;
                let end = x;
                while (end + 1 < 28 && d.pixels[28 * y + end + 1] >= 128) end++;
                const count = await page.evaluate(() => globalThis.kernelsPredictions ?? 0);
                await page.mouse.move(box.x + (x + 0.5) * cell, box.y + (y + 0.5) * cell);
                await page.mouse.down();
                await page.mouse.move(box.x + (end + 0.5) * cell, box.y + (y + 0.5) * cell, { steps: 2 });
                await page.mouse.up();
                await page.waitForFunction(c => (globalThis.kernelsPredictions ?? 0) > c, count);
                x = end;
            }
        drawn.push({ ...d, ...(await page.evaluate(() => globalThis.kernelsLast)) });
    }
    const desktop = execFileSync("dotnet", ["run", "-c", "Release", "--project", "predict", "--", "../../src/Kernels.Web/wwwroot/threelayerconvnet.safetensors"],
        { input: drawn.map(d => d.image.join(",")).join("\n") + "\n", encoding: "utf8" })
        .trim().split("\n").map(l => l.split(",").map(Number));
    for (let i = 0; i < drawn.length; i++) {
        const page = drawn[i].probabilities, native = desktop[i];
        const diff = Math.max(...page.map((p, k) => Math.abs(p - native[k])));
        const top = p => p.indexOf(Math.max(...p));
        console.log(`# digit ${drawn[i].index} (label ${drawn[i].label}): page says ${top(page)}, desktop ${top(native)}, max |difference| ${diff.toExponential(2)}`);
        assert.equal(top(page), top(native));
        assert.ok(diff <= 1e-4, `digit ${drawn[i].index}: probabilities differ by ${diff}`);
    }
    await page.close();
});
