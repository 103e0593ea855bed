// minikeras explore: step through recorded calls of a K.function.
// The page holds the plot_graph SVG and, in the script element "data", a JSON of the plan's steps
// and each call's values. Graphviz writes every node as <g class="node"><title>id</title>,
// so the title is how a step finds its node. Nothing here fetches anything.
"use strict";

const data = JSON.parse(document.getElementById("data").textContent);
const steps = data.steps;
const total = steps.length * data.calls.length;  // the timeline: every step of every call

const nodes = {};  // DOT node id -> its <g>
for (const g of document.querySelectorAll("#graph g.node")) {
  const id = g.querySelector("title").textContent;
  g.dataset.node = id;
  nodes[id] = g;
  g.addEventListener("click", () => select(id));
}
const edgesInto = {};  // DOT node id -> the <g> of each edge that ends there
for (const g of document.querySelectorAll("#graph g.edge")) {
  const head = g.querySelector("title").textContent.split("->")[1];
  (edgesInto[head] = edgesInto[head] || []).push(g);
}

const runsAt = {};     // DOT node id -> the first step that runs one of its ops
const opStep = {};     // op name -> the step that runs it
const assignedAt = {}; // variable's DOT node id -> the step that writes its update
steps.forEach((step, k) => {
  if (step.phase === "assign") {
    assignedAt[step.node] = k;
  } else {
    opStep[step.op] = k;
    if (!(step.node in runsAt)) runsAt[step.node] = k;
  }
});

let position = 0;
let selected = null;
let timer = null;

function where() {
  if (steps.length === 0) return { call: 0, k: 0 };  // nothing to step through: the first call
  return { call: Math.floor(position / steps.length), k: position % steps.length };
}

function show(p) {
  position = Math.max(0, Math.min(total - 1, p));
  const { call, k } = where();
  const step = steps[k];
  for (const [id, g] of Object.entries(nodes)) {
    g.classList.toggle("current", id === step.node);
    g.classList.toggle("done", runsAt[id] < k);
    g.classList.toggle("pending", runsAt[id] > k && id !== step.node);
    g.classList.toggle("assigned", assignedAt[id] < k);
  }
  for (const g of document.querySelectorAll("#graph g.edge.active")) g.classList.remove("active");
  for (const g of edgesInto[step.node] || []) g.classList.add("active");
  nodes[step.node]?.scrollIntoView({ block: "nearest", inline: "nearest" });

  document.getElementById("slider").value = position;
  document.getElementById("position").textContent =
    `call ${call + 1} of ${data.calls.length} \u00b7 step ${k + 1} of ${steps.length}`;
  const after = step.phase === "assign" ? " (the outputs were already returned)" : "";
  document.getElementById("status").textContent =
    `${data.phases[step.phase]}${after}: ${step.text}`;
  if (selected !== null) select(selected);
}

function valueText(text) {
  return text === null ? "(left out: the page's cap on values was reached; see the note below)" : text;
}

function addText(panel, tag, text) {
  const element = document.createElement(tag);
  element.textContent = text;
  panel.appendChild(element);
}

function select(id) {
  if (selected !== null && nodes[selected]) nodes[selected].classList.remove("selected");
  selected = id;
  nodes[id]?.classList.add("selected");
  const panel = document.getElementById("panel");
  panel.replaceChildren();
  const node = data.nodes[id];
  if (!node) {
    addText(panel, "p", `${id}: not part of this function's graph.`);
    return;
  }
  const { call, k } = where();
  const values = data.calls[call].values;
  for (const op of node.ops) {
    addText(panel, "h2", op.name);
    addText(panel, "p", `op type: ${op.type} (${op.kind})`);
    for (const t of op.tensors) {
      addText(panel, "p", `${t.name}: shape ${t.shape}, dtype ${t.dtype}`);
      if (op.kind === "variable") {
        addText(panel, "p", `value before the updates of call ${call + 1}:`);
        addText(panel, "pre", valueText(values[t.name]));
        if (t.name in data.calls[call].after) {
          const at = assignedAt[id];
          if (at < k) {
            addText(panel, "p", `value after the updates (written at step ${at + 1}):`);
            addText(panel, "pre", valueText(data.calls[call].after[t.name]));
          } else {
            addText(panel, "p", `its update is written at step ${at + 1}, after the outputs.`);
          }
        }
      } else if (op.name in opStep && opStep[op.name] > k) {
        addText(panel, "p", `not computed yet: it runs at step ${opStep[op.name] + 1}.`);
      } else if (t.name in values) {
        const how = op.name in opStep ? `computed at step ${opStep[op.name] + 1}` : "given to the call";
        addText(panel, "p", `value (${how}):`);
        addText(panel, "pre", valueText(values[t.name]));
      } else {
        addText(panel, "p", "not run by this function (no value).");
      }
    }
  }
}

function play() {
  const button = document.getElementById("play");
  if (timer !== null) {
    clearInterval(timer);
    timer = null;
    button.textContent = "play";
    return;
  }
  if (position === total - 1) show(0);
  button.textContent = "pause";
  timer = setInterval(() => {
    if (position === total - 1) play(); else show(position + 1);
  }, 400);
}

function drawPhases() {
  // One coloured block per run of steps in the same phase, over the whole timeline.
  const bar = document.getElementById("phasebar");
  for (let call = 0; call < data.calls.length; call++) {
    let start = 0;
    for (let k = 1; k <= steps.length; k++) {
      if (k < steps.length && steps[k].phase === steps[start].phase) continue;
      const block = document.createElement("div");
      block.className = steps[start].phase;
      block.style.flexGrow = k - start;
      block.title = `call ${call + 1}, steps ${start + 1}-${k}: ${data.phases[steps[start].phase]}`;
      if ((k - start) / total > 0.06) block.textContent = steps[start].phase;
      bar.appendChild(block);
      start = k;
    }
  }
}

document.getElementById("previous").addEventListener("click", () => show(position - 1));
document.getElementById("next").addEventListener("click", () => show(position + 1));
document.getElementById("play").addEventListener("click", play);
document.getElementById("zoom").addEventListener("click",
  () => document.getElementById("graph").classList.toggle("actual"));
document.getElementById("slider").max = total - 1;
document.getElementById("slider").addEventListener("input", (e) => show(Number(e.target.value)));
document.addEventListener("keydown", (e) => {
  if (e.key === " " && e.target.tagName === "BUTTON") return;  // the button's own click
  if (e.key === "ArrowRight") show(position + 1);
  else if (e.key === "ArrowLeft") show(position - 1);
  else if (e.key === "Home") show(0);
  else if (e.key === "End") show(total - 1);
  else if (e.key === " ") play();
  else return;
  e.preventDefault();
});
document.getElementById("notes").textContent = data.notes.join(" ");
if (total > 0) {
  drawPhases();
  show(0);
} else {
  document.getElementById("status").textContent = "This function runs no op and writes no update.";
}
