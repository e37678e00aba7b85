/* 新增 for repeatable rows: clone the formset's empty form without a round trip.
 * Without JavaScript the 新增 button posts and the server adds the row.
 * 移除此条 on a row added here ticks its 删除 box and hides it, so the row
 * numbering the server expects stays intact. */
(function () {
  "use strict";
  function addRow(prefix) {
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var maxNum = document.getElementById("id_" + prefix + "-MAX_NUM_FORMS");
    var template = document.getElementById(prefix + "-template");
    var rows = document.querySelector('[data-formset="' + prefix + '"]');
    if (!total || !template || !rows) { return false; }
    var index = parseInt(total.value, 10) || 0;
    if (maxNum && index >= parseInt(maxNum.value, 10)) { return true; }
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
    var row = holder.firstElementChild;
    var empty = rows.querySelector(".formset-empty");
    if (empty) { empty.remove(); }
    var number = row.querySelector("[data-row-number]");
    if (number) { number.textContent = String(rows.querySelectorAll(".formset-row:not([hidden])").length + 1); }
    var deleteBox = row.querySelector('input[name$="-DELETE"]');
    if (deleteBox) { deleteBox.closest(".mb-3, .form-check").hidden = true; }
    row.querySelector("[data-remove-row]").addEventListener("click", function () {
      if (deleteBox) { deleteBox.checked = true; }
      row.hidden = true;
    });
    rows.appendChild(row);
    total.value = String(index + 1);
    var first = row.querySelector("input, select, textarea");
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
