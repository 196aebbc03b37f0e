// Drawing on the digit canvas (mouse, pen or touch) and reading it back as the 28x28 image the network takes.
// MNIST digits are white on black, centred in a 20x20 box inside 28x28: the stroke's bounding box is scaled into
// that box, as the data set was made.
export function attach(canvas, dotnet) {
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "black";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    let drawing = false, last = null;
    const at = e => {
        const r = canvas.getBoundingClientRect();
        return { x: (e.clientX - r.left) * canvas.width / r.width, y: (e.clientY - r.top) * canvas.height / r.height };
    };
    canvas.addEventListener("pointerdown", e => { drawing = true; last = at(e); canvas.setPointerCapture(e.pointerId); stroke(last, last); });
    canvas.addEventListener("pointermove", e => { if (!drawing) return; const p = at(e); stroke(last, p); last = p; });
    const end = () => { if (!drawing) return; drawing = false; dotnet.invokeMethodAsync("StrokeEnded"); };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    function stroke(a, b) {
        ctx.strokeStyle = "white";
        ctx.lineWidth = canvas.width / 12;
        ctx.lineCap = "round";
        ctx.beginPath();
        ctx.moveTo(a.x, a.y);
        ctx.lineTo(b.x, b.y);
        ctx.stroke();
    }
}

export function clear(canvas) {
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "black";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
}

// 784 floats in [0, 1], row-major; all zeros when nothing is drawn.
export function pixels(canvas) {
    const w = canvas.width, h = canvas.height;
    const data = canvas.getContext("2d").getImageData(0, 0, w, h).data;
    let x0 = w, y0 = h, x1 = -1, y1 = -1;
    for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
            if (data[4 * (y * w + x)] > 0) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
    const out = new Array(784).fill(0);
    if (x1 < 0) return out;
    const small = document.createElement("canvas");
    small.width = small.height = 28;
    const s = small.getContext("2d");
    s.fillStyle = "black";
    s.fillRect(0, 0, 28, 28);
    const size = Math.max(x1 - x0, y1 - y0) + 1, scale = 20 / size;
    const bw = (x1 - x0 + 1) * scale, bh = (y1 - y0 + 1) * scale;
    s.imageSmoothingEnabled = true;
    s.drawImage(canvas, x0, y0, x1 - x0 + 1, y1 - y0 + 1, (28 - bw) / 2, (28 - bh) / 2, bw, bh);
    const d = s.getImageData(0, 0, 28, 28).data;
    for (let i = 0; i < 784; i++) out[i] = d[4 * i] / 255;
    return out;
}

// The last image the page classified and its probabilities, for the end-to-end test to check against the desktop model.
export function record(image, probabilities) {
    globalThis.kernelsLast = { image, probabilities };
    globalThis.kernelsPredictions = (globalThis.kernelsPredictions ?? 0) + 1;
}
