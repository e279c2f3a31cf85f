// Pipulate's page behaviour. Loaded as a file so the Content-Security-Policy can forbid inline script.
(function () {
  "use strict";

  // Every request says which profile this page shows (the switcher's data-profile-id, redrawn
  // whenever the page changes profile), on htmx requests and on the page socket's frames alike,
  // and names the page itself (so the server need not tell it what it just did).
  var pageToken = Math.random().toString(36).slice(2) + Date.now().toString(36);
  function pageProfile() {
    var switcher = document.getElementById("profile-switcher");
    return switcher ? switcher.getAttribute("data-profile-id") : null;
  }
  function addPageHeaders(event) {
    var id = pageProfile();
    if (id) event.detail.headers["X-Pipulate-Profile"] = id;
    event.detail.headers["X-Pipulate-Page"] = pageToken;
  }
  document.addEventListener("htmx:configRequest", addPageHeaders);
  document.addEventListener("htmx:wsConfigSend", addPageHeaders);

  function flash() { return document.getElementById("flash"); }
  function clearFlash() { var box = flash(); if (box) box.replaceChildren(); }
  function showFlash(text) {
    var box = flash();
    if (!box) return;
    var message = document.createElement("div");
    message.className = "message error";
    message.setAttribute("role", "alert");
    message.textContent = text;
    box.replaceChildren(message);
  }
  // The message floats over the page; a click on it puts it away.
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("#flash .message")) clearFlash();
  });

  // A new action clears the previous message. Requests the page makes by itself (a model list
  // loading into a redrawn chat panel) do not: the message they would hide is what just happened.
  var AUTOMATIC = { load: true, revealed: true, intersect: true };
  document.addEventListener("htmx:beforeRequest", function (event) {
    var config = event.detail.requestConfig;
    var trigger = config && config.triggeringEvent;
    if (!trigger || AUTOMATIC[trigger.type]) return;
    clearFlash();
  });

  // The server did not answer at all (it stopped, or restarts): say so instead of doing nothing.
  document.addEventListener("htmx:sendError", function () {
    showFlash("The app did not answer: the server may have stopped. Nothing was changed; try again once it is back.");
  });

  // Forms marked data-reset-on-success empty themselves once the server accepted them. A second
  // click landing just after (a double click on a fast server) would send the emptied form: it
  // is dropped quietly instead of answering "cannot be empty".
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.matches && form.matches("form[data-reset-on-success]") && event.detail.successful) {
      form.reset();
      form.dataset.resetAt = String(Date.now());
      var first = form.querySelector("input:not([type=hidden])");
      if (first) first.focus();
    }
  });
  document.addEventListener("htmx:confirm", function (event) {
    var form = event.detail.elt;
    if (!form || !form.matches || !form.matches("form[data-reset-on-success]")) return;
    var typed = Array.prototype.some.call(form.querySelectorAll("input:not([type=hidden])"), function (input) {
      return input.value.trim() !== "";
    });
    if (!typed && Date.now() - Number(form.dataset.resetAt || 0) < 1000) event.preventDefault();
  });

  // Escape inside an in-place editor presses its Cancel button.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var editor = event.target.closest && event.target.closest("[data-editor]");
    var cancel = editor && editor.querySelector("[data-cancel]");
    if (cancel) cancel.click();
  });

  // Focus the first input of an editor that was just swapped in.
  document.addEventListener("htmx:afterSwap", function (event) {
    var input = event.detail.elt && event.detail.elt.querySelector && event.detail.elt.querySelector("[data-editor] input[autofocus]");
    if (input) { input.focus(); input.select(); }
  });

  // Controls declared once per list: a control data-do="NAME" inside an item data-id="ID" does
  // what its list's data-do-NAME says ("post /todos/{id}/toggle"), swapping the item.
  document.addEventListener("click", function (event) {
    var control = event.target.closest && event.target.closest("[data-do]");
    if (!control) return;
    var name = control.getAttribute("data-do");
    var item = control.closest("[data-id]");
    var owner = item && item.closest("[data-do-" + name + "]");
    if (!owner) return;
    var spec = owner.getAttribute("data-do-" + name).split(" ");
    var url = spec[1].replace("{id}", encodeURIComponent(item.getAttribute("data-id")));
    clearFlash();
    htmx.ajax(spec[0].toUpperCase(), url, { source: control, target: item, swap: "outerHTML" });
  });

  // Drag-and-drop ordering for lists marked data-sortable. The list's own hx-trigger="reordered"
  // sends the new order; its items carry <input type=hidden name=order>.
  var dragged = null;
  document.addEventListener("dragstart", function (event) {
    var item = event.target.closest && event.target.closest("[data-sortable] > li[draggable=true]");
    if (!item) return;
    dragged = item;
    item.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.id);
  });
  document.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var over = event.target.closest && event.target.closest("[data-sortable] > li");
    if (!over || over.parentNode !== dragged.parentNode) return;
    event.preventDefault();
    if (over === dragged) return;
    var box = over.getBoundingClientRect();
    var after = event.clientY > box.top + box.height / 2;
    over.parentNode.insertBefore(dragged, after ? over.nextSibling : over);
  });
  document.addEventListener("drop", function (event) {
    if (dragged) event.preventDefault();
  });
  document.addEventListener("dragend", function () {
    if (!dragged) return;
    var list = dragged.parentNode;
    dragged.classList.remove("dragging");
    dragged = null;
    htmx.trigger(list, "reordered");
  });

  // Keyboard ordering: Alt+ArrowUp / Alt+ArrowDown on an item of a sortable list.
  document.addEventListener("keydown", function (event) {
    if (!event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
    var item = event.target.closest && event.target.closest("[data-sortable] > li");
    if (!item) return;
    var sibling = event.key === "ArrowUp" ? item.previousElementSibling : item.nextElementSibling;
    if (!sibling) return;
    event.preventDefault();
    item.parentNode.insertBefore(item, event.key === "ArrowUp" ? sibling : sibling.nextSibling);
    event.target.focus();
    htmx.trigger(item.parentNode, "reordered");
  });

  // The theme choice of the Settings page applies at once (it is saved by its form).
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-theme-choice]")) {
      document.documentElement.dataset.theme = event.target.value;
    }
  });

  window.pipulate = { pageToken: pageToken, pageProfile: pageProfile, showFlash: showFlash };
})();

// Chat and the page socket: what the user typed is never lost (the box empties only once the
// server accepted the message), the connection state is visible, replies and the profile follow
// what other tabs do, and the buttons inside messages (Copy, Regenerate, Retry, Edit) work.
(function () {
  "use strict";
  var sentText = null;
  var opened = false;
  var following = true;
  var lastSignal = null;
  var helloProfile = null;

  // Reconnect soon after the server comes back (htmx's default waits up to a minute).
  htmx.config.wsReconnectDelay = function (retries) { return Math.min(250 * (retries + 1), 2000); };

  function box() { return document.querySelector("#chat-form textarea"); }
  function state() { var s = document.getElementById("chat-state"); return s ? s.dataset.state : "idle"; }
  function connected() { return document.documentElement.dataset.socket === "open"; }
  function note(text) {
    var line = document.getElementById("chat-note");
    if (!line) return;
    line.textContent = text;
    if (text) line.setAttribute("role", "alert"); else line.removeAttribute("role");
    line.removeAttribute("data-accepted");
  }
  function act(action, fields) {
    var form = document.getElementById("chat-act");
    if (!form) return;
    form.elements.action.value = action;
    form.elements.message_id.value = (fields && fields.message_id) || "";
    form.elements.again.value = (fields && fields.again) ? "1" : "";
    form.elements.page.value = window.pipulate.pageToken;
    htmx.trigger(form, "submit");
  }
  function hello(again) { helloProfile = window.pipulate.pageProfile(); act("hello", { again: again }); }

  // Enter sends (Shift+Enter makes a new line); Escape leaves editing.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!target.matches || !target.matches("#chat-form textarea")) return;
    if (event.key === "Escape" && document.getElementById("chat-edit").value) { stopEditing(true); return; }
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    if (target.value.trim()) htmx.trigger(target.form, "submit");
  });
  // A message is sent only when it can be answered; otherwise the box keeps it and says why.
  document.addEventListener("submit", function (event) {
    if (!event.target.matches || !event.target.matches("#chat-form")) return;
    var reason = null;
    if (!box().value.trim()) reason = "";
    else if (!connected()) reason = "Not connected to the app: your message is kept here; send it once the connection is back.";
    else if (state() === "streaming") reason = "A reply is still coming: wait for it, or press Stop. Your message is kept here.";
    if (reason === null) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    if (reason) note(reason);
  }, true);
  document.addEventListener("htmx:wsConfigSend", function (event) {
    if (event.detail.elt && event.detail.elt.id === "chat-form") sentText = box().value;
  });

  // Editing the last message: its text goes back into the box; Send replaces it and its reply.
  function stopEditing(restore) {
    var edit = document.getElementById("chat-edit");
    if (edit) edit.value = "";
    document.documentElement.removeAttribute("data-chat-editing");
    if (restore) { box().value = ""; note(""); }
  }

  function copyText(text, button) {
    var done = function () { button.dataset.copied = "1"; setTimeout(function () { delete button.dataset.copied; }, 1500); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else { fallbackCopy(text); done(); }
  }
  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-chat-action]");
    if (!button) return;
    var action = button.getAttribute("data-chat-action");
    var message = button.closest(".msg");
    if (action === "dismiss") { button.closest("#chat-activity").hidden = true; return; }
    if (action === "copy-code") { copyText(button.closest(".code-block").querySelector("pre").innerText, button); return; }
    if (!message) return;
    if (action === "copy") { copyText(message.dataset.source || message.innerText, button); return; }
    if (!message.dataset.id) return;  // not stored (its profile is gone): nothing to act on
    if (action === "regenerate" || action === "retry") {
      if (state() === "streaming") { note("A reply is still coming: wait for it, or press Stop."); return; }
      act("regenerate", { message_id: message.dataset.id });
    } else if (action === "edit") {
      var area = box();
      area.value = message.dataset.source || "";
      document.getElementById("chat-edit").value = message.dataset.id;
      document.documentElement.dataset.chatEditing = "1";
      note("Editing your last message: Send replaces it and its reply (Escape cancels).");
      area.focus();
    }
  });

  // The conversation follows new messages unless the reader has scrolled up.
  document.addEventListener("scroll", function (event) {
    var messages = event.target;
    if (messages && messages.id === "chat-messages") following = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 40;
  }, true);
  function follow() {
    var messages = document.getElementById("chat-messages");
    if (messages && following) messages.scrollTop = messages.scrollHeight;
  }
  document.addEventListener("htmx:oobAfterSwap", function () {
    follow();
    // New entries swapped into the model picker: show the one marked selected (a swap that
    // keeps the old entry while inserting leaves the browser's choice elsewhere).
    var picker = document.getElementById("chat-model");
    var chosen = picker && picker.querySelector("option[selected]");
    if (chosen && picker.value !== chosen.value) picker.value = chosen.value;
  });

  document.addEventListener("htmx:wsAfterMessage", function () {
    follow();
    // The server accepted the message sent from the box: empty it (unless typed on since).
    var line = document.getElementById("chat-note");
    if (line && line.hasAttribute("data-accepted")) {
      line.removeAttribute("data-accepted");
      var area = box();
      if (area && sentText !== null && area.value === sentText) area.value = "";
      sentText = null;
      stopEditing(false);
    }
    var signal = document.getElementById("page-signal");
    if (signal && signal.dataset.n && signal.dataset.n !== lastSignal) {
      lastSignal = signal.dataset.n;
      onSignal(signal.dataset);
    }
  });

  // What the server asks of open pages (Core.signal_pages).
  function onSignal(data) {
    if (data.signal === "models" && document.getElementById("chat-model-status")) {
      htmx.ajax("GET", "/chat/status", { source: "#chat-model-status", swap: "none" });
    } else if (data.signal === "profile" && data.to && data.to !== window.pipulate.pageProfile()) {
      // Another tab switched the profile this page showed: follow it.
      document.getElementById("profile-switcher").setAttribute("data-profile-id", data.to);
      htmx.ajax("GET", "/profiles/redraw", { target: "#app-panel", swap: "innerHTML" });
    }
  }

  // The page says which profile it shows whenever that changes, so replies and news reach it.
  document.addEventListener("htmx:afterSettle", function () {
    var switcher = document.getElementById("profile-switcher");
    if (switcher && switcher.dataset.theme) document.documentElement.dataset.theme = switcher.dataset.theme;
    if (connected() && helloProfile !== null && window.pipulate.pageProfile() !== helloProfile) hello(false);
  });

  // The connection: a banner while it is down, and a fresh look at everything when it is back.
  function banner(show) {
    var element = document.getElementById("connection-banner");
    if (element) element.hidden = !show;
  }
  document.addEventListener("htmx:wsOpen", function () {
    document.documentElement.dataset.socket = "open";
    banner(false);
    note("");
    hello(opened);  // after a gap, the conversation as it is now
    if (opened) onSignal({ signal: "models" });
    opened = true;
    follow();
  });
  document.addEventListener("htmx:wsClose", function () {
    document.documentElement.dataset.socket = "closed";
    banner(true);
  });
})();
