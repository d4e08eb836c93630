// The data source form shows only the fields the chosen kind uses (each input names its
// kinds in data-kinds); the server ignores the others anyway.
(function () {
  "use strict";
  const kind = document.getElementById("source_kind");
  if (!kind) return;
  function sync() {
    document.querySelectorAll("[data-kinds]").forEach(function (input) {
      const box = input.closest(".source-field");
      if (box) box.hidden = !input.dataset.kinds.split(" ").includes(kind.value);
    });
  }
  kind.addEventListener("change", sync);
  sync();
})();
