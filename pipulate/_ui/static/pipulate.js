// Pipulate's page behaviour. Loaded as a file so the Content-Security-Policy can forbid inline script.
(function () {
  "use strict";

  // Every request says which profile this page shows (the switcher's data-profile-id, redrawn
  // whenever the page changes profile), on htmx requests and on the page socket's frames alike.
  function pageProfile() {
    var switcher = document.getElementById("profile-switcher");
    return switcher ? switcher.getAttribute("data-profile-id") : null;
  }
  function addProfileHeader(event) {
    var id = pageProfile();
    if (id) event.detail.headers["X-Pipulate-Profile"] = id;
  }
  document.addEventListener("htmx:configRequest", addProfileHeader);
  document.addEventListener("htmx:wsConfigSend", addProfileHeader);

  // A new action clears the previous message.
  document.addEventListener("htmx:beforeRequest", function () {
    var flash = document.getElementById("flash");
    if (flash) flash.replaceChildren();
  });

  // Forms marked data-reset-on-success empty themselves once the server accepted them.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.matches && form.matches("form[data-reset-on-success]") && event.detail.successful) {
      form.reset();
      var first = form.querySelector("input:not([type=hidden])");
      if (first) first.focus();
    }
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
})();

// Chat: Enter sends (Shift+Enter makes a new line), the box empties once the frame is sent, and
// the conversation follows new messages unless the reader has scrolled up.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    var box = event.target;
    if (!box.matches || !box.matches("#chat-form textarea")) return;
    event.preventDefault();
    if (box.value.trim()) htmx.trigger(box.form, "submit");
  });
  document.addEventListener("htmx:wsAfterSend", function (event) {
    var form = event.detail.elt;
    if (form && form.id === "chat-form") form.reset();
  });
  var following = true;
  document.addEventListener("scroll", function (event) {
    var box = event.target;
    if (box && box.id === "chat-messages") following = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  }, true);
  function follow() {
    var box = document.getElementById("chat-messages");
    if (box && following) box.scrollTop = box.scrollHeight;
  }
  document.addEventListener("htmx:oobAfterSwap", follow);
  document.addEventListener("htmx:wsAfterMessage", follow);
  document.addEventListener("htmx:wsOpen", function () { document.documentElement.dataset.socket = "open"; follow(); });
  document.addEventListener("htmx:wsClose", function () { document.documentElement.dataset.socket = "closed"; });
})();
