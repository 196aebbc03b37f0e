// A static file server for the published wwwroot on 127.0.0.1 (a random free port), with the MIME types Blazor needs.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";

const types = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".json": "application/json",
    ".wasm": "application/wasm", ".dat": "application/octet-stream", ".dll": "application/octet-stream", ".webcil": "application/octet-stream",
    ".png": "image/png", ".safetensors": "application/octet-stream", ".pdb": "application/octet-stream", ".blat": "application/octet-stream" };

export function serve(root) {
    const server = createServer(async (req, res) => {
        let path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
        if (path.endsWith("/")) path += "index.html";
        try {
            const body = await readFile(join(root, path));
            res.writeHead(200, { "Content-Type": types[extname(path)] ?? "application/octet-stream" });
            res.end(body);
        } catch {
            res.writeHead(404);
            res.end();
        }
    });
    return new Promise(resolve => server.listen(0, "127.0.0.1", () => resolve(server)));
}
