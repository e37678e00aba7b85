/* 工作信息: county choices follow the chosen prefecture (市州 → 县区), and the
 * fields that depend on 在岗状态 / 省本级 are shown only when they apply.
 * Without JavaScript every field shows and the server checks the combination. */
(function () {
  "use strict";
  var PROVINCIAL = "省本级";

  function selectedText(select) {
    var option = select.options[select.selectedIndex];
    return option && option.value ? option.text : "";
  }

  function toggle(el, show) { if (el) { el.hidden = !show; } }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("work-form");
    if (!form) { return; }
    var prefecture = form.querySelector("#id_prefecture");
    var county = form.querySelector("#id_county");
    var original = county ? county.cloneNode(true) : null;

    function refreshCounties() {
      if (!county || !original) { return; }
      var name = selectedText(prefecture);
      var keep = county.value;
      county.innerHTML = "";
      county.appendChild(original.options[0].cloneNode(true));
      var groups = original.querySelectorAll("optgroup");
      for (var i = 0; i < groups.length; i += 1) {
        if (groups[i].label === name) {
          var options = groups[i].querySelectorAll("option");
          for (var j = 0; j < options.length; j += 1) { county.appendChild(options[j].cloneNode(true)); }
        }
      }
      county.value = keep;
      if (county.value !== keep) { county.value = ""; }
      toggle(form.querySelector("[data-county-wrapper]"), name !== "" && name !== PROVINCIAL);
      toggle(form.querySelector("[data-provincial]"), name === PROVINCIAL);
    }

    function refreshStatus() {
      var checked = form.querySelector("input[name=employment_status]:checked");
      var status = checked ? checked.value : "";
      toggle(form.querySelector("[data-employed]"), status === "accounting" || status === "non_accounting");
      toggle(form.querySelector("[data-student]"), status === "student");
    }

    prefecture.addEventListener("change", refreshCounties);
    var radios = form.querySelectorAll("input[name=employment_status]");
    for (var k = 0; k < radios.length; k += 1) { radios[k].addEventListener("change", refreshStatus); }
    refreshCounties();
    refreshStatus();
  });
}());
