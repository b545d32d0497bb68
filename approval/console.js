"use strict";
// The approval console page. It renders data with textContent only, so
// nothing a caller put in a tool argument can run here.
const list = document.getElementById("list");
const statusLine = document.getElementById("status");

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

async function decide(id, action, reason) {
  const res = await fetch("api/pending/" + encodeURIComponent(id) + "/" + action, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ reason: reason }),
  });
  const body = await res.json().catch(() => ({}));
  if (res.ok) {
    statusLine.textContent = (action === "approve" ? "Approved " : "Denied ") + id + ".";
  } else {
    statusLine.textContent = "Could not " + action + ": " + (body.error || res.status);
  }
  await refresh();
}

let shown = null;

function render(data) {
  document.getElementById("you").textContent = data.you;
  // Re-render only when the set changes, so a reason being typed survives
  // the periodic refresh.
  const key = data.pending.map((r) => r.id).join(",");
  if (key === shown) return;
  shown = key;
  list.replaceChildren();
  if (data.pending.length === 0) {
    list.append(el("p", "Nothing is waiting for approval.", "empty"));
    return;
  }
  for (const r of data.pending) {
    const box = el("div", undefined, "req");
    box.dataset.id = r.id;
    box.append(el("h2", r.summary));
    box.append(el("p", "Tool " + r.tool + " · caller " + (r.principal.subject || "anonymous") +
      " · rule " + r.rule + " · deadline " + new Date(r.deadline).toLocaleTimeString(), "meta"));
    box.append(el("pre", JSON.stringify(r.arguments, null, 2)));
    const reason = el("input");
    reason.type = "text";
    reason.placeholder = "Reason (required to deny)";
    reason.className = "reason";
    reason.maxLength = 500;
    const approve = el("button", "Approve", "approve");
    const deny = el("button", "Deny", "deny");
    approve.onclick = () => decide(r.id, "approve", reason.value);
    deny.onclick = () => decide(r.id, "deny", reason.value);
    if (r.principal.subject && r.principal.subject === data.you) {
      approve.disabled = true;
      box.append(el("p", "This is your own call: another approver must approve it.", "own"));
    }
    box.append(reason, approve, deny);
    list.append(box);
  }
}

async function refresh() {
  try {
    const res = await fetch("api/pending", { headers: { "Accept": "application/json" } });
    const body = await res.json();
    if (!res.ok) {
      statusLine.textContent = body.error || ("HTTP " + res.status);
      return;
    }
    render(body);
  } catch (e) {
    statusLine.textContent = "The console is unreachable: " + e;
  }
}

refresh();
setInterval(refresh, 3000);
