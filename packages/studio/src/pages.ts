import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';

/** Each page: its path, title and script (`assets/pages/<script>.js`). */
const PAGES = [
  ['/', 'Dashboard', 'dashboard'],
  ['/queue', 'Queue', 'queue'],
  ['/lab', 'Style lab', 'lab'],
  ['/trainer', 'Trainer', 'trainer'],
  ['/settings', 'Settings', 'settings'],
] as const;

/** The page shell: navigation, the page's own markup, and its script (which builds the page). */
function shell(path: string, title: string, script: string, body: string): string {
  const nav = PAGES.map(
    ([href, name]) => `<a href="${href}"${href === path ? ' aria-current="page"' : ''}>${name}</a>`,
  ).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Framecraft Studio</title><link rel="stylesheet" href="/assets/studio.css"></head>
<body data-page="${path}"><header><strong>Framecraft Studio</strong><nav>${nav}</nav></header>
<main><h1>${title}</h1>${body}</main><script type="module" src="/assets/pages/${script}.js"></script></body></html>`;
}

const BODIES: Record<string, string> = {
  '/': `<section class="grid">
  <div class="card"><h2>Input</h2>
    <label>Video <input id="input" placeholder="/path/in/an/allowed/folder.mp4" autocomplete="off"></label>
    <label>…or upload one <input id="upload" type="file" accept="video/*"></label>
    <div id="browser" class="browser"></div><pre id="probe" class="probe"></pre></div>
  <div class="card"><h2>Style</h2>
    <label>Style <select id="style"></select></label>
    <label>Preset <select id="preset"><option>speed</option><option selected>balanced</option><option>quality</option></select></label>
    <div id="options" class="options"></div>
    <label>Temporal <select id="temporal"><option value="">the style's choice</option><option value="flow">flow (follows motion)</option><option value="ema">EMA</option><option value="off">off</option></select></label>
    <label>Codec <select id="codec"><option value="auto">auto (NVENC when present)</option><option>libx264</option></select></label>
    <label>CRF <input id="crf" type="number" min="0" max="51" value="20"></label>
    <label>Output <input id="output" placeholder="/path/out.mp4"></label>
    <label class="check"><input id="metrics" type="checkbox" checked> per-frame metrics</label>
    <div class="row"><button id="preview">Preview a frame</button><button id="submit" class="primary">Add to queue</button></div>
    <p id="status" role="status"></p></div>
  <div class="card"><h2>A whole folder</h2>
    <label>Folder <input id="folder" placeholder="the folder shown on the left" autocomplete="off"></label>
    <label>Outputs into <input id="folderOut" placeholder="&lt;folder&gt;/stylized" autocomplete="off"></label>
    <label class="check"><input id="folderRecursive" type="checkbox"> subfolders too</label>
    <div class="row"><button id="queueFolder">Queue every video</button></div>
    <p id="folderStatus" role="status"></p></div>
</section>
<section id="previewPane" class="pair" hidden><figure><img id="prevOriginal" alt="original"><figcaption>original</figcaption></figure>
<figure><img id="prevStyled" alt="stylized"><figcaption id="prevCaption">stylized</figcaption></figure></section>`,
  '/queue': `<p id="target" class="muted"></p><table class="jobs"><thead><tr><th>Job</th><th>Style</th><th>State</th><th>Progress</th><th>fps</th><th>ETA</th><th></th></tr></thead>
<tbody id="jobs"></tbody></table><section id="result" hidden><h2 id="resultTitle"></h2><video id="player" controls preload="metadata"></video>
<div id="charts" class="charts"></div></section>`,
  '/lab': `<section class="card"><div class="row">
  <label>Video <input id="labInput" placeholder="/path/in/an/allowed/folder.mp4"></label>
  <label>At (s) <input id="labTime" type="number" min="0" step="0.1" value="0"></label>
  <label>A <select id="styleA"></select></label><label>B <select id="styleB"></select></label>
  <button id="compare" class="primary">Compare</button></div></section>
<section id="abPane" hidden><div class="wipe" id="wipe"><img id="imgB" alt="B"><div class="wipeA" id="wipeA"><img id="imgA" alt="A"></div></div>
<input id="slider" type="range" min="0" max="100" value="50" aria-label="wipe between A and B">
<div class="pair"><figure><img id="sideA" alt="A"><figcaption id="capA">A</figcaption></figure>
<figure><img id="sideB" alt="B"><figcaption id="capB">B</figcaption></figure></div>
<div class="row"><button data-choice="a">A is better</button><button data-choice="b">B is better</button>
<button data-choice="tie">Tie</button><button data-choice="neither">Neither</button>
<label>Rating <select id="rating"><option value="">–</option><option>1</option><option>2</option><option>3</option><option>4</option><option>5</option></select></label>
<label class="check"><input id="approve" type="checkbox" checked> use the pick for training</label></div>
<p id="labStatus" role="status"></p></section>`,
  '/trainer': `<section class="card"><div class="row">
  <label>New model name <input id="trainName" value="my-style"></label>
  <label>Mode <select id="trainMode"><option value="finetune">fine-tune</option><option value="student">student</option></select></label>
  <label>Base model <select id="trainBase"></select></label>
  <label>Steps <input id="trainSteps" type="number" min="1" value="200"></label>
  <button id="trainStart" class="primary">Start training</button></div>
  <h2>Approved pairs</h2><div id="pairs" class="pairs"></div>
  <p id="trainStatus" role="status"></p></section>
<section class="card"><h2>Loss</h2><svg id="lossPlot" viewBox="0 0 600 220" role="img" aria-label="training loss"></svg></section>
<section id="verdict" class="card" hidden><h2>Held-out pairs</h2><table id="verdictTable"></table>
<div class="row"><button id="promote" class="primary">Promote</button><button id="discard">Discard</button></div></section>`,
  '/settings': `<section class="grid"><div class="card"><h2>Hardware</h2><div id="hardware"></div></div>
<div class="card"><h2>Folders</h2><ul id="roots"></ul></div>
<div class="card"><h2>Defaults</h2><label>Style <select id="defStyle"></select></label>
<label>Preset <select id="defPreset"><option>speed</option><option>balanced</option><option>quality</option></select></label>
<label>Codec <select id="defCodec"><option value="auto">auto</option><option>libx264</option></select></label>
<label>CRF <input id="defCrf" type="number" min="0" max="51"></label><button id="saveDefaults" class="primary">Save</button>
<p id="defStatus" role="status"></p></div><div class="card"><h2>Models</h2><ul id="models"></ul></div></section>`,
};

/** The assets served: the style sheet, the shared module and each page's script. */
const ASSETS: readonly (readonly [name: string, type: string])[] = [
  ['studio.css', 'text/css'],
  ['pages/common.js', 'text/javascript'],
  ...PAGES.map(([, , script]) => [`pages/${script}.js`, 'text/javascript'] as const),
];

/**
 * Serve the five pages and their assets: plain HTML, CSS, and one ES module per page beside a
 * shared one. No build step: the scripts are JavaScript type-checked with JSDoc (`// @ts-check`,
 * tsconfig.pages.json) against the API's types in src/api.ts.
 */
export function addPages(app: Hono): void {
  for (const [path, title, script] of PAGES)
    app.get(path, (c) => c.html(shell(path, title, script, BODIES[path]!)));
  for (const [name, type] of ASSETS) {
    // Read once, on the first request.
    let text: Promise<string> | null = null;
    app.get(`/assets/${name}`, async (c) => {
      text ??= readFile(fileURLToPath(new URL(`../assets/${name}`, import.meta.url)), 'utf8');
      return c.body(await text, 200, { 'content-type': `${type}; charset=utf-8` });
    });
  }
}
