/* 新增 for repeatable rows: clone the formset's empty form without a round trip.
 * Without JavaScript the 新增 button posts and the server adds the row. */
(function () {
  "use strict";
  function addRow(prefix) {
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var template = document.getElementById(prefix + "-template");
    var rows = document.querySelector('[data-formset="' + prefix + '"]');
    if (!total || !template || !rows) { return false; }
    var index = parseInt(total.value, 10) || 0;
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var empty = rows.querySelector(".formset-empty");
    if (empty) { empty.remove(); }
    while (holder.firstElementChild) { rows.appendChild(holder.firstElementChild); }
    total.value = String(index + 1);
    var added = rows.lastElementChild;
    var first = added && added.querySelector("input, select, textarea");
    if (first) { first.focus(); }
    return true;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("[data-add-row]");
    for (var i = 0; i < buttons.length; i += 1) {
      buttons[i].addEventListener("click", function (event) {
        if (addRow(event.currentTarget.getAttribute("data-add-row"))) { event.preventDefault(); }
      });
    }
  });
}());
