// The chat page: streamed replies, safe Markdown, the mood badge, "what I remembered",
// and proactive messages arriving live. Plain JS, no dependencies. The session cookie
// authenticates; unsafe requests carry the page's CSRF token.
"use strict";
(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const text = document.getElementById("text");
  const send = document.getElementById("send");
  const mood = document.getElementById("mood");
  const status = document.getElementById("status");
  let conversationId = log.dataset.conversation || null;

  // Markdown, safely: escape every character of HTML first, then add a few tags.
  function escapeHtml(s) {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
            .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }
  function inline(s) {
    return s
      .replace(/`([^`]+)`/g, "<code>$1</code>")
      .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
      .replace(/(^|[^*])\*([^*\s][^*]*)\*/g, "$1<em>$2</em>")
      .replace(/\[([^\]]+)\]\((https?:\/\/[^\s)"]+)\)/g,
               '<a href="$2" rel="noopener noreferrer nofollow" target="_blank">$1</a>');
  }
  function markdown(source) {
    const blocks = escapeHtml(source).split(/```/);
    let html = "";
    blocks.forEach((block, i) => {
      if (i % 2 === 1) { html += "<pre><code>" + block.replace(/^[a-z0-9]*\n/, "") + "</code></pre>"; return; }
      for (const para of block.split(/\n{2,}/)) {
        const lines = para.split("\n").filter((l) => l.trim() !== "");
        if (!lines.length) continue;
        if (lines.every((l) => /^\s*([-*]|\d+\.)\s+/.test(l))) {
          const tag = /^\s*\d+\./.test(lines[0]) ? "ol" : "ul";
          html += "<" + tag + ">" + lines.map((l) => "<li>" + inline(l.replace(/^\s*([-*]|\d+\.)\s+/, "")) + "</li>").join("") + "</" + tag + ">";
        } else {
          html += "<p>" + lines.map(inline).join("<br>") + "</p>";
        }
      }
    });
    return html;
  }
  function renderMarkdown(el, source) { el.innerHTML = markdown(source); el.dataset.source = source; }
  document.querySelectorAll(".md").forEach((el) => renderMarkdown(el, el.textContent.trim()));

  // The badge: the emotion's name plus pleasure and arousal, so every reply's shift shows.
  function signed(x) { return (x >= 0 ? "+" : "") + x.toFixed(2); }
  function setMood(label, pad) {
    const p = pad.pleasure || 0, a = pad.arousal || 0;
    mood.textContent = label + " · pleasure " + signed(p) + " · energy " + signed(a);
    mood.title = "pleasure " + signed(p) + ", arousal " + signed(a) + ", dominance " + signed(pad.dominance || 0);
    mood.className = "badge" + (p > 0.15 ? " good" : p < -0.15 ? " low" : "");
  }
  setMood(mood.dataset.label, { pleasure: parseFloat(mood.dataset.pleasure || "0"), arousal: parseFloat(mood.dataset.arousal || "0") });

  function bubble(role, extra) {
    const div = document.createElement("div");
    div.className = "msg " + role + (extra ? " " + extra : "");
    const body = document.createElement("div");
    body.className = "body md";
    div.appendChild(body);
    const meta = document.createElement("div");
    meta.className = "meta";
    div.appendChild(meta);
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }
  function rememberButton(meta, interactionId, count) {
    const b = document.createElement("button");
    b.type = "button"; b.className = "secondary remember-btn";
    b.dataset.interaction = interactionId; b.setAttribute("aria-expanded", "false");
    b.textContent = "What I remembered (" + count + ")";
    meta.appendChild(b);
  }

  async function toggleRemembered(button) {
    const msg = button.closest(".msg");
    const open = msg.querySelector(".remembered");
    if (open) { open.remove(); button.setAttribute("aria-expanded", "false"); return; }
    const res = await fetch("/me/remembered/" + encodeURIComponent(button.dataset.interaction));
    if (!res.ok) { status.textContent = "Could not load the memories (" + res.status + ")."; return; }
    msg.insertAdjacentHTML("beforeend", await res.text());  // server-rendered, escaped
    button.setAttribute("aria-expanded", "true");
    const panel = msg.querySelector(".remembered");
    panel.setAttribute("tabindex", "-1"); panel.focus();
  }
  log.addEventListener("click", (e) => {
    const b = e.target.closest(".remember-btn");
    if (b) toggleRemembered(b);
  });
  log.addEventListener("submit", async (e) => {
    const f = e.target.closest("form.js-fetch");
    if (!f) return;
    e.preventDefault();
    const res = await fetch(f.action, { method: "POST", body: new FormData(f), headers: { "X-Requested-With": "fetch" } });
    const data = await res.json().catch(() => ({ message: "Request failed (" + res.status + ")." }));
    status.textContent = data.message || "";
    const msg = f.closest(".msg");
    const button = msg.querySelector(".remember-btn");
    msg.querySelector(".remembered").remove();
    if (button) { button.setAttribute("aria-expanded", "false"); toggleRemembered(button); }
  });

  text.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const message = text.value.trim();
    if (!message) return;
    const mine = bubble("user");
    renderMarkdown(mine.querySelector(".body"), message);
    text.value = ""; send.disabled = true; status.textContent = "…";
    const reply = bubble("assistant");
    const body = reply.querySelector(".body");
    body.textContent = "…";
    let soFar = "";
    try {
      const payload = { message, channel: "web" };
      if (conversationId) payload.conversation_id = conversationId; else payload.new_conversation = true;
      const res = await fetch("/api/chat/stream", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(payload),
      });
      if (!res.ok) {
        const err = await res.json().catch(() => ({ detail: res.statusText }));
        body.textContent = "(" + res.status + ") " + (err.detail || "error");
        if (res.status === 401) window.location.assign("/chat");
        return;
      }
      const reader = res.body.getReader(), decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const event = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
          for (const line of event.split("\n")) {
            if (!line.startsWith("data:")) continue;
            const data = JSON.parse(line.slice(5).trim());
            if (data.chunk) {
              soFar += data.chunk; renderMarkdown(body, soFar); log.scrollTop = log.scrollHeight;
              reply.dataset.chunks = String(Number(reply.dataset.chunks || 0) + 1);  // pieces shown as they came
            }
            if (data.error) { body.textContent = data.detail || data.error; }
            if (data.done && !data.error) finish(reply, data, soFar);
          }
        }
      }
      status.textContent = "";
    } catch (err) {
      body.textContent = "Could not reach Companion: " + err;
    } finally {
      send.disabled = false; text.focus();
    }
  });

  function finish(reply, data, soFar) {
    if (!soFar && data.response) renderMarkdown(reply.querySelector(".body"), data.response);
    if (data.conversation_id && data.conversation_id !== conversationId) {
      conversationId = data.conversation_id;
      log.dataset.conversation = conversationId;
      history.replaceState(null, "", "/chat?c=" + conversationId);
      const list = document.getElementById("chats");
      const item = document.createElement("li"), link = document.createElement("a");
      link.href = "/chat?c=" + conversationId; link.textContent = "this conversation";
      link.setAttribute("aria-current", "true");
      list.querySelectorAll("a[aria-current]").forEach((a) => a.removeAttribute("aria-current"));
      list.querySelectorAll("li.muted").forEach((li) => li.remove());
      item.appendChild(link); list.prepend(item);
    }
    const meta = reply.querySelector(".meta");
    const when = document.createElement("span");
    when.textContent = "just now";
    meta.appendChild(when);
    if (data.emotion_label) {
      setMood(data.emotion_label, data.pad_after || {});
      const m = document.createElement("span"); m.textContent = "mood " + data.emotion_label; meta.appendChild(m);
    }
    if (data.memories_used && data.memories_used.length && data.interaction_id) {
      rememberButton(meta, data.interaction_id, data.memories_used.length);
    }
  }

  // Proactive messages: the companion writes first (Server-Sent Events, cookie auth).
  if (window.EventSource) {
    const stream = new EventSource("/api/proactive/stream");
    stream.onopen = () => { document.body.dataset.proactive = "connected"; };
    stream.addEventListener("proactive", (e) => {
      const data = JSON.parse(e.data);
      const div = bubble("assistant", "proactive");
      renderMarkdown(div.querySelector(".body"), data.text || "");
      div.querySelector(".meta").textContent = "your companion wrote first";
    });
  }
})();
