// Visit entry: add and remove service rows; the form's htmx trigger refreshes the live claim.
// No inline scripts anywhere (the Content-Security-Policy forbids them).
(function () {
  "use strict";

  function rowsChanged(form) {
    form.dispatchEvent(new Event("rows-changed", { bubbles: true }));
  }

  function addRow(form) {
    var list = form.querySelector("#services");
    var template = form.querySelector("#service-row-template");
    if (!list || !template) return;
    var row = template.content.firstElementChild.cloneNode(true);
    list.appendChild(row);
    var code = row.querySelector("select[name=code]");
    if (code) code.focus();
    rowsChanged(form);
  }

  function removeRow(button) {
    var form = button.closest("form");
    var row = button.closest("[data-service-row]");
    var list = form && form.querySelector("#services");
    if (!row || !list) return;
    if (list.querySelectorAll("[data-service-row]").length > 1) {
      row.remove();
    } else {
      row.querySelectorAll("input").forEach(function (i) { i.value = ""; });
      row.querySelectorAll("select").forEach(function (s) { s.selectedIndex = 0; });
    }
    rowsChanged(form);
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var add = target.closest("[data-add-row]");
    if (add) { addRow(add.closest("form")); return; }
    var remove = target.closest("[data-remove-row]");
    if (remove) removeRow(remove);
  });

  // Enter in a field must not save the visit as a draft (the form's first submit button).
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && target instanceof HTMLInputElement &&
        target.form && target.form.id === "visit-form") {
      event.preventDefault();
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var preview = document.getElementById("preview");
    if (preview && event.detail.target === preview) preview.setAttribute("aria-busy", "true");
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var preview = document.getElementById("preview");
    if (preview && event.detail.target === preview) preview.setAttribute("aria-busy", "false");
  });
})();

// Bulk selection: a "select all" box and a live count, for every form with row checkboxes.
(function () {
  "use strict";
  function boxes(form) {
    return Array.prototype.slice.call(form.querySelectorAll("input[type=checkbox]:not([data-select-all])"));
  }
  function update(form) {
    var n = boxes(form).filter(function (b) { return b.checked; }).length;
    form.querySelectorAll("[data-selected-count]").forEach(function (el) { el.textContent = String(n); });
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLInputElement) || target.type !== "checkbox" || !target.form) return;
    if (target.hasAttribute("data-select-all")) {
      boxes(target.form).forEach(function (b) { b.checked = target.checked; });
    }
    update(target.form);
  });
})();
