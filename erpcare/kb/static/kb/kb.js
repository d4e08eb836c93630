// Knowledge base: small behaviours on top of server-rendered pages (no third-party code).
// Everything here is optional: without JavaScript the forms still work.
(function () {
  "use strict";

  // Insert text at the cursor of a textarea (or at its end) and tell listeners.
  function insertAt(textarea, text) {
    var start = textarea.selectionStart != null ? textarea.selectionStart : textarea.value.length;
    var end = textarea.selectionEnd != null ? textarea.selectionEnd : start;
    var before = textarea.value.slice(0, start);
    var after = textarea.value.slice(end);
    var gap = before && !/\n\n$/.test(before) ? (/\n$/.test(before) ? "\n" : "\n\n") : "";
    textarea.value = before + gap + text + after;
    var caret = (before + gap + text).length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // The editor's Markdown fields: image/file buttons write into the last one focused.
  var lastMarkdownField = null;
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-kb-markdown]")) {
      lastMarkdownField = event.target;
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-kb-insert], [data-kb-insert-markdown]") : null;
    if (!button) return;
    var target;
    var text;
    if (button.hasAttribute("data-kb-insert")) {
      target = document.querySelector(button.getAttribute("data-kb-target") || "#comment_body");
      text = button.getAttribute("data-kb-insert");
    } else {
      target = lastMarkdownField || document.querySelector("textarea[data-kb-markdown]");
      text = button.getAttribute("data-kb-insert-markdown");
    }
    if (!target) return;
    event.preventDefault();
    insertAt(target, text);
  });

  // The editor: case fields only for troubleshooting cases, the customer only for
  // articles for one customer.
  function toggle(root) {
    var type = root.querySelector("[data-kb-type-select]");
    var visibility = root.querySelector("[data-kb-visibility-select]");
    root.querySelectorAll("[data-kb-case-only]").forEach(function (el) {
      var hasValue = Array.prototype.some.call(el.querySelectorAll("textarea"), function (t) { return t.value.trim() !== ""; });
      el.hidden = !!type && type.value !== "case" && !hasValue;
    });
    root.querySelectorAll("[data-kb-customer-only]").forEach(function (el) {
      el.hidden = !!visibility && visibility.value !== "customer";
    });
  }
  function init() {
    var form = document.getElementById("article-form");
    if (!form) return;
    toggle(form);
    form.addEventListener("change", function (event) {
      if (event.target.matches("[data-kb-type-select], [data-kb-visibility-select]")) toggle(form);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
